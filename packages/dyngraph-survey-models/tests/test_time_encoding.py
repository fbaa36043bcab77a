import math

import pytest
import torch
from dyngraph_survey_models.time_encoding import TGATTimeEncoding, make_time_encoder
from papershelf.errors import UserError


def test_tgat_time_encoding_is_translation_invariant():
    enc = TGATTimeEncoding(8)
    t1, t2 = torch.tensor([3.0, 10.0]), torch.tensor([1.0, 8.0])
    dots = (enc(t1) * enc(t2)).sum(-1)
    assert torch.allclose(dots[0], dots[1], atol=1e-6)
    assert torch.allclose(enc(torch.zeros(1))[0], torch.tensor([1.0, 0.0] * 4) / math.sqrt(8))
    assert make_time_encoder("cos-linear", 4)(torch.zeros(3)).shape == (3, 4)
    with pytest.raises(UserError, match="even"):
        TGATTimeEncoding(5)
