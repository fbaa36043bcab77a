import pytest
import torch
from dyngraph_survey_models.decoders import IntensityDecoder, LinkDecoder
from papershelf.errors import UserError


def test_link_decoders():
    zu, zv = torch.randn(4, 6), torch.randn(4, 6)
    for kind in ("mlp", "hadamard", "dot"):
        assert LinkDecoder(kind, 6)(zu, zv).shape == (4,)
    assert torch.allclose(LinkDecoder("dot", 6)(zu, zv), (zu * zv).sum(-1))
    with pytest.raises(UserError, match="decoder"):
        LinkDecoder("cosine", 6)


def test_intensity_decoder():
    dec = IntensityDecoder(3)
    z = torch.zeros(50, 3)
    assert (dec.intensity(torch.randn(5, 3), torch.randn(5, 3)) > 0).all()
    dt = (
        torch.distributions.Exponential(0.25)
        .sample(
            (50,),
        )
        .abs()
        + 0.01
    )
    opt = torch.optim.Adam(dec.parameters(), lr=0.05)
    for _ in range(600):
        opt.zero_grad()
        dec.nll(z, z, dt).mean().backward()
        opt.step()
    lam = float(dec.intensity(z[:1], z[:1]))
    assert lam == pytest.approx(1 / float(dt.mean()), rel=0.02)  # MLE of an exponential
    assert float(dec.expected_dt(z[:1], z[:1])) == pytest.approx(float(dt.mean()), rel=0.02)
    small = IntensityDecoder(2, psi=1e-3)
    g = small._g(torch.ones(1, 2), torch.ones(1, 2))
    assert float(small.intensity(torch.ones(1, 2), torch.ones(1, 2))) == pytest.approx(
        max(float(g), 0.0), abs=1e-2
    )
