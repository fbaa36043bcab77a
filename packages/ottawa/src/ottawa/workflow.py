"""What the ``ottawa`` commands do, as plain functions: align, score and evaluate.

Each takes the command's options as arguments, writes its outputs under ``out`` and
returns what it wrote, so the same work runs from Python without the CLI. Errors a user
can fix are one-line ``ValueError``/``UserError`` messages naming the option.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "HALOMI_PAPER_BASELINES",
    "AlignOutput",
    "Evaluation",
    "align_files",
    "evaluate_methods",
    "load_encoder",
    "score_files",
]

HALOMI_PAPER_BASELINES = (
    "HalOmi paper baselines (pair-AUC hall/omi, 18 directions): LaBSE cosine 0.78/0.72, "
    "BLASER 2.0-QE 0.83/0.74, Seq-Logprob 0.80/0.59, COMET-QE 0.75/0.59"
)


def load_encoder(
    name: str = "offline", truncate: bool = False, device: str = "cpu", splitter: str = "whitespace"
) -> Any:
    """The ``WordEncoder`` a command uses: a hub name, a local folder or ``"offline"``."""
    from ottawa.encoder import WordEncoder

    return WordEncoder(name, truncate=truncate, device=device, splitter=splitter)


def _check_common(device: str, splitter: str) -> None:
    from ottawa.config import SPLITTERS, check_device

    check_device(device)
    if splitter not in SPLITTERS:
        raise ValueError(f"--splitter: {splitter!r} is not allowed; choose {', '.join(SPLITTERS)}")


def _torch_device(device: str) -> str:
    from ottawa.batched import resolve_device

    return resolve_device(device)


@dataclass
class AlignOutput:
    """What ``align_files`` wrote: the alignments, the config and the optional plot."""

    alignments: Path
    config: Path
    n_pairs: int
    plot: Path | None = None


def align_files(
    src: Path,
    mt: Path,
    out: Path,
    *,
    encoder: str = "offline",
    plot: int | None = None,
    reg: float = 0.05,
    solver: str = "batched",
    truncate: bool = False,
    device: str = "cpu",
    splitter: str = "whitespace",
) -> AlignOutput:
    """Align each line pair of ``src``/``mt``: ``out/alignments.jsonl`` (pharaoh links,
    sentence and word scores, one JSON object per pair), ``out/config.json`` (the resolved
    config and the encoder) and, with ``plot=N``, the heat map ``out/pair_N.png``."""
    from papershelf.io import atomic_write_text

    from ottawa.aligner import OttawaAligner
    from ottawa.config import OttawaConfig
    from ottawa.files import check_out_dir, read_pair_files

    _check_common(device, splitter)
    config = OttawaConfig(reg=reg, solver=solver, splitter=splitter, device=device)
    srcs, mts = read_pair_files(src, mt)
    if plot is not None and not 0 <= plot < len(srcs):
        raise ValueError(f"--plot: pair {plot} does not exist; choose 0..{len(srcs) - 1}")
    check_out_dir(out)
    dev = _torch_device(device)
    config.device = dev
    aligner = OttawaAligner(config, load_encoder(encoder, truncate, dev, splitter))
    results = aligner.align_batch(srcs, mts)
    lines = [
        json.dumps({"pair": k, **r.to_dict(), **_iterations(r)}) for k, r in enumerate(results)
    ]
    atomic_write_text(out / "alignments.jsonl", "\n".join(lines) + "\n")
    atomic_write_text(
        out / "config.json", json.dumps({**config.to_dict(), "encoder": encoder}, indent=2)
    )
    written = AlignOutput(out / "alignments.jsonl", out / "config.json", len(results))
    if plot is not None:
        written.plot = results[plot].plot(out / f"pair_{plot}.png")
    return written


def _iterations(r: Any) -> dict[str, Any]:
    """The solver's per-plan iteration counts and convergence flags, when it reports them."""
    if "iterations" not in r.extra:
        return {}
    return {"iterations": list(r.extra["iterations"]), "converged": list(r.extra["converged"])}


def score_files(
    src: Path,
    mt: Path,
    out: Path,
    *,
    method: str = "ottawa",
    encoder: str = "offline",
    reg: float = 0.05,
    solver: str = "batched",
    truncate: bool = False,
    device: str = "cpu",
    splitter: str = "whitespace",
) -> tuple[Path, int]:
    """Sentence hallucination and omission scores (higher = worse) of each line pair with
    ``method``, as ``out/scores.tsv`` (line, hall, omi; for OTTAWA also the two plans'
    solver iterations and whether they converged). All sentences are encoded in batches and,
    with ``solver="batched"``, all plans are solved together. Returns (path, number of pairs)."""
    from papershelf.io import atomic_write_text

    from ottawa.config import OttawaConfig
    from ottawa.files import check_out_dir, read_pair_files
    from ottawa.scoring import METHODS, score_methods

    if method not in METHODS:
        raise ValueError(f"--method: {method!r} is not allowed; choose from {', '.join(METHODS)}")
    _check_common(device, splitter)
    config = OttawaConfig(reg=reg, solver=solver, splitter=splitter, device=device)
    srcs, mts = read_pair_files(src, mt)
    check_out_dir(out)
    dev = _torch_device(device)
    config.device = dev
    enc = load_encoder(encoder, truncate, dev, splitter)
    s = score_methods(srcs, mts, [method], enc, config)[method]
    its = s.get("iterations")
    head = "line\thall\tomi" + ("\titer_fwd\titer_rev\tconverged" if its else "")
    rows = [head]
    for k, (h, o) in enumerate(zip(s["hall"], s["omi"], strict=True)):
        row = f"{k + 1}\t{h:.6f}\t{o:.6f}"
        if its:
            row += f"\t{its[k][0]}\t{its[k][1]}\t{int(all(s['converged'][k]))}"
        rows.append(row)
    atomic_write_text(out / "scores.tsv", "\n".join(rows) + "\n")
    return out / "scores.tsv", len(srcs)


