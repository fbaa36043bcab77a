"""The loss modules: Continuation with m = 0 and a step ψ is Annealing-KD; needs_teacher."""

import pytest
import torch
from continuation_kd.config import AnnealingKDConfig, ContinuationKDConfig, VanillaKDConfig
from continuation_kd.losses import AnnealingKDLoss, ContinuationKDLoss, FineTuneLoss, VanillaKDLoss
from continuation_kd.naive import naive_annealing_loss
from papershelf.distill import kd_loss
from torch.nn import functional as F


def test_continuation_reduces_to_annealing_epoch_by_epoch():
    k1, k2, t_max = 6, 3, 3
    ann = AnnealingKDLoss(AnnealingKDConfig(t_max=t_max, phase1_epochs=k1, phase2_epochs=k2))
    cont = ContinuationKDLoss(
        ContinuationKDConfig(
            t_max=t_max,
            n_epochs=k1 + k2,
            anneal_epochs=k1,
            psi=f"step:{k1}",
            margin=0.0,
            distance="mean",
        )
    )
    gen = torch.Generator().manual_seed(0)
    s, t = (
        torch.randn(5, 4, dtype=torch.float64, generator=gen),
        torch.randn(5, 4, dtype=torch.float64, generator=gen),
    )
    y = torch.tensor([0, 1, 2, 3, 0])
    for epoch in range(1, k1 + k2 + 1):
        ann.set_epoch(epoch)
        cont.set_epoch(epoch)
        a, c = ann(s, y, t), cont(s, y, t)
        torch.testing.assert_close(a, c, rtol=1e-12, atol=1e-12)
        if epoch <= k1:
            assert a.item() == pytest.approx(naive_annealing_loss(s, t, ann.phi, "mean"))
        else:
            assert torch.equal(a, F.cross_entropy(s, y))
        assert ann.needs_teacher == cont.needs_teacher == (epoch <= k1)
    assert ann.restart_epoch == k1 + 1


def test_needs_teacher_false_once_psi_is_one_and_teacher_not_used():
    loss = ContinuationKDLoss(ContinuationKDConfig(t_max=10, n_epochs=30, psi="eq8"))
    loss.set_epoch(20)
    assert loss.needs_teacher
    loss.set_epoch(21)
    assert not loss.needs_teacher
    s, y = torch.randn(3, 4), torch.tensor([0, 1, 2])
    assert torch.equal(loss(s, y, None), F.cross_entropy(s, y))


def test_set_epoch_refuses_outside_1_to_n():
    loss = ContinuationKDLoss(ContinuationKDConfig(t_max=2, n_epochs=4))
    for bad in (0, 5):
        with pytest.raises(ValueError, match="epoch"):
            loss.set_epoch(bad)


def test_vanilla_kd_mixes_ce_and_kd_loss():
    cfg = VanillaKDConfig(tau=2.0, alpha=0.3)
    s, t, y = torch.randn(4, 5), torch.randn(4, 5), torch.tensor([0, 1, 2, 3])
    expected = 0.7 * F.cross_entropy(s, y) + 0.3 * kd_loss(s, t, 2.0)
    torch.testing.assert_close(VanillaKDLoss(cfg)(s, y, t), expected)
    assert not FineTuneLoss().needs_teacher
    with pytest.raises(ValueError, match="teacher_logits"):
        VanillaKDLoss(cfg)(s, y, None)
