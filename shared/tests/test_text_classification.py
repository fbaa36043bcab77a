import subprocess
import sys
from types import SimpleNamespace

import pytest
import torch
from papershelf.errors import UserError
from papershelf.metrics import accuracy, nll
from papershelf.text_classification import (
    EncoderTask,
    classification_loss,
    encode,
    evaluate,
    load_encoder_task,
)
from sklearn.metrics import accuracy_score, log_loss
from torch import nn


class FakeClassifier(nn.Module):
    """Logits from a fixed random table of the first token; optionally HF-style outputs."""

    def __init__(self, num_classes=3, vocab=50, hf=False):
        super().__init__()
        self.table = nn.Parameter(
            torch.randn(vocab, num_classes, generator=torch.Generator().manual_seed(0)) * 2
        )
        self.hf = hf
        self.seen: list[set[str]] = []

    def forward(self, input_ids, attention_mask, labels=None):
        self.seen.append({"labels"} if labels is not None else set())
        assert not torch.is_grad_enabled() or self.training
        logits = self.table[input_ids[:, 0]] + 0.0 * attention_mask.sum(1, keepdim=True)
        if not self.hf:
            return logits
        loss = None if labels is None else nn.functional.cross_entropy(logits, labels)
        return SimpleNamespace(logits=logits, loss=loss)


def fake_split(n=37, num_classes=3, vocab=50, seq=5):
    g = torch.Generator().manual_seed(1)
    return {
        "input_ids": torch.randint(0, vocab, (n, seq), generator=g),
        "attention_mask": torch.ones(n, seq, dtype=torch.long),
        "labels": torch.randint(0, num_classes, (n,), generator=g),
    }


@pytest.mark.parametrize("hf", [False, True])
@pytest.mark.parametrize("batch_size", [1, 8, 200])
def test_evaluate_matches_metrics_and_sklearn(hf, batch_size):
    model, data = FakeClassifier(hf=hf), fake_split()
    result = evaluate(model, data, batch_size=batch_size)
    logits = model.table.detach()[data["input_ids"][:, 0]].double()
    labels = data["labels"].numpy()
    probs = torch.softmax(logits, -1).numpy()
    assert set(result) == {"accuracy", "nll"}
    assert all(type(v) is float for v in result.values())
    assert result["accuracy"] == accuracy_score(labels, logits.argmax(-1).numpy())
    assert result["accuracy"] == accuracy(data["labels"], logits)
    assert result["nll"] == pytest.approx(log_loss(labels, probs, labels=[0, 1, 2]), rel=1e-6)
    assert result["nll"] == pytest.approx(nll(logits, data["labels"]), rel=1e-6)
    assert all(seen == set() for seen in model.seen)  # evaluate never passes labels


@pytest.mark.parametrize("training", [True, False])
def test_evaluate_restores_mode_and_needs_no_grad(training):
    model = FakeClassifier().train(training)
    evaluate(model, fake_split())
    assert model.training is training


def test_evaluate_refuses_empty_data():
    with pytest.raises(UserError, match="at least one example"):
        evaluate(FakeClassifier(), fake_split(n=0))


def test_classification_loss_uses_hf_loss_or_cross_entropy():
    data = fake_split(n=8)
    plain, hf = FakeClassifier(), FakeClassifier(hf=True)
    expected = nn.functional.cross_entropy(plain.table[data["input_ids"][:, 0]], data["labels"])
    for model in (plain, hf):
        loss = classification_loss(model, data)
        assert loss.shape == () and loss.requires_grad
        torch.testing.assert_close(loss, expected)
        assert model.seen[-1] == {"labels"}
    hf_loss = SimpleNamespace(loss=torch.tensor(1.5), logits=torch.zeros(8, 3))
    assert classification_loss(lambda **kw: hf_loss, data).item() == 1.5


def test_encode_pads_to_longest_or_to_max_length(tiny_tokenizer):
    texts, labels = ["dog", "the cat and the dog ran far"], [0, 2]
    short = encode(tiny_tokenizer, texts, labels, max_length=32)
    assert set(short) == {"input_ids", "attention_mask", "labels"}
    assert short["labels"].dtype == torch.long and short["labels"].tolist() == labels
    assert short["input_ids"].shape == short["attention_mask"].shape == (2, 9)
    assert short["attention_mask"].sum(1).tolist() == [3, 9]
    full = encode(tiny_tokenizer, texts, labels, 12, padding="max_length")
    assert full["input_ids"].shape == (2, 12)
    cut = encode(tiny_tokenizer, texts, labels, max_length=4)
    assert cut["input_ids"].shape == (2, 4)


@pytest.fixture(scope="module")
def tiny_tokenizer():
    from papershelf.models import offline_encoder_path
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(offline_encoder_path())


def test_load_encoder_task_is_seeded_and_matches_the_synthetic_task(tiny_tokenizer):
    from papershelf.data import synthetic_text_classification

    kw = {"model": "tiny-encoder", "num_classes": 3, "n_train": 12, "n_test": 9}
    task = load_encoder_task(5, **kw)
    again = load_encoder_task(5, **kw)
    assert isinstance(task, EncoderTask) and task.num_classes == 3
    data = synthetic_text_classification(
        tiny_tokenizer, num_classes=3, n_train=12, n_test=9, seed=5
    )
    expected = encode(tiny_tokenizer, data.test.texts, data.test.labels, 32)
    for key in expected:
        assert torch.equal(task.test[key], expected[key])
        assert torch.equal(task.train[key], again.train[key])
    assert task.train["input_ids"].shape[0] == 12
    assert task.description == (
        "tiny-encoder + papershelf.data.synthetic_text_classification(num_classes=3, "
        "n_train=12, n_test=9, seed=5)"
    )
    # the head is drawn from the global RNG after seeding: the same seed gives the same model
    for a, b in zip(task.base.state_dict().values(), again.base.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    fresh = task.fresh_model()
    assert fresh is not task.base
    assert fresh.classifier.out_features == 3
    fresh.classifier.weight.data.zero_()
    assert task.base.classifier.weight.abs().sum() > 0
    result = evaluate(fresh, task.test, batch_size=4)
    assert result["accuracy"] == accuracy(task.test["labels"], torch.zeros(9, 3))


def test_load_encoder_task_bare_encoder_and_words_per_text():
    task = load_encoder_task(
        0, model="tiny-encoder", n_train=8, n_test=8, words_per_text=6, head=False
    )
    assert not hasattr(task.base, "classifier")
    assert task.description.endswith("seed=0, words_per_text=6)")
    assert (task.train["attention_mask"].sum(1) == 8).all()  # 6 single-token words + CLS/SEP


def test_import_is_light():
    code = "import sys, papershelf.text_classification; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
