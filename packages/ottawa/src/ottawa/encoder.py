"""``WordEncoder``: one vector per word from any Hugging Face encoder, batched and cached.

Each word is tokenised on its own (no special tokens), the pieces are concatenated, the
encoder's [CLS]/[SEP] are added and the encoder runs once per sentence; a word is represented
by its first sub-token (``subword_pool="first"``, the official code) or the mean of its pieces.
"""

from __future__ import annotations

import os
import re
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from papershelf.errors import UserError
from papershelf.models import OFFLINE_ALIASES, offline_encoder_path

__all__ = [
    "OFFLINE_NAMES",
    "WordEncoder",
    "WordVectors",
    "offline_encoder_path",
    "split_words",
    "word_spans",
]

#: Names that select the bundled all-MiniLM-L6-v2 (papershelf's aliases).
OFFLINE_NAMES = OFFLINE_ALIASES


@dataclass
class WordVectors:
    """The words of one sentence and their vectors: ``vectors`` (n_words, dim) float64."""

    words: list[str]
    vectors: np.ndarray


#: Han, kana, CJK symbols/punctuation and full-width forms: one word per character.
_CJK = "\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
_CJK_WORDS = re.compile(f"[{_CJK}]|[^\\s{_CJK}]+")
_WHITESPACE_WORDS = re.compile(r"\S+")


def word_spans(
    sentence: str, splitter: str | Callable[[str], list[str]] = "whitespace"
) -> list[tuple[int, int]]:
    """Character spans ``(start, end)`` of the words of ``sentence``.

    "whitespace": maximal runs of non-space characters. "cjk": the same, except that every
    Han/kana/CJK-punctuation character is a word of its own (Chinese and Japanese have no
    spaces; other scripts are split as by "whitespace"). "spacy": spaCy's multi-language
    tokenizer (optional: ``pip install spacy``). A callable returns the words, which must
    appear in order in the sentence.
    """
    if callable(splitter) or splitter == "spacy":
        words = _spacy_words(sentence) if splitter == "spacy" else list(splitter(sentence))
        spans, pos = [], 0
        for w in words:
            at = sentence.find(w, pos)
            if not w or at < 0:
                raise UserError(f"splitter: word {w!r} is not found in order in {sentence[:40]!r}")
            spans.append((at, at + len(w)))
            pos = at + len(w)
        return spans
    if splitter == "whitespace":
        pattern = _WHITESPACE_WORDS
    elif splitter == "cjk":
        pattern = _CJK_WORDS
    else:
        raise UserError(
            f"splitter: {splitter!r} is not allowed; choose whitespace, cjk, spacy or pass a callable"
        )
    return [m.span() for m in pattern.finditer(sentence)]


def split_words(
    sentence: str, splitter: str | Callable[[str], list[str]] = "whitespace"
) -> list[str]:
    """Split a sentence into words ("whitespace", "cjk", "spacy" or a callable); see ``word_spans``."""
    if callable(splitter):
        return list(splitter(sentence))
    return [sentence[a:b] for a, b in word_spans(sentence, splitter)]


def _spacy_words(sentence: str) -> list[str]:
    try:
        import spacy
    except ImportError:
        raise UserError(
            "splitter: 'spacy' needs the optional package spaCy (pip install spacy); "
            "use 'cjk' or 'whitespace' without it"
        ) from None
    global _SPACY_NLP
    if _SPACY_NLP is None:
        _SPACY_NLP = spacy.blank("xx")
    return [t.text for t in _SPACY_NLP(sentence) if not t.is_space]


_SPACY_NLP: Any = None


def _from_pretrained(name_or_path: str) -> tuple[Any, Any]:
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    return AutoModel.from_pretrained(name_or_path), AutoTokenizer.from_pretrained(name_or_path)


