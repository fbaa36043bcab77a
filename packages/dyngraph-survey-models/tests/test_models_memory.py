import torch
from dyngraph_survey_models.models import JODIE


def test_jodie_projection_identity_at_zero():
    m = JODIE(5, memory_dim=6)
    s = torch.randn(3, 6)
    assert torch.equal(m.project(s, torch.zeros(3)), s)
    assert not torch.equal(m.project(s, torch.ones(3)), s)
