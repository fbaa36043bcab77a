"""KronALinear and KronABlock against explicit formulas."""

from __future__ import annotations

import pytest
import torch
from krona.errors import KronAError
from krona.layer import KronABlock, KronALinear
from krona.naive import naive_kron_linear
from torch import nn


def _linear(d_out=12, d_in=20, seed=0, dtype=torch.float32):
    torch.manual_seed(seed)
    return nn.Linear(d_in, d_out).to(dtype)


def _randomise(layer, seed=1):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        layer.krona_A.copy_(torch.randn(layer.krona_A.shape, generator=g))
        layer.krona_B.copy_(torch.randn(layer.krona_B.shape, generator=g))


def test_forward_is_base_plus_scaled_kron():
    base = _linear()
    layer = KronALinear(base, ((3, 4), (4, 5)), scale=2.5)
    _randomise(layer)
    x = torch.randn(2, 7, 20)
    expected = base(x) + 2.5 * naive_kron_linear(x, layer.krona_A, layer.krona_B)
    torch.testing.assert_close(layer(x), expected, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(layer.delta_weight(), 2.5 * torch.kron(layer.krona_A, layer.krona_B))


@pytest.mark.parametrize("init", ["zero_A", "zero_B"])
def test_zero_init_equals_base_and_zero_factor_gets_the_gradient(init):
    base = _linear()
    layer = KronALinear(base, ((3, 4), (4, 5)), init=init)
    x = torch.randn(6, 20)
    assert torch.equal(layer(x), base(x))
    layer(x).pow(2).sum().backward()
    zero, other = (
        (layer.krona_A, layer.krona_B) if init == "zero_A" else (layer.krona_B, layer.krona_A)
    )
    assert torch.count_nonzero(zero.detach()) == 0 and torch.count_nonzero(other.detach()) > 0
    assert zero.grad.abs().sum() > 0
    assert torch.count_nonzero(other.grad) == 0
    assert base.weight.grad is None


def test_merge_equals_unmerged_and_unmerge_restores():
    base = _linear()
    w0 = base.weight.detach().clone()
    layer = KronALinear(base, ((3, 4), (4, 5)), scale=0.7)
    _randomise(layer)
    x = torch.randn(9, 20)
    unmerged = layer(x)
    layer.merge()
    assert layer.merged
    torch.testing.assert_close(layer(x), unmerged, atol=1e-5, rtol=0)
    torch.testing.assert_close(base.weight, w0 + 0.7 * torch.kron(layer.krona_A, layer.krona_B))
    layer.unmerge()
    torch.testing.assert_close(base.weight, w0, atol=1e-6, rtol=0)


def test_bf16_forward_close_to_fp32():
    base = _linear(dtype=torch.float32)
    layer = KronALinear(base, ((3, 4), (4, 5)))
    _randomise(layer)
    x = torch.randn(4, 20)
    ref = layer(x)
    layer16 = layer.to(torch.bfloat16)
    out = layer16(x.to(torch.bfloat16))
    assert out.dtype == torch.bfloat16
    assert ((out.float() - ref).norm() / ref.norm()) < 1e-2


def test_shape_mismatch_and_non_linear_refused():
    with pytest.raises(KronAError, match=r"A=3x3, B=4x5 give \(12, 15\).*\(12, 20\)"):
        KronALinear(_linear(), ((3, 3), (4, 5)))
    with pytest.raises(KronAError, match=r"nn\.Linear"):
        KronALinear(nn.Conv1d(2, 2, 1), ((1, 1), (2, 2)))  # type: ignore[arg-type]


class _FFN(nn.Module):
    def __init__(self, d=12):
        super().__init__()
        self.up, self.down = nn.Linear(d, 3 * d), nn.Linear(3 * d, d)

    def forward(self, x):
        return self.down(torch.relu(self.up(x)))


def test_block_variants_at_step_zero_and_with_weights():
    torch.manual_seed(0)
    ffn = _FFN()
    x = torch.randn(3, 5, 12)
    block = KronABlock(ffn, 12, ((3, 3), (4, 4)), scale=2.0)
    assert torch.equal(block(x), ffn(x))
    res = KronABlock(ffn, 12, ((3, 3), (4, 4)), scale=2.0, res_scale=0.5)
    torch.testing.assert_close(res(x), ffn(x) + 0.5 * x, atol=0, rtol=0)
    _randomise(res)
    torch.testing.assert_close(
        res(x),
        ffn(x) + 2.0 * naive_kron_linear(x, res.krona_A, res.krona_B) + 0.5 * x,
        atol=1e-5,
        rtol=1e-5,
    )
    zero_res = KronABlock(ffn, 12, ((3, 3), (4, 4)), res_scale=0.0)
    _randomise(zero_res)
    block_same = KronABlock(ffn, 12, ((3, 3), (4, 4)))
    block_same.load_state_dict({k: v for k, v in zero_res.state_dict().items() if k != "res_scale"})
    torch.testing.assert_close(zero_res(x), block_same(x))  # s_res = 0 reduces block_res to block


def test_block_merge_raises_and_trainable_res_scale():
    block = KronABlock(_FFN(), 12, ((3, 3), (4, 4)), res_scale=1.0, res_scale_trainable=True)
    with pytest.raises(
        KronAError, match="cannot be merged: the FFN between input and output is nonlinear"
    ):
        block.merge()
    assert isinstance(block.res_scale, nn.Parameter)
    with pytest.raises(KronAError, match=r"\(12, 12\)"):
        KronABlock(_FFN(), 12, ((3, 4), (4, 4)))


def test_tap_mode_equals_wrap_mode():
    torch.manual_seed(0)
    ffn = _FFN()
    wrap = KronABlock(ffn, 12, ((3, 3), (4, 4)), scale=1.5, res_scale=0.3)
    _randomise(wrap)
    tap = KronABlock(None, 12, ((3, 3), (4, 4)), scale=1.5, res_scale=0.3)
    tap.load_state_dict(wrap.state_dict(), strict=False)
    x = torch.randn(4, 12)
    with torch.no_grad():
        plain = ffn(x).clone()  # the FFN alone, before any tap: an independent reference
        expected = wrap(x)
    assert not torch.allclose(expected, plain)  # the adapter changes the output
    tap.attach(ffn.up, ffn.down)
    torch.testing.assert_close(ffn(x), expected)
    tap.detach()
    # detached: the FFN computes exactly what it did before attach (no hook left behind)
    assert torch.equal(ffn(x), plain)
    assert not ffn.up._forward_pre_hooks and not ffn.down._forward_hooks
