"""Under the HF Trainer, b is sampled once per optimizer step (gradient accumulation included).

Also: DyLoRA through ``transformers.Trainer`` with default arguments (train, eval_loss +
compute_metrics, predict, adapter-only checkpoints, reload, resume) on a tiny BERT and a tiny
tied-embedding Llama; GPT-2 ``Conv1D`` targets against the same adapter on ``nn.Linear``.
"""

from __future__ import annotations

import pytest
import torch
from dylora import DyLoRACallback, DyLoRAConfig, DyLoRAModel, draw_rank, get_dylora_model
from dylora.testing import make_tiny_bert
from papershelf.adapters.testing import (
    argmax_accuracy,
    linear_twin,
    tiny_bert,
    tiny_gpt2,
    tiny_llama,
    trainer_round_trip,
    trainer_rows,
)

transformers = pytest.importorskip("transformers")


def test_trainer_samples_once_per_optimizer_step_and_freezes_the_other_rows(tmp_path):
    """Under the Trainer (gradient accumulation 4, AdamW with weight decay): one b per optimizer
    step, and with ``update_mode="frozen"`` + ``strict_freeze`` only row b of ``lora_A`` and
    column b of ``lora_B`` change in a step; every other row/column is bit-identical."""
    from transformers import Trainer, TrainerCallback, TrainingArguments

    config = DyLoRAConfig(
        r_max=8,
        target_modules=["query", "value"],
        modules_to_save=["classifier"],
        seed=5,
        strict_freeze=True,
    )
    assert config.update_mode == "frozen"
    model = get_dylora_model(make_tiny_bert(), config)
    with torch.no_grad():  # B = 0 at init would leave A without gradient
        for layer in model.dylora_layers.values():
            layer.lora_B.weight.normal_(0, 0.5, generator=torch.Generator().manual_seed(3))
    seen: list[int] = []
    layer = next(iter(model.dylora_layers.values()))
    layer.register_forward_hook(lambda mod, inp, out: seen.append(mod.rank))
    steps: list[dict] = []

    class Snapshot(TrainerCallback):  # runs after DyLoRACallback: the step's b is set
        def on_step_begin(self, args, state, control, **kwargs):
            steps.append(
                {
                    "rank": layer.rank,
                    "before": {
                        n: (m.lora_A.weight.detach().clone(), m.lora_B.weight.detach().clone())
                        for n, m in model.dylora_layers.items()
                    },
                }
            )

        def on_step_end(self, args, state, control, **kwargs):
            steps[-1]["after"] = {
                n: (m.lora_A.weight.detach().clone(), m.lora_B.weight.detach().clone())
                for n, m in model.dylora_layers.items()
            }

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
        learning_rate=1e-2,
        weight_decay=0.1,
        report_to=[],
        save_strategy="no",
        logging_strategy="no",
        use_cpu=True,
        disable_tqdm=True,
        dataloader_num_workers=0,
    )
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=data,
        callbacks=[DyLoRACallback(model), Snapshot()],
    )
    trainer.train()
    assert len(seen) == 5 * 4
    per_step = [seen[4 * s : 4 * s + 4] for s in range(5)]
    assert all(len(set(group)) == 1 for group in per_step)
    assert [g[0] for g in per_step] == [draw_rank(config, s) for s in range(5)]
    assert len(steps) == 5 and len({s["rank"] for s in steps}) > 1
    for step in steps:
        k = step["rank"] - 1  # 0-based index of the one row that learns
        others = [i for i in range(8) if i != k]
        for name, (a0, b0) in step["before"].items():
            a1, b1 = step["after"][name]
            assert torch.equal(a1[others], a0[others]), (name, step["rank"])
            assert torch.equal(b1[:, others], b0[:, others]), (name, step["rank"])
            assert not torch.equal(a1[k], a0[k]), (name, step["rank"])
            assert not torch.equal(b1[:, k], b0[:, k]), (name, step["rank"])


@pytest.mark.parametrize("arch", ["bert", "llama"])
def test_trainer_default_arguments_round_trip(arch, tmp_path):
    causal = arch == "llama"
    targets = ["q_proj", "v_proj"] if causal else ["query", "value"]
    save = None if causal else ["classifier"]
    config = DyLoRAConfig(r_max=4, alpha=4.0, target_modules=targets, modules_to_save=save)
    result = trainer_round_trip(
        (lambda: tiny_llama(tie_word_embeddings=True)) if causal else tiny_bert,
        lambda base: get_dylora_model(base, config),
        DyLoRAModel,
        trainer_rows(causal),
        tmp_path,
        callbacks=lambda: [DyLoRACallback()],
        compute_metrics=None if causal else argmax_accuracy,
        resume=not causal,
    )
    if not causal:
        assert "eval_acc" in result["eval"]
    assert DyLoRAModel.config_from_pretrained(result["checkpoint"]).r_max == 4


def test_gpt2_conv1d_matches_linear_twin_at_every_rank_and_merges():
    gpt2 = tiny_gpt2()
    twin = linear_twin(gpt2)
    config = DyLoRAConfig(r_max=4, alpha=4.0, target_modules=["c_attn", "c_fc"])
    conv, lin = get_dylora_model(gpt2, config), get_dylora_model(twin, config)
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, layer in conv.dylora_layers.items():
            layer.lora_B.weight.copy_(torch.randn(layer.lora_B.weight.shape, generator=g))
            other = lin.dylora_layers[name]
            other.lora_A.weight.copy_(layer.lora_A.weight)
            other.lora_B.weight.copy_(layer.lora_B.weight)
    conv.eval(), lin.eval()
    ids = torch.randint(0, 64, (2, 7), generator=g)
    for b in (1, 2, 4):
        with conv.at_rank(b), lin.at_rank(b):
            torch.testing.assert_close(conv(ids).logits, lin(ids).logits, rtol=0, atol=1e-10)
    with lin.at_rank(2):
        expected = lin(ids).logits
    conv.merge_adapter(rank=2)
    torch.testing.assert_close(conv(ids).logits, expected, rtol=0, atol=1e-10)
    conv.unmerge_adapter()
    plain = conv.merge_and_unload(rank=2)
    assert type(plain.transformer.h[0].attn.c_attn).__name__ == "Conv1D"
    torch.testing.assert_close(plain(ids).logits, expected, rtol=0, atol=1e-10)
