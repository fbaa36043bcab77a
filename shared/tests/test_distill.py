"""papershelf.distill: kd_loss against Hinton's formula, logits_of, teacher-logit caching."""

from types import SimpleNamespace

import pytest
import torch
from papershelf.distill import (
    cached_teacher_logits,
    dataset_fingerprint,
    forward_logits,
    kd_loss,
    load_teacher_logits,
    logits_of,
    save_teacher_logits,
)
from torch import nn

D64 = torch.float64


def hinton(s, t, tau):
    """τ² · Σ_k p_T (log p_T − log p_S) / B, written out."""
    p_t = torch.softmax(t / tau, -1)
    return tau**2 * (p_t * (p_t.log() - torch.log_softmax(s / tau, -1))).sum(-1).mean()


@pytest.mark.parametrize("tau", [0.5, 1.0, 4.0])
def test_kd_loss_is_hintons_formula_and_its_gradient(tau):
    gen = torch.Generator().manual_seed(0)
    s = torch.randn(5, 7, dtype=D64, generator=gen, requires_grad=True)
    t = 3 * torch.randn(5, 7, dtype=D64, generator=gen)
    loss = kd_loss(s, t, tau)
    torch.testing.assert_close(loss, hinton(s.detach(), t, tau), rtol=1e-12, atol=1e-14)
    (g,) = torch.autograd.grad(loss, s)
    expected = tau * (torch.softmax(s.detach() / tau, -1) - torch.softmax(t / tau, -1)) / 5
    torch.testing.assert_close(g, expected, rtol=1e-10, atol=1e-12)


def test_kd_loss_options_and_kl_div_oracle():
    gen = torch.Generator().manual_seed(1)
    s, t = torch.randn(4, 6, dtype=D64, generator=gen), torch.randn(4, 6, dtype=D64, generator=gen)
    full = kd_loss(s, t, 2.0)
    torch.testing.assert_close(kd_loss(s, t, 2.0, scale_by_t2=False) * 4.0, full)
    torch.testing.assert_close(kd_loss(s, t, 2.0, reduction="mean_elements"), full / 6)
    torch.testing.assert_close(kd_loss(s, t, 2.0, reduction="sum"), full * 4)
    assert kd_loss(s, t, 2.0, reduction="none").shape == (4,)
    kl = nn.KLDivLoss(reduction="batchmean", log_target=True)
    oracle = kl(torch.log_softmax(s / 2, -1), torch.log_softmax(t / 2, -1)) * 4
    torch.testing.assert_close(full, oracle)


def test_kd_loss_nonnegative_and_zero_on_shifted_logits():
    s = torch.randn(3, 5, dtype=D64)
    assert kd_loss(s, s + 2.5, 3.0).abs() < 1e-12
    assert kd_loss(s, torch.randn(3, 5, dtype=D64), 3.0) > 0


def test_kd_loss_token_logits_average_over_rows():
    s, t = torch.randn(2, 3, 5), torch.randn(2, 3, 5)
    torch.testing.assert_close(kd_loss(s, t, 1.0), kd_loss(s.reshape(6, 5), t.reshape(6, 5), 1.0))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"temperature": 0.0}, "temperature"), ({"reduction": "mean"}, "reduction")],
)
def test_kd_loss_bad_input(kwargs, match):
    args = {"temperature": 1.0, **kwargs}
    with pytest.raises(ValueError, match=match):
        kd_loss(torch.randn(2, 3), torch.randn(2, 3), args.pop("temperature"), **args)
    with pytest.raises(ValueError, match="same label count"):
        kd_loss(torch.randn(2, 3), torch.randn(2, 4), 1.0)


def test_logits_of_every_output_form():
    x = torch.randn(2, 3)
    assert logits_of(x) is x
    assert logits_of(SimpleNamespace(logits=x)) is x
    assert logits_of((x, "hidden")) is x
    assert logits_of({"logits": x}) is x
    with pytest.raises(ValueError, match="logits"):
        logits_of("nothing")


def test_bert_and_sequential_with_the_same_logits_give_the_same_loss():
    from papershelf.models import tiny_encoder_config
    from transformers import BertForSequenceClassification

    torch.manual_seed(0)
    bert = BertForSequenceClassification(tiny_encoder_config(num_labels=3)).eval()
    batch = {
        "input_ids": torch.randint(0, 100, (2, 5)),
        "attention_mask": torch.ones(2, 5, dtype=torch.long),
        "labels": torch.tensor([0, 1]),
    }
    with torch.no_grad():
        hf = forward_logits(bert, batch)
        fixed = hf.clone()
        seq = forward_logits(nn.Sequential(nn.Flatten(), nn.Identity()), {"x": fixed})
        tup = logits_of(
            bert(**{k: v for k, v in batch.items() if k != "labels"}, return_dict=False)
        )
    t = torch.randn(2, 3)
    torch.testing.assert_close(kd_loss(hf, t, 2.0), kd_loss(seq, t, 2.0))
    torch.testing.assert_close(tup, hf)


class Counting(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin, self.calls = nn.Linear(4, 3), 0

    def forward(self, x):
        self.calls += 1
        return self.lin(x)


def test_cache_computed_once_reused_and_refused_for_another_dataset(tmp_path):
    torch.manual_seed(0)
    teacher = Counting().train()
    data = {"x": torch.randn(10, 4), "labels": torch.arange(10) % 3}
    path = tmp_path / "cache" / "teacher.safetensors"
    first = cached_teacher_logits(teacher, data, path, batch_size=4)
    assert teacher.calls == 3 and teacher.training  # eval inside, mode restored
    with torch.no_grad():
        torch.testing.assert_close(first, teacher.eval()(data["x"]))
    teacher.calls = 0
    again = cached_teacher_logits(teacher, data, path)
    assert teacher.calls == 0 and torch.equal(first, again)
    other = {"x": torch.randn(10, 4), "labels": data["labels"]}
    with pytest.raises(ValueError, match="another dataset") as info:
        cached_teacher_logits(teacher, other, path)
    assert "\n" not in str(info.value)
    assert [p.name for p in path.parent.iterdir()] == ["teacher.safetensors"]  # no temp left


def test_save_load_and_fingerprint(tmp_path):
    data = {"x": torch.arange(6.0).reshape(3, 2)}
    fp = dataset_fingerprint(data)
    assert fp == dataset_fingerprint({"x": torch.arange(6.0).reshape(3, 2)})
    assert fp != dataset_fingerprint({"x": torch.arange(6.0).reshape(2, 3)})
    logits = torch.randn(3, 2)
    save_teacher_logits(tmp_path / "t.safetensors", logits, fp)
    assert torch.equal(load_teacher_logits(tmp_path / "t.safetensors", fp), logits)
    with pytest.raises(ValueError, match="does not exist"):
        load_teacher_logits(tmp_path / "missing.safetensors")