def _load(name_or_path: str) -> tuple[Any, Any]:
    if name_or_path in OFFLINE_NAMES:
        return _from_pretrained(str(offline_encoder_path()))
    hint = "use encoder 'offline' (--encoder offline) for the bundled all-MiniLM-L6-v2"
    if Path(name_or_path).exists():
        try:
            return _from_pretrained(name_or_path)
        except Exception as exc:
            raise UserError(
                f"encoder: cannot load the folder {name_or_path!r} ({type(exc).__name__}); {hint}"
            ) from None
    cached = _cached_file(name_or_path, "config.json")
    if cached is not None:  # a hub name already in the local cache loads from its snapshot folder
        return _from_pretrained(str(cached.parent))
    if os.environ.get("HF_HUB_OFFLINE") != "1":
        try:
            return _from_pretrained(name_or_path)
        except Exception:
            pass
    raise UserError(
        f"encoder: {name_or_path!r} is not a folder and cannot be loaded offline; {hint}"
    )


def _cached_file(repo_id: str, filename: str) -> Path | None:
    """``filename`` of a hub repo if it is already in the local Hugging Face cache (no network)."""
    try:
        from huggingface_hub import try_to_load_from_cache

        cached = try_to_load_from_cache(repo_id, filename)
    except Exception:
        return None
    return Path(cached) if isinstance(cached, str) else None


def _st_folder(name: str) -> Path | None:
    """The sentence-transformers folder of the bundled model, a local folder or a cached hub name."""
    if name in OFFLINE_NAMES:
        return offline_encoder_path()
    if Path(name).exists():
        return Path(name)
    for filename, up in (("modules.json", 1), ("1_Pooling/config.json", 2), ("config.json", 1)):
        cached = _cached_file(name, filename)
        if cached is not None:
            return cached.parents[up - 1]
    return None


def _sentence_pooling(name: str) -> str:
    """Sentence pooling ("cls" or "mean") from the sentence-transformers ``1_Pooling`` config of
    the bundled model, a local folder or, for a hub name (as ``_load`` resolves it), the hub cache."""
    import json

    folder = _st_folder(name)
    cfg = None if folder is None else folder / "1_Pooling" / "config.json"
    if cfg is None or not cfg.is_file():
        return "mean"
    return "cls" if json.loads(cfg.read_text()).get("pooling_mode_cls_token") else "mean"


_ACTIVATIONS = {
    "torch.nn.modules.activation.Tanh": np.tanh,
    "torch.nn.modules.linear.Identity": lambda x: x,
}


def _dense_layers(name: str) -> list[tuple[np.ndarray, np.ndarray | None, Any]]:
    """The sentence-transformers ``Dense`` modules after pooling (LaBSE: 768 -> 768 with tanh),
    listed in ``modules.json``, as (weight (out, in), bias (out,) or None, activation)."""
    import json

    folder = _st_folder(name)
    if folder is None or not (folder / "modules.json").is_file():
        return []
    layers = []
    for mod in json.loads((folder / "modules.json").read_text()):
        if not str(mod.get("type", "")).endswith("models.Dense"):
            continue
        path = folder / mod["path"]
        cfg = json.loads((path / "config.json").read_text())
        act_name = cfg.get("activation_function", "torch.nn.modules.activation.Tanh")
        if act_name not in _ACTIVATIONS:
            raise UserError(f"encoder: Dense activation {act_name!r} in {path} is not supported")
        if (path / "model.safetensors").is_file():
            from safetensors.numpy import load_file

            state = load_file(str(path / "model.safetensors"))
        elif (path / "pytorch_model.bin").is_file():
            import torch

            weights_file = path / "pytorch_model.bin"
            tensors = torch.load(weights_file, map_location="cpu", weights_only=True)
            state = {k: v.numpy() for k, v in tensors.items()}
        else:
            raise UserError(f"encoder: {path} has no model.safetensors or pytorch_model.bin")
        weight = np.asarray(state["linear.weight"], dtype=np.float64)
        bias = state.get("linear.bias")
        layers.append(
            (weight, None if bias is None else np.asarray(bias, np.float64), _ACTIVATIONS[act_name])
        )
    return layers


