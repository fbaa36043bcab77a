"""The contract every layer obeys (float64, fixed seed): shapes, invertibility, ladj against
the autograd Jacobian, gradients, save/load, float32 agreement."""

from __future__ import annotations

import pytest
import torch
from flows.testing import layer_cases, make_layer
from safetensors.torch import load_file, save_file

ATOL = {"Planar": 1e-6, "Residual": 1e-6, "GResidual-C4": 1e-6}


def _x(d: int, n: int = 6) -> torch.Tensor:
    return torch.randn(n, d, generator=torch.Generator().manual_seed(3), dtype=torch.float64) * 1.5


@pytest.mark.parametrize(("name", "factory", "d"), list(layer_cases()))
def test_roundtrip_and_ladj(name, factory, d):
    layer = make_layer(factory, d)
    t = layer()
    z = _x(d)
    x, ladj = t.call_and_ladj(z)
    assert x.shape == z.shape and ladj.shape == z.shape[:-1]
    z_back, ladj_inv = t.inv.call_and_ladj(x)
    atol = ATOL.get(name, 1e-9)
    torch.testing.assert_close(z_back, z, atol=atol, rtol=0)
    torch.testing.assert_close(ladj + ladj_inv, torch.zeros_like(ladj), atol=atol, rtol=0)
    # x -> z -> x too
    x2 = t(t.inv(x))
    torch.testing.assert_close(x2, x, atol=atol, rtol=0)
    # torch.distributions API agrees with call_and_ladj
    torch.testing.assert_close(t.log_abs_det_jacobian(z, x), ladj)


@pytest.mark.parametrize(("name", "factory", "d"), list(layer_cases()))
def test_ladj_matches_autograd_jacobian(name, factory, d):
    layer = make_layer(factory, d)
    t = layer()
    for zi in _x(d, 3):
        jac = torch.autograd.functional.jacobian(lambda v: t(v[None])[0], zi)
        expected = torch.linalg.slogdet(jac).logabsdet
        _, ladj = t.call_and_ladj(zi[None])
        torch.testing.assert_close(ladj[0], expected, atol=1e-6, rtol=1e-6)
        xi = t(zi[None])[0]
        jac_inv = torch.autograd.functional.jacobian(lambda v: t.inv(v[None])[0], xi)
        _, ladj_inv = t.inv.call_and_ladj(xi[None])
        torch.testing.assert_close(
            ladj_inv[0], torch.linalg.slogdet(jac_inv).logabsdet, atol=1e-6, rtol=1e-6
        )


@pytest.mark.parametrize(("name", "factory", "d"), list(layer_cases()))
def test_batch_shapes_and_gradients(name, factory, d):
    layer = make_layer(factory, d)
    layer.train()
    z = torch.randn(2, 3, d, dtype=torch.float64, requires_grad=True)
    x, ladj = layer().inv.call_and_ladj(z)
    assert x.shape == (2, 3, d) and ladj.shape == (2, 3)
    (x.pow(2).sum() + ladj.sum()).backward()
    assert z.grad is not None and torch.isfinite(z.grad).all() and z.grad.abs().sum() > 0
    grads = [p.grad for p in layer.parameters() if p.requires_grad]
    if grads:
        assert any(g is not None and g.abs().sum() > 0 for g in grads)
    # batch elements are independent: the first row alone gives the same result
    layer.eval()
    x_all, _ = layer().inv.call_and_ladj(z.reshape(6, d))
    x_one, _ = layer().inv.call_and_ladj(z.reshape(6, d)[:1])
    torch.testing.assert_close(x_one[0], x_all[0])


@pytest.mark.parametrize(("name", "factory", "d"), list(layer_cases()))
def test_save_load_roundtrip_exact(name, factory, d, tmp_path):
    layer = make_layer(factory, d)
    path = tmp_path / "w.safetensors"
    save_file({k: v.contiguous() for k, v in layer.state_dict().items()}, str(path))
    torch.manual_seed(123)
    other = factory(d).double().eval()
    other.load_state_dict(load_file(str(path)))
    x = _x(d)
    a, la = layer().inv.call_and_ladj(x)
    b, lb = other().inv.call_and_ladj(x)
    assert torch.equal(a, b) and torch.equal(la, lb)


@pytest.mark.parametrize(("name", "factory", "d"), list(layer_cases()))
def test_float32_agrees_with_float64(name, factory, d):
    layer = make_layer(factory, d)
    x = _x(d)
    a, la = layer().inv.call_and_ladj(x)
    layer32 = layer.float()
    b, lb = layer32().inv.call_and_ladj(x.float())
    torch.testing.assert_close(b.double(), a, atol=1e-3, rtol=1e-3)
    torch.testing.assert_close(lb.double(), la, atol=1e-3, rtol=1e-3)
