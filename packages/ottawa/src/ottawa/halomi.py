"""HalOmi (Dale et al., 2023): loader for a user-supplied copy and the benchmark's evaluation.

The benchmark's sentence metric is ``percent_correct_pairs`` (a pairwise ranking score with
strict comparison); the ROC-AUCs beside it come from :func:`papershelf.metrics.roc_auc`.

The data is never bundled (code and most data CC-BY-NC 4.0, FLORES/Wikipedia text CC-BY-SA);
download https://dl.fbaipublicfiles.com/nllb/halomi_release_v2.zip and pass its folder.
"""

from __future__ import annotations

import csv
import io
import math
import re
import sys
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from papershelf.errors import UserError
from papershelf.metrics import roc_auc

__all__ = [
    "DOWNLOAD_URL",
    "HalOmiData",
    "HalOmiReport",
    "HalOmiRow",
    "evaluate_sentence",
    "evaluate_words",
    "load_halomi",
    "percent_correct_pairs",
    "span_word_labels",
]

DOWNLOAD_URL = "https://dl.fbaipublicfiles.com/nllb/halomi_release_v2.zip"
REQUIRED = (
    "src_lang",
    "tgt_lang",
    "src_text",
    "mt_text",
    "omit_spans",
    "hall_spans",
    "class_hall",
    "class_omit",
)
_SPAN = re.compile(r"<<<(.*?)>>>", re.S)


def percent_correct_pairs(y: Sequence[float], x: Sequence[float]) -> float:
    """HalOmi's sentence metric: over all pairs with ``y_i < y_j``, the fraction with ``x_i < x_j``.

    Strict comparison: a tie in ``x`` counts as wrong (not ½, unlike ROC-AUC). Returns 0.0
    when no pair has different labels. ``y`` graded labels, ``x`` scores with higher = worse;
    both (N,).
    """
    y = np.asarray(y, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    if y.shape != x.shape:
        raise ValueError(f"y/x: shapes differ, {y.shape} vs {x.shape}")
    ordered = y[:, None] < y[None, :]
    total = int(ordered.sum())
    if total == 0:
        return 0.0
    correct = int((ordered & (x[:, None] < x[None, :])).sum())
    return correct / total


def _pair_auc_or_nan(y: Any, x: Any) -> float:
    """``percent_correct_pairs``, or NaN (shown as "-") when no two rows have different labels:
    the metric is undefined there (HalOmi's reference code writes 0.0 and averages it in)."""
    y = np.asarray(y)
    if len(y) == 0 or np.all(y == y[0]):
        return float("nan")
    return percent_correct_pairs(y, x)


def _roc_auc_or_nan(labels: Any, scores: Any) -> float:
    """``papershelf.metrics.roc_auc``, or NaN when a direction has only one class (or no row):
    the per-direction table shows "-" there and the direction mean skips it."""
    labels = np.asarray(labels, dtype=bool)
    if len(labels) == 0 or labels.all() or not labels.any():
        return float("nan")
    return roc_auc(labels, scores)


@dataclass
class HalOmiRow:
    """One evaluated sentence pair; classes are graded 1 (none) .. 4 (full)."""

    direction: str
    src_text: str
    mt_text: str
    hall_class: int
    omit_class: int
    src_word_labels: list[int] | None = None
    mt_word_labels: list[int] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class HalOmiData:
    rows: list[HalOmiRow]
    source: str = ""

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def directions(self) -> list[str]:
        return sorted({r.direction for r in self.rows})


@dataclass
class HalOmiReport:
    """Per-direction metrics and their direction mean."""

    per_direction: dict[str, dict[str, float]]
    mean: dict[str, float]

    def to_markdown(self, title: str = "") -> str:
        keys = list(self.mean)
        lines = ([f"**{title}**", ""] if title else []) + [
            "| direction | " + " | ".join(keys) + " |",
            "|---|" + "---|" * len(keys),
        ]
        for d, vals in sorted(self.per_direction.items()):
            lines.append(f"| {d} | " + " | ".join(_fmt(vals.get(k)) for k in keys) + " |")
        lines.append("| **mean** | " + " | ".join(_fmt(self.mean[k]) for k in keys) + " |")
        return "\n".join(lines) + "\n"


def _fmt(v: float | None) -> str:
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.3f}"


