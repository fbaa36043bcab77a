"""``flows.fit``: the maximum-likelihood fit through ``papershelf.train`` gives the weights of
the plain Adam loop it replaced; bad data and a non-finite loss are one clear line."""

from __future__ import annotations

import flows
import pytest
import torch
from flows.fitting import fit, mean_nll
from papershelf.errors import UserError


def _plain_adam_loop(flow, data, steps, batch_size, lr, df_lr_mult, max_grad_norm, seed):
    """The loop ``flows.fit`` ran before it went through ``papershelf.train`` (the oracle)."""
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(flow.param_groups(lr, df_lr_mult))
    flow.train()
    losses = []
    n = data.shape[0]
    for _ in range(steps):
        idx = torch.randint(0, n, (min(batch_size, n),), generator=gen)
        loss = -flow().log_prob(data[idx]).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if max_grad_norm is not None:
            torch.nn.utils.clip_grad_norm_(flow.parameters(), max_grad_norm)
        opt.step()
        losses.append(loss.item())
    flow.eval()
    return losses


@pytest.mark.parametrize("max_grad_norm", [5.0, None])
def test_fit_matches_the_plain_adam_loop_exactly(max_grad_norm):
    data = torch.randn(100, 2, generator=torch.Generator().manual_seed(3)) * 2
    flows_ = []
    for _ in range(2):
        torch.manual_seed(0)
        flows_.append(flows.TAF(2, transforms=2, hidden=(8,)))
    opts = dict(steps=25, batch_size=32, lr=1e-2, df_lr_mult=10.0, max_grad_norm=max_grad_norm)
    result = fit(flows_[0], data, seed=7, **opts)
    losses = _plain_adam_loop(flows_[1], data, seed=7, **opts)
    assert result.steps == 25 and result.losses == losses
    theirs = flows_[1].state_dict()
    for name, ours in flows_[0].state_dict().items():
        assert torch.equal(ours, theirs[name]), name
    assert not flows_[0].training
    assert mean_nll(flows_[0], data) == mean_nll(flows_[1], data)


def test_dimension_mismatch_refused():
    with pytest.raises(UserError, match="data: expected"):
        flows.fit(flows.MAF(3), torch.randn(10, 2), steps=1)
    with pytest.raises(UserError, match="steps/batch_size/lr: must be positive"):
        flows.fit(flows.MAF(2), torch.randn(10, 2), steps=0)


def test_non_finite_loss_stops_with_step(monkeypatch):
    flow = flows.MAF(2, transforms=1, hidden=(4,))
    data = torch.full((16, 2), float("nan"))
    with pytest.raises(UserError, match="at step 1; try a lower --lr"):
        flows.fit(flow, data, steps=3, batch_size=8)
