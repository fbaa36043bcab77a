"""The tokenised text-classification task and its evaluation (accuracy + NLL).

Shared by the adapter packages (dylora, krona) and ready for the distillation/averaging
ones: a split is a dict of equal-length tensors

    {"input_ids": (n, seq) long, "attention_mask": (n, seq) long, "labels": (n,) long}

which ``papershelf.train`` takes as it is (rows indexed) and which :func:`evaluate` scores.

    task = load_encoder_task(seed, num_classes=4, n_train=2000, n_test=400)
    model = task.fresh_model()                   # a deep copy of the pre-trained classifier
    ...train with classification_loss...
    evaluate(model, task.test)                   # {"accuracy": ..., "nll": ...}

A model is any ``nn.Module`` called as ``model(input_ids=..., attention_mask=...)`` that
returns logits ``(batch, num_classes)``, either as a tensor or as an output with
``.logits`` (Hugging Face). Importing this module imports no torch.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch
    from torch import nn

__all__ = [
    "EncoderTask",
    "classification_loss",
    "encode",
    "evaluate",
    "load_encoder_task",
]


@dataclass
class EncoderTask:
    """A tokenised text-classification task and a factory of fresh copies of its model.

    Attributes:
        base: the model every run starts from (never trained in place: use
            :meth:`fresh_model`).
        train, test: tokenised splits, ``{"input_ids", "attention_mask": (n, seq),
            "labels": (n,)}``.
        num_classes: the number of classes (labels are ``0 .. num_classes - 1``).
        description: one line naming the model and the data, for a claim's result.
    """

    base: nn.Module
    train: dict[str, torch.Tensor]
    test: dict[str, torch.Tensor]
    num_classes: int
    description: str

    def fresh_model(self) -> nn.Module:
        """A deep copy of ``base``."""
        return copy.deepcopy(self.base)


def encode(
    tokenizer: Any,
    texts: list[str],
    labels: list[int],
    max_length: int = 32,
    *,
    padding: bool | str = True,
) -> dict[str, torch.Tensor]:
    """Tokenise ``texts`` into a split dict.

    Args:
        tokenizer: a Hugging Face tokenizer.
        texts: ``n`` strings; labels: ``n`` class ids.
        max_length: texts are truncated to this many tokens.
        padding: ``True`` pads to the longest text (``seq <= max_length``);
            ``"max_length"`` pads every text to ``max_length``.

    Returns:
        ``{"input_ids": (n, seq), "attention_mask": (n, seq), "labels": (n,)}``, all long.
    """
    import torch

    enc = tokenizer(
        texts, padding=padding, truncation=True, max_length=max_length, return_tensors="pt"
    )
    return {
        "input_ids": enc["input_ids"],
        "attention_mask": enc["attention_mask"],
        "labels": torch.tensor(labels, dtype=torch.long),
    }


def load_encoder_task(
    seed: int = 0,
    *,
    model: str = "offline",
    num_classes: int = 4,
    n_train: int = 2000,
    n_test: int = 400,
    max_length: int = 32,
    words_per_text: int = 12,
    head: bool = True,
) -> EncoderTask:
    """A pre-trained encoder and papershelf's synthetic topic task (held-out test words).

    Seeds Python, NumPy and torch with ``seed`` first (a new classifier head is drawn from
    the global RNG), loads ``model`` with :func:`papershelf.models.load_model` and builds
    :func:`papershelf.data.synthetic_text_classification` with the same ``seed``.

    Args:
        model: a name :func:`papershelf.models.load_model` takes (``"offline"``: the bundled
            all-MiniLM-L6-v2).
        head: ``True``: a sequence classifier with a new ``num_classes`` head;
            ``False``: the bare encoder (``AutoModel``), for callers that add their own head.
        words_per_text: words per synthetic text.
    """
    from papershelf.data import synthetic_text_classification
    from papershelf.models import load_model
    from papershelf.seeding import seed_everything

    seed_everything(seed)  # the new classifier head is drawn from the global RNG
    if head:
        base, tokenizer = load_model(model, task="sequence-classification", num_labels=num_classes)
    else:
        base, tokenizer = load_model(model)
    data = synthetic_text_classification(
        tokenizer,
        num_classes=num_classes,
        n_train=n_train,
        n_test=n_test,
        seed=seed,
        words_per_text=words_per_text,
    )
    extra = "" if words_per_text == 12 else f", words_per_text={words_per_text}"
    return EncoderTask(
        base=base,
        train=encode(tokenizer, data.train.texts, data.train.labels, max_length),
        test=encode(tokenizer, data.test.texts, data.test.labels, max_length),
        num_classes=num_classes,
        description=(
            f"{model} + papershelf.data.synthetic_text_classification(num_classes={num_classes}, "
            f"n_train={n_train}, n_test={n_test}, seed={seed}{extra})"
        ),
    )


def _logits(output: Any) -> torch.Tensor:
    """``(batch, num_classes)`` logits from a model's output (a tensor or an object with ``.logits``)."""
    logits = getattr(output, "logits", output)
    if logits is None or not hasattr(logits, "argmax"):
        raise TypeError(
            f"model: must return logits (a tensor or an output with .logits), got {type(output).__name__}"
        )
    return logits


def _inputs(batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v for k, v in batch.items() if k != "labels"}


def classification_loss(model: nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Mean cross-entropy of ``model`` on ``batch`` (a split dict's rows), a scalar tensor.

    The model is called with every key of ``batch``, ``labels`` included: a Hugging Face
    classifier then returns its own ``.loss`` (cross-entropy for integer labels), which is
    used; otherwise the loss is ``cross_entropy(logits, batch["labels"])`` (models that do
    not take ``labels`` must accept and ignore ``**kwargs``).
    """
    from torch.nn import functional as F

    output = model(**batch)
    loss = getattr(output, "loss", None)
    if loss is not None:
        return loss
    return F.cross_entropy(_logits(output), batch["labels"])


def evaluate(
    model: nn.Module, data: dict[str, torch.Tensor], batch_size: int = 200
) -> dict[str, float]:
    """Accuracy and mean NLL (nats) of a sequence classifier on ``data``.

    Runs ``model`` in eval mode without gradients, ``batch_size`` rows at a time, on the
    split's inputs (every key but ``labels``); restores the model's train/eval mode.

    Args:
        data: a split dict, ``{"input_ids", "attention_mask": (n, seq), "labels": (n,)}``.

    Returns:
        ``{"accuracy": papershelf.metrics.accuracy, "nll": papershelf.metrics.nll}`` over the
        ``n`` rows, as floats.
    """
    import torch

    from papershelf.errors import UserError
    from papershelf.metrics import accuracy, nll

    n = len(data["labels"])
    if n == 0:
        raise UserError("data: evaluate needs at least one example, got none")
    was_training = model.training
    model.eval()
    chunks = []
    try:
        with torch.no_grad():
            for i in range(0, n, batch_size):
                batch = {k: v[i : i + batch_size] for k, v in _inputs(data).items()}
                chunks.append(_logits(model(**batch)).float().cpu())
    finally:
        model.train(was_training)
    logits = torch.cat(chunks)
    labels = data["labels"]
    return {"accuracy": accuracy(labels, logits), "nll": nll(logits, labels)}