def span_word_labels(marked: str, plain: str, splitter: Any = "whitespace") -> list[int] | None:
    """Word labels (1 = a character inside a ``<<<…>>>`` span) for the words of ``plain``
    as ``splitter`` cuts them ("whitespace", "cjk", "spacy" or a callable; see
    :func:`ottawa.encoder.word_spans`).

    Returns ``None`` when removing the markers does not give back ``plain`` (spans unmatched).
    """
    from ottawa.encoder import word_spans

    chars: list[str] = []
    mask: list[int] = []
    pos = 0
    for m in _SPAN.finditer(marked):
        chunk = marked[pos : m.start()]
        chars.extend(chunk)
        mask.extend([0] * len(chunk))
        chars.extend(m.group(1))
        mask.extend([1] * len(m.group(1)))
        pos = m.end()
    chars.extend(marked[pos:])
    mask.extend([0] * (len(marked) - pos))
    if "".join(chars) != plain:
        return None
    return [int(any(mask[a:b])) for a, b in word_spans(plain, splitter)]


def _class(value: str, column: str, where: str) -> int:
    head = value.strip().split("_", 1)[0]
    if not head.isdigit() or not 1 <= int(head) <= 4:
        raise ValueError(
            f"{where}: {column} {value!r} must start with a class 1-4 (e.g. '1_No_hallucination')"
        )
    return int(head)


def _find_tsv(path: Path) -> Path:
    if path.is_file():
        return path
    if not path.is_dir():
        raise FileNotFoundError(
            f"halomi: {path} does not exist; HalOmi is not bundled (CC-BY-NC 4.0): "
            f"download {DOWNLOAD_URL}, unzip it and pass the folder"
        )
    for name in ("halomi_core.tsv", "halomi_full.tsv"):
        found = sorted(path.rglob(name))
        if found:
            return found[0]
    raise FileNotFoundError(
        f"halomi: no halomi_core.tsv or halomi_full.tsv under {path}; HalOmi is not bundled "
        f"(CC-BY-NC 4.0): download {DOWNLOAD_URL}, unzip it and pass the folder"
    )


def load_halomi(
    folder_or_file: str | Path, natural_only: bool = True, splitter: Any = "whitespace"
) -> HalOmiData:
    """Read ``halomi_core.tsv`` (or ``halomi_full.tsv``) from a user-supplied folder or file.

    Word labels come from the ``<<<…>>>`` spans over the words ``splitter`` cuts (``None``
    where the spans cannot be matched). With the full file, ``perturbation != "natural"`` rows
    are dropped when ``natural_only``. A row with the wrong number of fields, or a file that is
    not UTF-8, is an error naming ``file:line``.
    """
    tsv = _find_tsv(Path(folder_or_file))
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    rows: list[HalOmiRow] = []
    from ottawa.files import decode_utf8

    text = decode_utf8(tsv)
    with io.StringIO(text, newline="") as fh:
        reader = csv.DictReader(fh, delimiter="\t")
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(
                f"{tsv}: missing column(s) {', '.join(missing)}; expected {', '.join(REQUIRED)}"
            )
        n_fields = len(reader.fieldnames or [])
        for rec in reader:
            line = reader.line_num
            if None in rec or any(v is None for v in rec.values()):
                got = len([v for k, v in rec.items() if k is not None and v is not None]) + len(
                    rec.get(None) or []
                )
                raise UserError(
                    f"{tsv}:{line}: malformed row: {got} tab-separated fields, the header has "
                    f"{n_fields}"
                )
            if natural_only and rec.get("perturbation", "natural") not in ("natural", ""):
                continue
            where = f"{tsv}:{line}"
            rows.append(
                HalOmiRow(
                    direction=f"{rec['src_lang']}-{rec['tgt_lang']}",
                    src_text=rec["src_text"],
                    mt_text=rec["mt_text"],
                    hall_class=_class(rec["class_hall"], "class_hall", where),
                    omit_class=_class(rec["class_omit"], "class_omit", where),
                    src_word_labels=span_word_labels(rec["omit_spans"], rec["src_text"], splitter),
                    mt_word_labels=span_word_labels(rec["hall_spans"], rec["mt_text"], splitter),
                    extra={"data_source": rec.get("data_source", "")},
                )
            )
    if not rows:
        raise ValueError(f"{tsv}: no rows to evaluate")
    return HalOmiData(rows, source=str(tsv))


