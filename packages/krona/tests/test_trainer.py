"""KronAModel trains under the Hugging Face Trainer and in a plain loop."""

from __future__ import annotations

import torch
from krona import KronAConfig, get_krona_model


def test_hf_trainer_updates_only_adapters(tiny_cls, tmp_path):
    from transformers import Trainer, TrainingArguments

    model, tok = tiny_cls
    km = get_krona_model(model, KronAConfig(modules_to_save=["classifier"]))
    frozen = km.model.bert.embeddings.word_embeddings.weight.detach().clone()
    B_before = km.model.bert.encoder.layer[0].attention.self.query.krona_B.detach().clone()
    enc = tok(["a cat", "a dog", "the car", "red bus"] * 4, padding=True)
    data = [
        {
            "input_ids": enc["input_ids"][i],
            "attention_mask": enc["attention_mask"][i],
            "labels": i % 3,
        }
        for i in range(16)
    ]
    args = TrainingArguments(
        output_dir=str(tmp_path),
        max_steps=3,
        per_device_train_batch_size=8,
        learning_rate=1e-2,
        report_to=[],
        save_strategy="no",
        use_cpu=True,
        disable_tqdm=True,
        logging_strategy="no",
        remove_unused_columns=False,
    )  # forward is (*args, **kwargs), as for PEFT custom models
    Trainer(model=km, args=args, train_dataset=data).train()
    assert torch.equal(km.model.bert.embeddings.word_embeddings.weight, frozen)
    assert not torch.equal(km.model.bert.encoder.layer[0].attention.self.query.krona_B, B_before)
