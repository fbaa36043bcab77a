"""Under the HF Trainer, b is sampled once per optimizer step (gradient accumulation included)."""

from __future__ import annotations

import torch
from dylora import DyLoRACallback, DyLoRAConfig, draw_rank, get_dylora_model
from dylora.testing import make_tiny_bert


def test_trainer_samples_once_per_optimizer_step(tmp_path):
    from transformers import Trainer, TrainingArguments

    config = DyLoRAConfig(
        r_max=8,
        target_modules=["query", "value"],
        modules_to_save=["classifier"],
        seed=5,
        strict_freeze=True,
    )
    model = get_dylora_model(make_tiny_bert(), config)
    seen: list[int] = []
    layer = next(iter(model.dylora_layers.values()))
    layer.register_forward_hook(lambda mod, inp, out: seen.append(mod.rank))
    gen = torch.Generator().manual_seed(0)
    data = [
        {"input_ids": torch.randint(0, 100, (6,), generator=gen), "labels": torch.tensor(i % 3)}
        for i in range(48)
    ]
    args = TrainingArguments(
        output_dir=str(tmp_path),
        per_device_train_batch_size=2,
        gradient_accumulation_steps=4,
        max_steps=5,
        learning_rate=1e-3,
        report_to=[],
        save_strategy="no",
        logging_strategy="no",
        use_cpu=True,
        remove_unused_columns=False,
        disable_tqdm=True,
        dataloader_num_workers=0,
    )
    trainer = Trainer(model=model, args=args, train_dataset=data, callbacks=[DyLoRACallback(model)])
    trainer.train()
    assert len(seen) == 5 * 4
    per_step = [seen[4 * s : 4 * s + 4] for s in range(5)]
    assert all(len(set(group)) == 1 for group in per_step)
    assert [g[0] for g in per_step] == [draw_rank(config, s) for s in range(5)]