def _by_direction(rows: Sequence[HalOmiRow]) -> dict[str, list[int]]:
    groups: dict[str, list[int]] = defaultdict(list)
    for k, r in enumerate(rows):
        groups[r.direction].append(k)
    return dict(groups)


def _rows(data: HalOmiData | Sequence[HalOmiRow]) -> Sequence[HalOmiRow]:
    return data.rows if isinstance(data, HalOmiData) else data


def evaluate_sentence(
    data: HalOmiData | Sequence[HalOmiRow], hall: Sequence[float], omi: Sequence[float]
) -> HalOmiReport:
    """HalOmi sentence evaluation (higher score = worse), per direction then averaged.

    ``hall``: pair-AUC of hallucination scores against ``hall_class`` on all rows;
    ``omi``: pair-AUC of omission scores against ``omit_class`` only on rows with ``hall_class == 1``;
    ``*_roc``: standard ROC-AUC with label = class > 1 on the same rows. A direction without
    two different classes (e.g. no positives) is undefined: NaN, shown as "-", and left out of
    the direction mean.
    """
    rows = _rows(data)
    hall, omi = np.asarray(hall, float), np.asarray(omi, float)
    if len(hall) != len(rows) or len(omi) != len(rows):
        raise ValueError(f"scores: need {len(rows)} values, got hall {len(hall)}, omi {len(omi)}")
    per: dict[str, dict[str, float]] = {}
    for d, idx in _by_direction(rows).items():
        yh = np.array([rows[k].hall_class for k in idx])
        keep = [k for k in idx if rows[k].hall_class == 1]
        yo = np.array([rows[k].omit_class for k in keep])
        per[d] = {
            "hall": _pair_auc_or_nan(yh, hall[idx]),
            "omi": _pair_auc_or_nan(yo, omi[keep]),
            "hall_roc": _roc_auc_or_nan(yh > 1, hall[idx]),
            "omi_roc": _roc_auc_or_nan(yo > 1, omi[keep]),
        }
    return HalOmiReport(per, _mean(per))


def evaluate_words(
    data: HalOmiData | Sequence[HalOmiRow],
    hall_words: Sequence[Sequence[float]],
    omi_words: Sequence[Sequence[float]],
) -> HalOmiReport:
    """Word-level ROC-AUC pooled over the words of a direction, averaged over directions.

    ``hall_words[k]`` scores the MT words of row k, ``omi_words[k]`` its source words. Rows
    without word labels (unmatched spans) or whose word count differs are skipped.
    """
    rows = _rows(data)
    per: dict[str, dict[str, float]] = {}
    for d, idx in _by_direction(rows).items():
        out = {}
        for key, scores, attr in (
            ("hall_word_roc", hall_words, "mt_word_labels"),
            ("omi_word_roc", omi_words, "src_word_labels"),
        ):
            ys, xs = [], []
            for k in idx:
                labels = getattr(rows[k], attr)
                if labels is not None and len(labels) == len(scores[k]):
                    ys.extend(labels)
                    xs.extend(scores[k])
            out[key] = _roc_auc_or_nan(ys, xs)
        per[d] = out
    return HalOmiReport(per, _mean(per))


def _mean(per: dict[str, dict[str, float]]) -> dict[str, float]:
    keys = list(next(iter(per.values()))) if per else []
    mean = {}
    for k in keys:
        vals = [v[k] for v in per.values() if not math.isnan(v[k])]
        mean[k] = float(np.mean(vals)) if vals else float("nan")
    return mean
