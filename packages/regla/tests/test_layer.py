"""The ReGLA layer: forms agree, streaming == full forward, the safe-exp shift cancels, padding, causality."""

import pytest
import torch
from papershelf.errors import UserError
from regla.config import ReGLAConfig
from regla.layer import ReGLAAttention, ReGLAState, SoftmaxAttention


def _layer(**kw):
    torch.manual_seed(0)
    cfg = ReGLAConfig(**{"hidden_size": 16, "num_heads": 2, "chunk_size": 8, **kw})
    return ReGLAAttention(cfg).double().eval()


def _x(T=23, B=2, seed=1):
    return torch.randn(B, T, 16, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


@pytest.mark.parametrize("gate", ["refine", "sigmoid", "scalar", "none"])
@pytest.mark.parametrize("norm", ["rmsnorm", "denominator"])
def test_modes_agree_for_every_gate(gate, norm):
    x = _x()
    outs = [
        _layer(gate=gate, norm=norm, mode=m, gate_bias_init=2.0)(x)[0]
        for m in ("chunk", "recurrent", "parallel")
    ]
    assert torch.allclose(outs[0], outs[1], rtol=1e-10, atol=1e-12)
    assert torch.allclose(outs[0], outs[2], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("fm", ["safe_exp", "relu"])
def test_token_by_token_decoding_equals_the_full_forward(fm):
    layer = _layer(feature_map=fm, norm_eps=0.0 if fm == "safe_exp" else 1e-5)
    x = _x(T=17)
    full, _ = layer(x)
    state, outs = None, []
    for t in range(17):
        y, state = layer(x[:, t : t + 1], state=state, use_cache=True)
        outs.append(y)
    # safe-exp: running key max with state rescaling; exact up to rounding with eps = 0
    assert torch.allclose(torch.cat(outs, 1), full, rtol=1e-9, atol=1e-11)
    y1, s1 = layer(x[:, :9], use_cache=True)
    y2, _ = layer(x[:, 9:], state=s1, use_cache=True)
    assert torch.allclose(torch.cat([y1, y2], 1), full, rtol=1e-9, atol=1e-11)


def test_key_max_shift_cancels_under_the_per_head_norm_only():
    x = _x()
    for scope, same in (("head", True), ("full", False)):
        layer = _layer(norm_eps=0.0, norm_scope=scope)
        y0, _ = layer(x)
        # a zero state whose running key max is larger for head 0 only: phi_k of head 0 is
        # scaled by a per-(batch, head) constant
        kmax = torch.tensor([20.0, -1e9], dtype=torch.float64).view(1, 1, 2, 1).expand(2, 1, 2, 1)
        state = ReGLAState(torch.zeros(2, 2, 8, 8, dtype=torch.float64), kmax, 0)
        y1, _ = layer(x, state=state)
        assert torch.allclose(y0, y1, rtol=1e-9, atol=1e-12) is same
    a, b = (
        _layer(variance_scale="score", norm_eps=0.0)(x)[0],
        _layer(variance_scale="none", norm_eps=0.0)(x)[0],
    )
    assert torch.allclose(a, b, rtol=1e-10, atol=1e-12)  # the scale alpha is a no-op under the norm


def test_causality_with_token_key_max_is_exact():
    layer = _layer(key_max="token")
    x = _x(T=20)
    x2 = x.clone()
    x2[:, 12:] += 3.0
    assert torch.equal(layer(x)[0][:, :12], layer(x2)[0][:, :12])


def test_padding_does_not_change_the_state():
    layer = _layer()
    x = _x(T=10, B=1)
    noise = torch.randn(1, 4, 16, dtype=torch.float64)
    padded = torch.cat(
        [x[:, :5], noise, x[:, 5:]], 1
    )  # padding in the middle: state must not decay
    mask = torch.tensor([[1] * 5 + [0] * 4 + [1] * 5])
    y_pad, s_pad = layer(padded, mask, use_cache=True)
    y, s = layer(x, use_cache=True)
    keep = mask[0].bool()
    assert torch.allclose(y_pad[:, keep], y, rtol=1e-10, atol=1e-12)
    assert torch.allclose(s_pad.S, s.S, rtol=1e-10, atol=1e-12)


def test_parameter_count_is_gla_plus_the_refine_projection():
    refine, gla = _layer(gate="refine"), _layer(gate="sigmoid")
    n = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert n(refine) - n(gla) == 16 * 16 + 16  # W_r (D x H dk) and b_r


def test_bad_inputs():
    with pytest.raises(UserError, match="num_heads"):
        ReGLAConfig(hidden_size=10, num_heads=3)
    with pytest.raises(UserError, match="attention_mask"):
        _layer()(_x(), torch.ones(2, 1, 23, 23))
    with pytest.raises(UserError, match="hidden_states"):
        _layer()(torch.zeros(2, 3, 5, dtype=torch.float64))
    with pytest.raises(UserError, match="num_heads"):
        SoftmaxAttention(10, 3)


def test_softmax_kv_cache_decoding_matches_full_forward():
    torch.manual_seed(0)
    att = SoftmaxAttention(16, 2).double()
    x = _x(T=9)
    full, _ = att(x)
    state, outs = None, []
    for t in range(9):
        y, state = att(x[:, t : t + 1], state=state, use_cache=True)
        outs.append(y)
    assert torch.allclose(torch.cat(outs, 1), full, rtol=1e-10, atol=1e-12)
