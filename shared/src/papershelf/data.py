"""User data from local JSONL/CSV files, and a seeded synthetic text-classification task.

Reading errors name the file and line (``data.jsonl:7: field 'label' is missing``), so a
user can fix their file. The synthetic task is topic classification over semantic word
categories; its test texts use words held out from training, so only an encoder that
already knows what words mean (a pre-trained one) generalises to it. Its word lists are
a data file shipped in the package, ``papershelf/resources/topic_words.json``.
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from papershelf.errors import UserError

SUFFIXES = (".jsonl", ".csv")


def check_utf8(path: str | Path | None) -> None:
    """Refuse a data file that is not UTF-8, naming the file and the first bad line."""
    if path is None or not Path(path).is_file():
        return
    with open(path, "rb") as handle:
        for line_no, line in enumerate(handle, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise UserError(
                    f"{Path(path).name}:{line_no}: not UTF-8 (byte 0x{line[exc.start]:02x} at "
                    f"column {exc.start + 1}); save the file as UTF-8"
                ) from None


def read_records(path: str | Path, required: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Read a ``.jsonl`` (one JSON object per line) or ``.csv`` (header row) file.

    Args:
        required: fields every record must have.

    Raises:
        UserError: missing file, unknown suffix, a line that is not a JSON object, a
            missing or empty required field, or an empty file; the message says
            ``<file>:<line>:``.
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(f"data: file {str(path)!r} does not exist")
    if path.suffix not in SUFFIXES:
        raise UserError(
            f"data: {path.name} must end in {' or '.join(SUFFIXES)}, got {path.suffix or 'no suffix'!r}"
        )
    records = _read_jsonl(path) if path.suffix == ".jsonl" else _read_csv(path)
    if not records:
        raise UserError(f"data: {path.name} has no records")
    for line_no, record in records:
        for name in required:
            if name not in record or record[name] in ("", None):
                raise UserError(
                    f"{path.name}:{line_no}: field {name!r} is missing or empty (fields: {sorted(record)})"
                )
    return [r for _, r in records]


def _read_jsonl(path: Path) -> list[tuple[int, dict[str, Any]]]:
    records = []
    with path.open(encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise UserError(
                    f"{path.name}:{line_no}: not valid JSON ({exc.msg} at column {exc.colno})"
                ) from None
            if not isinstance(record, dict):
                raise UserError(
                    f"{path.name}:{line_no}: expected a JSON object, got {type(record).__name__}"
                )
            records.append((line_no, record))
    return records


def _read_csv(path: Path) -> list[tuple[int, dict[str, Any]]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames:
            raise UserError(f"{path.name}:1: missing header row")
        records = []
        for row in reader:
            if None in row:
                raise UserError(
                    f"{path.name}:{reader.line_num}: more values than the {len(reader.fieldnames)} columns"
                )
            records.append((reader.line_num, dict(row)))
    return records


@dataclass
class TextClassificationData:
    """Texts with integer labels ``0 .. len(label_names) - 1``."""

    texts: list[str]
    labels: list[int]
    label_names: list[str]

    def __post_init__(self) -> None:
        if len(self.texts) != len(self.labels):
            raise UserError(f"labels: {len(self.labels)} labels for {len(self.texts)} texts")
        bad = [y for y in self.labels if not 0 <= y < len(self.label_names)]
        if bad:
            raise UserError(f"labels: {bad[0]!r} is outside 0..{len(self.label_names) - 1}")

    def __len__(self) -> int:
        return len(self.texts)


@dataclass
class TextClassificationTask:
    train: TextClassificationData
    test: TextClassificationData

    @property
    def num_classes(self) -> int:
        return len(self.train.label_names)


def read_text_classification(
    path: str | Path,
    text_field: str = "text",
    label_field: str = "label",
    label_names: Sequence[str] | None = None,
) -> TextClassificationData:
    """Read texts and labels; labels may be class names or integers (as numbers or strings)."""
    records = read_records(path, required=(text_field, label_field))
    raw = [str(r[label_field]).strip() for r in records]
    if label_names is None:
        label_names = sorted(
            set(raw), key=lambda s: (not s.isdigit(), int(s) if s.isdigit() else 0, s)
        )
    index = {name: i for i, name in enumerate(label_names)}
    for line_no, value in enumerate(raw, start=1):
        if value not in index:
            raise UserError(
                f"{Path(path).name}: record {line_no}: label {value!r} is not one of {list(label_names)}"
            )
    return TextClassificationData(
        [str(r[text_field]) for r in records], [index[v] for v in raw], list(label_names)
    )


TOPIC_WORDS_FILE = "resources/topic_words.json"


def _load_topic_words() -> tuple[dict[str, tuple[str, ...]], tuple[str, ...]]:
    """``(categories, filler)`` from the word list shipped in the package (``TOPIC_WORDS_FILE``)."""
    from importlib.resources import files

    doc = json.loads(files("papershelf").joinpath(TOPIC_WORDS_FILE).read_text(encoding="utf-8"))
    return {name: tuple(words) for name, words in doc["categories"].items()}, tuple(doc["filler"])


CATEGORIES: dict[str, tuple[str, ...]]
"""The semantic categories of the synthetic task, in class order: ``name -> words``."""
FILLER: tuple[str, ...]
"""Filler words mixed into every synthetic text."""
CATEGORIES, FILLER = _load_topic_words()


def _usable_words(words: Sequence[str], tokenizer: Any) -> list[str]:
    unique = list(dict.fromkeys(words))
    if tokenizer is None:
        return unique
    return [w for w in unique if len(tokenizer.tokenize(w)) == 1]


def synthetic_text_classification(
    tokenizer: Any = None,
    *,
    num_classes: int = 4,
    n_train: int = 512,
    n_test: int = 512,
    seed: int = 0,
    words_per_text: int = 12,
    topic_words: int = 3,
    distractor_words: int = 1,
) -> TextClassificationTask:
    """Seeded topic classification whose test set uses held-out words.

    Each class is a semantic category (animals, food, vehicles, ...). A text mixes
    ``topic_words`` words of its class, ``distractor_words`` words of another class and
    filler words, shuffled, ``words_per_text`` in all. Each category's words are split in
    half: training texts use one half and test texts the other, so the label of a test
    text can be inferred only from what its words mean. With a ``tokenizer``, only words
    that are a single token of its vocabulary are used.
    """
    if not 2 <= num_classes <= len(CATEGORIES):
        raise UserError(f"num_classes: must be between 2 and {len(CATEGORIES)}, got {num_classes}")
    if min(n_train, n_test) < num_classes:
        raise UserError(
            f"n_train/n_test: need at least one text per class ({num_classes}), got {n_train}/{n_test}"
        )
    if topic_words < 1 or distractor_words < 0 or topic_words + distractor_words > words_per_text:
        raise UserError(
            f"words_per_text: must hold topic_words ({topic_words}) + distractor_words ({distractor_words}), "
            f"got {words_per_text}"
        )
    rng = random.Random(seed)
    names = list(CATEGORIES)[:num_classes]
    taken: set[str] = set()
    halves: dict[str, tuple[list[str], list[str]]] = {}
    for name in names:
        words = [w for w in _usable_words(CATEGORIES[name], tokenizer) if w not in taken]
        taken.update(words)
        if len(words) < 4:
            raise UserError(f"tokenizer: fewer than 4 single-token words for category {name!r}")
        rng.shuffle(words)
        halves[name] = (words[: len(words) // 2], words[len(words) // 2 :])
    filler = _usable_words(FILLER, tokenizer)

    def make(n: int, split: int) -> TextClassificationData:
        texts, labels = [], []
        for i in range(n):
            label = i % num_classes
            other = rng.choice([c for c in range(num_classes) if c != label])
            words = [rng.choice(halves[names[label]][split]) for _ in range(topic_words)]
            words += [rng.choice(halves[names[other]][split]) for _ in range(distractor_words)]
            words += [rng.choice(filler) for _ in range(words_per_text - len(words))]
            rng.shuffle(words)
            texts.append(" ".join(words))
            labels.append(label)
        order = list(range(n))
        rng.shuffle(order)
        return TextClassificationData([texts[j] for j in order], [labels[j] for j in order], names)

    return TextClassificationTask(train=make(n_train, 0), test=make(n_test, 1))
