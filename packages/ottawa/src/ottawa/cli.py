"""``ottawa`` command line: align, score, evaluate, reproduce, bench (torch imported inside commands)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from papershelf.cli import make_app, run_app

app = make_app(
    "ottawa",
    help="OTTAWA: optimal-transport word alignment with an adaptive null for "
    "hallucination and omission detection in machine translation.",
)

EncoderOpt = Annotated[
    str, typer.Option("--encoder", help="Hub name, local folder, or 'offline' (bundled MiniLM).")
]
RegOpt = Annotated[float, typer.Option("--reg", help="Entropic regularisation (> 0).")]
SolverOpt = Annotated[
    str, typer.Option("--solver", help="pot | pot-log | numpy | torch | torch-log.")
]
TruncOpt = Annotated[
    bool, typer.Option("--truncate", help="Cut sentences longer than the encoder limit.")
]
DeviceOpt = Annotated[str, typer.Option("--device", help="torch device, e.g. cpu or cuda.")]


def _encoder(name: str, truncate: bool, device: str):
    from ottawa.encoder import WordEncoder

    return WordEncoder(name, truncate=truncate, device=device)


@app.command()
def align(
    src: Annotated[Path, typer.Argument(help="Source sentences, one per line.")],
    mt: Annotated[Path, typer.Argument(help="Translations, one per line (same line count).")],
    encoder: EncoderOpt = "offline",
    out: Annotated[
        Path, typer.Option("--out", help="Folder for alignments.jsonl and config.json.")
    ] = Path("ottawa-out"),
    plot: Annotated[
        int | None, typer.Option("--plot", help="Also write a heat map of pair N (0-based).")
    ] = None,
    reg: RegOpt = 0.05,
    solver: SolverOpt = "pot",
    truncate: TruncOpt = False,
    device: DeviceOpt = "cpu",
) -> None:
    """Align each line pair: pharaoh links, sentence and word scores as JSONL."""
    from papershelf.io import atomic_write_text

    from ottawa.aligner import OttawaAligner
    from ottawa.config import OttawaConfig
    from ottawa.files import read_pair_files

    srcs, mts = read_pair_files(src, mt)
    config = OttawaConfig(reg=reg, solver=solver)
    if plot is not None and not 0 <= plot < len(srcs):
        raise ValueError(f"--plot: pair {plot} does not exist; choose 0..{len(srcs) - 1}")
    results = OttawaAligner(config, _encoder(encoder, truncate, device)).align_batch(srcs, mts)
    lines = [json.dumps({"pair": k, **r.to_dict()}) for k, r in enumerate(results)]
    atomic_write_text(out / "alignments.jsonl", "\n".join(lines) + "\n")
    atomic_write_text(
        out / "config.json", json.dumps({**config.to_dict(), "encoder": encoder}, indent=2)
    )
    print(f"wrote {out / 'alignments.jsonl'} ({len(results)} pairs)")
    if plot is not None:
        path = results[plot].plot(out / f"pair_{plot}.png")
        print(f"wrote {path}")


@app.command()
def score(
    src: Annotated[Path, typer.Argument(help="Source sentences, one per line.")],
    mt: Annotated[Path, typer.Argument(help="Translations, one per line.")],
    method: Annotated[
        str, typer.Option("--method", help="ottawa | balanced-ot | argmax | itermax | cosine.")
    ] = "ottawa",
    encoder: EncoderOpt = "offline",
    out: Annotated[Path, typer.Option("--out", help="Folder for scores.tsv.")] = Path("ottawa-out"),
    reg: RegOpt = 0.05,
    truncate: TruncOpt = False,
    device: DeviceOpt = "cpu",
) -> None:
    """Sentence hallucination and omission scores (higher = worse) as scores.tsv."""
    from papershelf.io import atomic_write_text

    from ottawa.config import OttawaConfig
    from ottawa.evaluate import METHODS, score_methods
    from ottawa.files import read_pair_files

    if method not in METHODS:
        raise ValueError(f"--method: {method!r} is not allowed; choose from {', '.join(METHODS)}")
    config = OttawaConfig(reg=reg)
    srcs, mts = read_pair_files(src, mt)
    s = score_methods(srcs, mts, [method], _encoder(encoder, truncate, device), config)[method]
    rows = ["line\thall\tomi"] + [
        f"{k + 1}\t{h:.6f}\t{o:.6f}"
        for k, (h, o) in enumerate(zip(s["hall"], s["omi"], strict=True))
    ]
    atomic_write_text(out / "scores.tsv", "\n".join(rows) + "\n")
    print(f"wrote {out / 'scores.tsv'} ({len(srcs)} pairs, method {method})")


@app.command()
def evaluate(
    halomi: Annotated[
        Path | None, typer.Option("--halomi", help="Folder of a user-supplied HalOmi copy.")
    ] = None,
    synthetic: Annotated[
        bool, typer.Option("--synthetic", help="Use the generated benchmark.")
    ] = False,
    difficulty: Annotated[
        str, typer.Option("--difficulty", help="easy | hard (synthetic).")
    ] = "hard",
    n: Annotated[int, typer.Option("--n", help="Synthetic source sentences (6 pairs each).")] = 120,
    seed: Annotated[int, typer.Option("--seed", help="Synthetic seed.")] = 0,
    methods: Annotated[
        str, typer.Option("--methods", help="Comma-separated methods.")
    ] = "ottawa,balanced-ot,argmax,cosine",
    directions: Annotated[
        str | None,
        typer.Option(
            "--directions", help="Comma-separated HalOmi directions, e.g. eng_Latn-deu_Latn."
        ),
    ] = None,
    encoder: EncoderOpt = "offline",
    out: Annotated[Path | None, typer.Option("--out", help="Also write report.json here.")] = None,
    truncate: TruncOpt = False,
    device: DeviceOpt = "cpu",
) -> None:
    """HalOmi pair-AUC per direction (+ mean) and ROC-AUC, on HalOmi or the synthetic set."""
    from papershelf.io import atomic_write_json

    from ottawa.evaluate import METHODS, score_methods
    from ottawa.halomi import evaluate_sentence, evaluate_words, load_halomi
    from ottawa.synthetic import make_benchmark

    if (halomi is None) == (not synthetic):
        raise ValueError("evaluate: pass exactly one of --halomi DIR or --synthetic")
    names = [m.strip() for m in methods.split(",") if m.strip()]
    bad = [m for m in names if m not in METHODS]
    if bad or not names:
        raise ValueError(
            f"--methods: {bad or names!r} not allowed; choose from {', '.join(METHODS)}"
        )
    if halomi is not None:
        rows = load_halomi(halomi).rows
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
    scores = score_methods(
        [r.src_text for r in rows],
        [r.mt_text for r in rows],
        names,
        _encoder(encoder, truncate, device),
    )
    report = {}
    for name in names:
        sent = evaluate_sentence(rows, scores[name]["hall"], scores[name]["omi"])
        print(
            sent.to_markdown(f"{name}: sentence level (pair-AUC = HalOmi metric; *_roc = ROC-AUC)")
        )
        report[name] = {"sentence": {"per_direction": sent.per_direction, "mean": sent.mean}}
        if scores[name]["hall_words"] is not None:
            words = evaluate_words(rows, scores[name]["hall_words"], scores[name]["omi_words"])
            print(words.to_markdown(f"{name}: word level ROC-AUC"))
            report[name]["word"] = {"per_direction": words.per_direction, "mean": words.mean}
    print(
        "HalOmi paper baselines (pair-AUC hall/omi, 18 directions): LaBSE cosine 0.78/0.72, "
        "BLASER 2.0-QE 0.83/0.74, Seq-Logprob 0.80/0.59, COMET-QE 0.75/0.59"
    )
    if out is not None:
        atomic_write_json(out / "report.json", report)
        print(f"wrote {out / 'report.json'}")


def main() -> None:
    run_app(app)