@dataclass
class Evaluation:
    """Per method: the sentence-level ``HalOmiReport`` and, for word aligners, the word-level one."""

    sentence: dict[str, Any]
    word: dict[str, Any] = field(default_factory=dict)
    report_path: Path | None = None

    def to_dict(self) -> dict[str, Any]:
        """``report.json``'s content: per method, per-direction values and their mean."""
        report: dict[str, Any] = {}
        for name, sent in self.sentence.items():
            report[name] = {"sentence": {"per_direction": sent.per_direction, "mean": sent.mean}}
            if name in self.word:
                words = self.word[name]
                report[name]["word"] = {"per_direction": words.per_direction, "mean": words.mean}
        return report

    def to_markdown(self) -> str:
        """The tables ``ottawa evaluate`` prints, then the HalOmi paper's baselines."""
        parts = []
        for name, sent in self.sentence.items():
            parts.append(
                sent.to_markdown(
                    f"{name}: sentence level (pair-AUC = HalOmi metric; *_roc = ROC-AUC)"
                )
            )
            if name in self.word:
                parts.append(self.word[name].to_markdown(f"{name}: word level ROC-AUC"))
        return "\n".join([*parts, HALOMI_PAPER_BASELINES])


def _parse_names(text: str, field: str, allowed: Sequence[str]) -> list[str]:
    names = [m.strip() for m in text.split(",") if m.strip()]
    bad = [m for m in names if m not in allowed]
    if bad or not names:
        raise ValueError(f"{field}: {bad or names!r} not allowed; choose from {', '.join(allowed)}")
    return names


def evaluate_methods(
    *,
    halomi: Path | None = None,
    synthetic: bool = False,
    difficulty: str = "hard",
    n: int = 120,
    seed: int = 0,
    methods: str = "ottawa,balanced-ot,argmax,cosine",
    directions: str | None = None,
    encoder: str = "offline",
    out: Path | None = None,
    truncate: bool = False,
    device: str = "cpu",
    splitter: str = "whitespace",
) -> Evaluation:
    """HalOmi pair-AUC per direction (+ mean) and ROC-AUC of each of ``methods`` (comma
    separated), on a user-supplied HalOmi copy (``halomi``, optionally only ``directions``)
    or on the synthetic benchmark (``synthetic=True``: ``n`` sources, ``difficulty``,
    ``seed``). With ``out``, also writes ``out/report.json``."""
    from papershelf.io import atomic_write_json

    from ottawa.config import OttawaConfig
    from ottawa.files import check_out_dir
    from ottawa.halomi import evaluate_sentence, evaluate_words, load_halomi
    from ottawa.scoring import METHODS, score_methods
    from ottawa.synthetic import DIFFICULTIES, make_benchmark

    if (halomi is None) == (not synthetic):
        raise ValueError("evaluate: pass exactly one of --halomi DIR or --synthetic")
    names = _parse_names(methods, "--methods", METHODS)
    _check_common(device, splitter)
    if difficulty not in DIFFICULTIES:
        raise ValueError(
            f"--difficulty: {difficulty!r} is not allowed; choose {', '.join(DIFFICULTIES)}"
        )
    if not 2 <= n <= 100_000:
        raise ValueError(f"--n: must be between 2 and 100000 source sentences, got {n}")
    if out is not None:
        check_out_dir(out)
    if halomi is not None:
        rows = load_halomi(halomi, splitter=splitter).rows
        if directions:
            want = {d.strip() for d in directions.split(",")}
            known = {r.direction for r in rows}
            if want - known:
                raise ValueError(
                    f"--directions: {sorted(want - known)} not in the data; known: {sorted(known)}"
                )
            rows = [r for r in rows if r.direction in want]
    else:
        rows = make_benchmark(n, difficulty, seed)
    dev = _torch_device(device)
    scores = score_methods(
        [r.src_text for r in rows],
        [r.mt_text for r in rows],
        names,
        load_encoder(encoder, truncate, dev, splitter),
        OttawaConfig(splitter=splitter, device=dev),
    )
    result = Evaluation(sentence={})
    for name in names:
        result.sentence[name] = evaluate_sentence(rows, scores[name]["hall"], scores[name]["omi"])
        if scores[name]["hall_words"] is not None:
            result.word[name] = evaluate_words(
                rows, scores[name]["hall_words"], scores[name]["omi_words"]
            )
    if out is not None:
        result.report_path = out / "report.json"
        atomic_write_json(result.report_path, result.to_dict())
    return result
