"""The Hugging Face Trainer path against the shared loop, and the epoch mapping."""

import pytest
import torch
from continuation_kd.config import ContinuationKDConfig, DistillConfig
from continuation_kd.distillation import distill
from continuation_kd.hf import DistillationTrainer, hf_epoch_to_paper
from continuation_kd.losses import ContinuationKDLoss
from torch import nn

N, K, EPOCHS, BATCH = 32, 3, 4, 8


class RowDataset(torch.utils.data.Dataset):
    def __init__(self, data):
        self.data = data

    def __len__(self):
        return len(self.data["labels"])

    def __getitem__(self, i):
        return {k: v[i] for k, v in self.data.items()}


def tiny(seed):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, K))


def test_hf_epoch_mapping():
    assert hf_epoch_to_paper(0.0) == 1
    assert hf_epoch_to_paper(0.99) == 1
    assert hf_epoch_to_paper(1.0) == 2
    assert hf_epoch_to_paper(2.5) == 3
    assert hf_epoch_to_paper(None) == 1


def test_trainer_and_shared_loop_give_the_same_student(tmp_path):
    from transformers import TrainingArguments

    gen = torch.Generator().manual_seed(0)
    data = {
        "x": torch.randn(N, 5, generator=gen),
        "labels": torch.randint(0, K, (N,), generator=gen),
    }
    teacher_logits = 3 * torch.randn(N, K, generator=gen)
    cfg = ContinuationKDConfig(t_max=2, n_epochs=EPOCHS, psi="linear:4:2", margin=0.5)

    ordered = tiny(1)
    distill(
        ordered,
        None,
        data,
        data,
        method="continuation",
        config=cfg,
        train_args=DistillConfig(
            epochs=EPOCHS, batch_size=BATCH, optimizer="adamw", select="last", shuffle=False
        ),
        teacher_logits=teacher_logits,
    )
    spe = N // BATCH
    rows = {**data, "index": torch.arange(N)}

    hf_model = tiny(1)
    hf_loss = ContinuationKDLoss(cfg)
    args = TrainingArguments(
        output_dir=str(tmp_path),
        per_device_train_batch_size=BATCH,
        num_train_epochs=EPOCHS,
        learning_rate=1e-3,
        lr_scheduler_type="constant",
        weight_decay=0.0,
        max_grad_norm=0.0,
        optim="adamw_torch",
        remove_unused_columns=False,
        report_to=[],
        save_strategy="no",
        logging_strategy="no",
        use_cpu=True,
        disable_tqdm=True,
        seed=0,
    )
    epochs_seen = []
    trainer = DistillationTrainer(
        model=hf_model,
        args=args,
        train_dataset=RowDataset(rows),
        distill_loss=hf_loss,
        teacher_logits=teacher_logits,
        shuffle=False,
    )
    original = hf_loss.forward

    def spy(*a, **k):
        epochs_seen.append(hf_loss.epoch)
        return original(*a, **k)

    hf_loss.forward = spy
    trainer.train()
    assert epochs_seen == [e for e in range(1, EPOCHS + 1) for _ in range(spe)]
    for a, b in zip(ordered.parameters(), hf_model.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    assert not all(
        torch.equal(a, b) for a, b in zip(ordered.parameters(), tiny(1).parameters(), strict=False)
    )


def test_trainer_refuses_without_teacher():
    from transformers import TrainingArguments

    with pytest.raises(ValueError, match="teacher"):
        DistillationTrainer(
            model=tiny(0),
            args=TrainingArguments(output_dir="/tmp/unused-ckd", report_to=[], use_cpu=True),
            distill_loss=ContinuationKDLoss(ContinuationKDConfig(t_max=2, n_epochs=4)),
        )
