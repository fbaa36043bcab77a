"""Step time of Continuation-KD vs vanilla KD vs plain fine-tuning, on the same student,
teacher and batch, over a batch-size axis; the loss alone vs Hinton KD's; and the saving
once ψ = 1 lets the step skip the teacher's forward.

Student MLP 64-16-10 and teacher MLP 64-256-256-10 (the C1 models); the teacher runs
every step (no cache) so the skip is visible. Ratios are to fine-tuning's step
(``step/*``) or to the KD loss (``loss/*``), timed round-robin in the same run.
"""

from __future__ import annotations

from papershelf.bench import BenchReport, compare

__all__ = ["run"]


def run(quick: bool = True) -> BenchReport:
    from continuation_kd.digits import mlp

    sizes = (64, 256) if quick else (64, 256, 1024)
    repeats = 15 if quick else 40
    rows = []
    teacher = mlp((64, 256, 256, 10), 1).eval()
    for batch in sizes:
        rows += _rows(batch, teacher, repeats)
    return BenchReport(
        "Continuation-KD step and loss vs vanilla KD and fine-tuning (MLP 64-16-10 student, "
        "MLP 64-256-256-10 teacher, no logit cache)",
        rows,
        baseline="step/finetune (steps), loss/vanilla-kd (losses)",
        notes=[
            "step/continuation vs step/vanilla-kd: the same teacher forward; the loss differs",
            "step/continuation psi=1 skips the teacher's forward (epochs 21-30 of Eq. 8)",
        ],
    )


def _rows(batch: int, teacher, repeats: int) -> list:
    """Step and loss timings at one batch size."""
    import torch
    from papershelf.distill import kd_loss
    from papershelf.train import training_step
    from torch.nn import functional as F

    from continuation_kd.config import ContinuationKDConfig, VanillaKDConfig
    from continuation_kd.digits import mlp
    from continuation_kd.functional import continuation_loss
    from continuation_kd.losses import ContinuationKDLoss, FineTuneLoss, VanillaKDLoss

    rows = []
    gen = torch.Generator().manual_seed(batch)
    x, y = torch.randn(batch, 64, generator=gen), torch.randint(0, 10, (batch,), generator=gen)
    cont_early = ContinuationKDLoss(ContinuationKDConfig(t_max=10, n_epochs=30, psi="eq8"))
    cont_late = ContinuationKDLoss(ContinuationKDConfig(t_max=10, n_epochs=30, psi="eq8"))
    cont_late.set_epoch(25)  # psi = 1: the teacher is skipped
    losses = {
        "finetune": FineTuneLoss(),
        "vanilla-kd": VanillaKDLoss(VanillaKDConfig()),
        "continuation": cont_early,
        "continuation psi=1": cont_late,
    }

    def make_step(loss):
        student = mlp((64, 16, 10), 2)
        optimizer = torch.optim.Adam(student.parameters(), lr=1e-3)

        def loss_fn(model, b):
            target = None
            if loss.needs_teacher:
                with torch.no_grad():
                    target = teacher(b[0])
            return loss(model(b[0]), b[1], target)

        step = training_step(student, loss_fn, optimizer)
        return lambda: step((x, y))

    cases = {f"step/{name}": make_step(loss) for name, loss in losses.items()}
    rows += compare(
        cases,
        baseline="step/finetune",
        params={"batch": batch},
        repeats=repeats,
        round_robin=True,
    )
    s = torch.randn(batch, 10, requires_grad=True, generator=gen)
    t = torch.randn(batch, 10, generator=gen)

    def loss_kd():
        (0.5 * F.cross_entropy(s, y) + 0.5 * kd_loss(s, t, 4.0)).backward()

    def loss_cont():
        continuation_loss(s, t, y, phi=0.5, psi=0.25, margin=1.0).backward()

    rows += compare(
        {"loss/vanilla-kd": loss_kd, "loss/continuation": loss_cont},
        baseline="loss/vanilla-kd",
        params={"batch": batch},
        repeats=repeats * 4,
        round_robin=True,
    )
    return rows
