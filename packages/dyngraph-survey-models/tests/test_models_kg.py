import pytest
import torch
from dyngraph_survey_models.models.kg import DESimplE, SimplE, TTransE


def test_desimple_gamma0_is_simple_formula():
    m = DESimplE(6, 2, 10, dim=8, gamma=0.0)
    s, r, o = torch.tensor([0, 1]), torch.tensor([1, 0]), torch.tensor([2, 3])
    for t in (torch.tensor([0, 0]), torch.tensor([7, 3])):
        want = 0.5 * (
            (m.a_head[s] * m.rel[r] * m.a_tail[o]).sum(-1)
            + (m.a_head[o] * m.rel_inv[r] * m.a_tail[s]).sum(-1)
        )
        assert torch.allclose(m.score(s, r, o, t), want, atol=1e-6)
    assert SimplE(6, 2, dim=8).k_time == 0


@pytest.mark.parametrize(
    "make", [lambda: DESimplE(7, 3, 5, dim=8), lambda: TTransE(7, 3, 5, dim=8)]
)
def test_score_all_matches_score(make):
    m = make()
    s, r, t = torch.tensor([0, 4]), torch.tensor([2, 1]), torch.tensor([3, 1])
    all_t = m.score_all_tails(s, r, t)
    all_h = m.score_all_heads(r, s, t)
    for e in range(7):
        ee = torch.full((2,), e)
        assert torch.allclose(all_t[:, e], m.score(s, r, ee, t), atol=1e-5)
        assert torch.allclose(all_h[:, e], m.score(ee, r, s, t), atol=1e-5)


def test_desimple_is_time_dependent():
    m = DESimplE(5, 1, 10, dim=8, gamma=0.5)
    one = torch.tensor([0])
    assert not torch.allclose(
        m.score(one, one * 0, one + 1, torch.tensor([1])),
        m.score(one, one * 0, one + 1, torch.tensor([6])),
    )