class WordEncoder:
    """Word vectors from a Hugging Face encoder.

    Args:
        name_or_path: hub name, local folder, or "offline"/"minilm" (default: the bundled MiniLM).
        layer: hidden layer to read (-1 = last hidden state).
        subword_pool: "first" sub-token (official code) or "mean" of the word's pieces.
        splitter: "whitespace", "cjk" (one word per Han/kana character), "spacy" or a callable.
        max_length: token limit including [CLS]/[SEP] (default: the model's max positions).
        truncate: allow sentences over ``max_length``; words past the limit reuse the last kept token.
        device: torch device string (default "cpu").
        batch_size: sentences per forward pass.
        cache_size: sentences kept in the LRU cache.
    """

    def __init__(
        self,
        name_or_path: str | None = None,
        layer: int = -1,
        subword_pool: str = "first",
        splitter: str | Callable[[str], list[str]] = "whitespace",
        max_length: int | None = None,
        truncate: bool = False,
        device: str | None = None,
        batch_size: int = 32,
        cache_size: int = 100_000,
        model: Any = None,
        tokenizer: Any = None,
    ) -> None:
        if subword_pool not in ("first", "mean"):
            raise UserError(f"subword_pool: {subword_pool!r} is not allowed; choose first, mean")
        self.name = name_or_path or "offline"
        if model is None or tokenizer is None:
            model, tokenizer = _load(self.name)
        self.device = device or "cpu"
        self.model = model.to(self.device).eval()
        self.tokenizer = tokenizer
        self.layer = int(layer)
        n_layers = int(getattr(model.config, "num_hidden_layers", 0) or 0)
        if n_layers and not (-(n_layers + 1) <= self.layer <= n_layers):
            raise UserError(f"layer: {layer} is out of range for a {n_layers}-layer encoder")
        self.subword_pool = subword_pool
        if not callable(splitter):
            word_spans("a", splitter)  # refuses an unknown name in one line
        self.splitter = splitter
        limit = int(getattr(model.config, "max_position_embeddings", 512) or 512)
        self.max_length = int(max_length or limit)
        self.truncate = truncate
        self.batch_size = int(batch_size)
        self.cache_size = int(cache_size)
        self.pooling = _sentence_pooling(self.name)
        self.dense = _dense_layers(self.name)
        self._cache: OrderedDict[str, WordVectors] = OrderedDict()
        self._sent_cache: OrderedDict[str, np.ndarray] = OrderedDict()

    @classmethod
    def offline(cls, **kwargs: Any) -> WordEncoder:
        """The bundled all-MiniLM-L6-v2 (no network needed)."""
        return cls("offline", **kwargs)

    def _pieces(self, words: list[str]) -> list[list[int]]:
        ids = self.tokenizer(words, add_special_tokens=False)["input_ids"]
        unk = self.tokenizer.unk_token_id
        return [p if p else [unk] for p in ids]

    def _layout(
        self, index: int, sentence: str
    ) -> tuple[list[str], list[int], list[tuple[int, int]]]:
        words = split_words(sentence, self.splitter)
        if not words:
            raise UserError(f"sentence {index} (0-based): has no words (empty line?)")
        pieces = self._pieces(words)
        cls_id = self.tokenizer.cls_token_id
        sep_id = self.tokenizer.sep_token_id
        ids: list[int] = [] if cls_id is None else [cls_id]
        spans = []
        for p in pieces:
            spans.append((len(ids), len(ids) + len(p)))
            ids.extend(p)
        if sep_id is not None:
            ids.append(sep_id)
        if len(ids) > self.max_length:
            if not self.truncate:
                raise UserError(
                    f"sentence {index} (0-based, {sentence[:30]!r}...): {len(ids)} tokens exceed the encoder limit {self.max_length}; "
                    "pass truncate=True (--truncate) to cut it"
                )
            ids = ids[: self.max_length - 1] + (
                [sep_id] if sep_id is not None else [ids[self.max_length - 1]]
            )
            last = self.max_length - 2
            spans = [(min(s, last), max(min(e, last + 1), min(s, last) + 1)) for s, e in spans]
        return words, ids, spans

    def _forward(self, batch_ids: list[list[int]]) -> list[np.ndarray]:
        import torch

        width = max(len(x) for x in batch_ids)
        pad = self.tokenizer.pad_token_id or 0
        input_ids = torch.full((len(batch_ids), width), pad, dtype=torch.long)
        mask = torch.zeros((len(batch_ids), width), dtype=torch.long)
        for r, x in enumerate(batch_ids):
            input_ids[r, : len(x)] = torch.tensor(x)
            mask[r, : len(x)] = 1
        with torch.inference_mode():
            out = self.model(
                input_ids=input_ids.to(self.device),
                attention_mask=mask.to(self.device),
                output_hidden_states=self.layer != -1,
            )
            hidden = out.last_hidden_state if self.layer == -1 else out.hidden_states[self.layer]
        hidden = hidden.to("cpu", torch.float64).numpy()
        return [hidden[r, : len(x)] for r, x in enumerate(batch_ids)]

    def encode(self, sentences: Sequence[str]) -> list[WordVectors]:
        """Word vectors of each sentence (cached; each distinct sentence is encoded once).

        Returns one ``WordVectors`` per sentence with ``vectors`` (n_words, hidden) float64.
        """
        first: dict[str, int] = {}
        for i, s in enumerate(sentences):
            first.setdefault(s, i)
        found = self._hits(self._cache, first)
        todo = [s for s in first if s not in found]
        layouts = {s: self._layout(first[s], s) for s in todo}
        order = sorted(todo, key=lambda s: len(layouts[s][1]))
        for start in range(0, len(order), self.batch_size):
            chunk = order[start : start + self.batch_size]
            states = self._forward([layouts[s][1] for s in chunk])
            for s, h in zip(chunk, states, strict=True):
                words, _, spans = layouts[s]
                if self.subword_pool == "first":
                    vec = np.stack([h[a] for a, _ in spans])
                else:
                    vec = np.stack([h[a:b].mean(axis=0) for a, b in spans])
                found[s] = WordVectors(words, vec)
                self._put(self._cache, s, found[s])
        return [found[s] for s in sentences]

    def encode_sentences(self, sentences: Sequence[str]) -> np.ndarray:
        """Sentence embeddings, L2-normalised: (len(sentences), hidden) float64.

        Pooling follows the model folder's sentence-transformers ``1_Pooling/config.json``
        (mean of token states for MiniLM, [CLS] for LaBSE), then its ``Dense`` modules
        (LaBSE: ``tanh(W h + b)``, 768 -> 768), then L2 normalisation.
        """
        found = self._hits(self._sent_cache, sentences)
        todo = [s for s in dict.fromkeys(sentences) if s not in found]
        for start in range(0, len(todo), self.batch_size):
            chunk = todo[start : start + self.batch_size]
            ids = [
                self.tokenizer(s, truncation=True, max_length=self.max_length)["input_ids"]
                for s in chunk
            ]
            for s, h in zip(chunk, self._forward(ids), strict=True):
                v = h[0] if self.pooling == "cls" else h.mean(axis=0)
                for weight, bias, act in self.dense:
                    v = act(weight @ v + (0.0 if bias is None else bias))
                found[s] = v / max(np.linalg.norm(v), 1e-12)
                self._put(self._sent_cache, s, found[s])
        return np.stack([found[s] for s in sentences])

    @staticmethod
    def _hits(cache: OrderedDict, sentences: Iterable[str]) -> dict[str, Any]:
        """The cached values of ``sentences`` (marked as recently used). The caller keeps them,
        so a cache smaller than one call never loses a result (it only limits what is kept)."""
        hits = {}
        for s in sentences:
            if s in cache:
                cache.move_to_end(s)
                hits[s] = cache[s]
        return hits

    def _put(self, cache: OrderedDict, key: str, value: Any) -> None:
        cache[key] = value
        cache.move_to_end(key)
        while len(cache) > self.cache_size:
            cache.popitem(last=False)
