"""``ottawa`` command line: align, score, evaluate, reproduce, bench.

Thin: each command parses its options and calls :mod:`ottawa.workflow` (imported inside the
command, so ``ottawa --help`` imports no torch).
"""

from __future__ import annotations

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
    str,
    typer.Option(
        "--solver",
        help="batched (default: all pairs at once) | pot | pot-log | numpy | torch | torch-log.",
    ),
]
SplitterOpt = Annotated[
    str,
    typer.Option("--splitter", help="whitespace | cjk (one word per Han/kana character) | spacy."),
]
TruncOpt = Annotated[
    bool, typer.Option("--truncate", help="Cut sentences longer than the encoder limit.")
]
DeviceOpt = Annotated[
    str, typer.Option("--device", help="cpu | cuda | cuda:N | auto (GPU when present).")
]


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
    solver: SolverOpt = "batched",
    truncate: TruncOpt = False,
    device: DeviceOpt = "cpu",
    splitter: SplitterOpt = "whitespace",
) -> None:
    """Align each line pair: pharaoh links, sentence and word scores as JSONL."""
    from ottawa.workflow import align_files

    written = align_files(
        src,
        mt,
        out,
        encoder=encoder,
        plot=plot,
        reg=reg,
        solver=solver,
        truncate=truncate,
        device=device,
        splitter=splitter,
    )
    print(f"wrote {written.alignments} ({written.n_pairs} pairs)")
    if written.plot is not None:
        print(f"wrote {written.plot}")


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
    solver: SolverOpt = "batched",
    truncate: TruncOpt = False,
    device: DeviceOpt = "cpu",
    splitter: SplitterOpt = "whitespace",
) -> None:
    """Sentence hallucination and omission scores (higher = worse) as scores.tsv."""
    from ottawa.workflow import score_files

    path, n_pairs = score_files(
        src,
        mt,
        out,
        method=method,
        encoder=encoder,
        reg=reg,
        solver=solver,
        truncate=truncate,
        device=device,
        splitter=splitter,
    )
    print(f"wrote {path} ({n_pairs} pairs, method {method})")


@app.command()
def evaluate(
    halomi: Annotated[
        Path | None, typer.Option("--halomi", help="Folder of a user-supplied HalOmi copy.")
    ] = None,
    synthetic: Annotated[
        bool, typer.Option("--synthetic", help="Use the generated benchmark.")
    ] = False,
    difficulty: Annotated[
        str, typer.Option("--difficulty", help="easy | hard | harder (synthetic).")
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
    splitter: SplitterOpt = "whitespace",
) -> None:
    """HalOmi pair-AUC per direction (+ mean) and ROC-AUC, on HalOmi or the synthetic set."""
    from ottawa.workflow import evaluate_methods

    result = evaluate_methods(
        halomi=halomi,
        synthetic=synthetic,
        difficulty=difficulty,
        n=n,
        seed=seed,
        methods=methods,
        directions=directions,
        encoder=encoder,
        out=out,
        truncate=truncate,
        device=device,
        splitter=splitter,
    )
    print(result.to_markdown())
    if result.report_path is not None:
        print(f"wrote {result.report_path}")


def main() -> None:
    run_app(app)
