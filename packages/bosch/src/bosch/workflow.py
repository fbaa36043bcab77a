"""What the CLI commands do, as plain functions: train the tiny model, search, apply, evaluate."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import torch
from papershelf.errors import UserError
from papershelf.io import atomic_write_json, atomic_write_text

from bosch.config import BoschConfig, TaskConfig, TinyLMConfig
from bosch.mask import HeadMask, kv_saving
from bosch.task import RetrievalBatch, make_batch, retrieval_score

__all__ = [
    "QuickSetup",
    "apply_mask",
    "check_window",
    "evaluate_mask",
    "load_model_dir",
    "load_probe_data",
    "make_score_fn",
    "quick_setup",
    "run_search",
    "save_tiny",
    "train_tiny_model",
]

TINY_KIND = "bosch-tiny"
QUICK_WINDOW = 8
QUICK_TASK = dict(num_keys=12, filler=16, train_steps=400)


def check_window(window: int, context: int) -> None:
    """Refuse W < 1 or W >= the context (no SWA group would save anything)."""
    if isinstance(window, bool) or not isinstance(window, int) or window < 1:
        raise UserError(f"window: must be an integer >= 1, got {window!r}")
    if window >= context:
        raise UserError(
            f"window: must be < the context length {context} (else SWA saves nothing), got {window}"
        )


def check_ratio(ratio: float) -> None:
    if not isinstance(ratio, int | float) or not (0.0 <= ratio <= 1.0):
        raise UserError(f"ratio: must be in [0, 1], got {ratio!r}")


def make_score_fn(model, batch: RetrievalBatch, window: int, sink_tokens: int = 0):
    """S(mask): retrieval accuracy of ``model`` with ``mask``'s groups in SWA (window W)."""

    def score(mask: HeadMask) -> float:
        model.set_hybrid(mask, window, sink_tokens)
        return retrieval_score(model, batch)

    return score


# --- the quick setting -------------------------------------------------------------------


class QuickSetup:
    """The trained tiny retrieval model with its calibration and test sets."""

    def __init__(self, model, task: TaskConfig, window: int, seed: int, train_state) -> None:
        self.model, self.task, self.window, self.seed = model, task, window, seed
        self.calib = make_batch(
            task, task.calib_samples, torch.Generator().manual_seed(10_000 + seed)
        )
        self.test = make_batch(
            task, task.test_samples, torch.Generator().manual_seed(20_000 + seed)
        )
        self.train_seconds = train_state.wall_seconds
        self.final_loss = train_state.losses[-1]
        self.calib_score = make_score_fn(model, self.calib, window)
        self.test_score = make_score_fn(model, self.test, window)
        shape = (model.num_layers, model.num_kv_heads)
        self.full_test = self.test_score(HeadMask.zeros(*shape))
        self.swa_test = self.test_score(HeadMask.ones(*shape))

    @property
    def shape(self) -> tuple[int, int]:
        return (self.model.num_layers, self.model.num_kv_heads)

    def normalised_test(self, mask: HeadMask) -> float:
        return (self.test_score(mask) - self.swa_test) / max(1e-12, self.full_test - self.swa_test)


@functools.lru_cache(maxsize=4)
def quick_setup(seed: int = 0, steps: int | None = None) -> QuickSetup:
    """Train (once per process and seed) the quick model: 4 layers, 2 KV heads, W = 8."""
    from bosch.task import train_tiny

    task = TaskConfig(**QUICK_TASK)
    model, state = train_tiny(TinyLMConfig(), task, seed=seed, steps=steps)
    return QuickSetup(model, task, QUICK_WINDOW, seed, state)


# --- model folders -------------------------------------------------------------------------


def save_tiny(model, folder: str | Path, mask: HeadMask | None = None, window: int | None = None):
    """Write a ``TinyRetrievalLM`` (safetensors + model_config.json), with its mask if given."""
    from papershelf.checkpoint import save_weights

    config: dict[str, Any] = {"kind": TINY_KIND, "model": model.config.to_dict()}
    if mask is not None:
        config["bosch"] = {"swa": [[int(b) for b in r] for r in mask.bits], "window": window}
    return save_weights(folder, model.state_dict(), config)


def load_model_dir(path: str | Path):
    """A ``TinyRetrievalLM`` (saved by ``save_tiny``) or a transformers causal LM folder.

    Returns an object with ``num_layers``, ``num_kv_heads``, ``set_hybrid`` and
    ``__call__(input_ids) -> logits``.
    """
    from papershelf.checkpoint import load_config, load_weights

    path = Path(path)
    if not path.is_dir():
        raise UserError(
            f"model_dir: {path} is not a folder (train one offline with `bosch tiny --out DIR`)"
        )
    cfg = load_config(path)
    if cfg is not None and cfg.get("kind") == TINY_KIND:
        from bosch.model import TinyRetrievalLM

        model = TinyRetrievalLM(TinyLMConfig.from_dict(cfg["model"]))
        state, _ = load_weights(path, expected_keys=model.state_dict().keys())
        model.load_state_dict(state)
        model.eval()
        if cfg.get("bosch"):
            model.set_hybrid(HeadMask(cfg["bosch"]["swa"]), int(cfg["bosch"]["window"]))
        return model
    if (path / "config.json").is_file():
        from bosch.hf import HFHybrid, load_hybrid

        return HFHybrid(load_hybrid(path))
    raise UserError(
        f"model_dir: {path} holds neither a bosch tiny model (model_config.json) nor a "
        "transformers model (config.json)"
    )


def train_tiny_model(out: str | Path, seed: int = 0, steps: int | None = None) -> dict[str, Any]:
    """Train the quick tiny retrieval model and save it to ``out``; returns its scores."""
    setup = quick_setup(seed, steps)
    save_tiny(setup.model, out)
    info = {
        "full_test": setup.full_test,
        "all_swa_test": setup.swa_test,
        "window": setup.window,
        "train_seconds": setup.train_seconds,
    }
    atomic_write_json(Path(out) / "train_summary.json", info)
    batch = setup.calib
    lines = [
        json.dumps({"input_ids": row.tolist(), "answer_start": batch.answer_start})
        for row in batch.input_ids
    ]
    atomic_write_text(Path(out) / "probe.jsonl", "\n".join(lines) + "\n")
    return info


# --- probe data -------------------------------------------------------------------------------


def load_probe_data(path: str | Path) -> RetrievalBatch:
    """JSONL, one ``{"input_ids": [...], "answer_start": k}`` per line, all the same length."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"probe_data: {path} does not exist")
    rows, start = [], None
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            ids, s = rec["input_ids"], int(rec["answer_start"])
        except (json.JSONDecodeError, KeyError, TypeError, ValueError):
            raise UserError(
                f"probe_data: {path}:{n} must be a JSON object with input_ids and answer_start"
            ) from None
        if rows and len(ids) != len(rows[0]):
            raise UserError(
                f"probe_data: {path}:{n} has {len(ids)} tokens, expected {len(rows[0])}"
            )
        if start is not None and s != start:
            raise UserError(f"probe_data: {path}:{n} answer_start {s} differs from {start}")
        if not 1 <= s < len(ids):
            raise UserError(
                f"probe_data: {path}:{n} answer_start must be in [1, {len(ids)}), got {s}"
            )
        rows.append(ids)
        start = s
    if not rows:
        raise UserError(f"probe_data: {path} is empty")
    return RetrievalBatch(torch.tensor(rows, dtype=torch.long), int(start))


# --- commands -----------------------------------------------------------------------------------


def _history_text(log: list[dict[str, Any]]) -> str:
    """history.jsonl: mask, score, stage per evaluation (wall times left out: reruns give
    identical files)."""
    keys = ("mask", "score", "stage")
    return "".join(json.dumps({k: e[k] for k in keys}) + "\n" for e in log)


def run_search(
    model_dir: str | Path,
    probe_data: str | Path,
    config: BoschConfig,
    out: str | Path,
) -> dict[str, Any]:
    """``bosch search``: BOSCH on a saved model; writes mask.json, history.jsonl, config.json.

    Resumable: evaluations already in ``out/history.jsonl`` are reused (same masks, same path).
    """
    from bosch.search import search_masks

    check_ratio(config.ratio)
    model = load_model_dir(model_dir)
    batch = load_probe_data(probe_data)
    check_window(config.window, batch.input_ids.shape[1] - 1)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    hist_path = out / "history.jsonl"
    preloaded: dict[str, float] = {}
    if hist_path.is_file():
        for line in hist_path.read_text().splitlines():
            try:
                rec = json.loads(line)
                preloaded[rec["mask"]] = float(rec["score"])
            except (json.JSONDecodeError, KeyError, TypeError, ValueError):
                continue
    log: list[dict[str, Any]] = []

    def on_eval(entry: dict[str, Any]) -> None:
        log.append(entry)
        if len(log) % 10 == 0:
            atomic_write_text(hist_path, _history_text(log))

    score_fn = make_score_fn(model, batch, config.window, config.sink_tokens)
    config.to_json(out / "config.json")
    result = search_masks(
        score_fn, (model.num_layers, model.num_kv_heads), config, preloaded, on_eval
    )
    atomic_write_text(hist_path, _history_text(log))
    context = batch.input_ids.shape[1]
    summary = result.summary()
    summary["kv_saving_at_probe_context"] = kv_saving(
        result.mask.ratio, config.window, context, config.sink_tokens
    )
    summary["resumed_evaluations"] = sum(1 for e in log if e["mask"] in preloaded)
    result.mask.to_json(out / "mask.json", window=config.window, sink_tokens=config.sink_tokens)
    atomic_write_json(out / "summary.json", summary)
    return summary


def _read_mask(mask_path: str | Path, window: int | None) -> tuple[HeadMask, int, int]:
    path = Path(mask_path)
    mask = HeadMask.from_json(path)
    data = json.loads(path.read_text())
    w = window if window is not None else data.get("window")
    if w is None:
        raise UserError("window: give --window (the mask file does not record one)")
    return mask, int(w), int(data.get("sink_tokens", 0))


def apply_mask(
    model_dir: str | Path, mask_path: str | Path, out: str | Path, window: int | None = None
) -> Path:
    """``bosch apply``: save the model with the mask in its config (hybrid attention on load)."""
    model = load_model_dir(model_dir)
    mask, w, sinks = _read_mask(mask_path, window)
    check_window(w, 10**9)
    mask.check_shape(model.num_layers, model.num_kv_heads)
    out = Path(out)
    if hasattr(model, "model"):  # transformers
        model.set_hybrid(mask, w, sinks)
        model.model.save_pretrained(str(out))
    else:
        save_tiny(model, out, mask, w)
    return out


def evaluate_mask(
    model_dir: str | Path,
    mask_path: str | Path | None,
    probe_data: str | Path | None = None,
    window: int | None = None,
    context: int | None = None,
    samples: int = 256,
    seed: int = 0,
) -> dict[str, Any]:
    """``bosch evaluate``: retrieval accuracy S, Ŝ, and the KV saving at ``context``.

    Without ``probe_data`` the synthetic retrieval task (keys, filler, keys) is generated.
    """
    model = load_model_dir(model_dir)
    shape = (model.num_layers, model.num_kv_heads)
    if mask_path is not None:
        mask, w, sinks = _read_mask(mask_path, window)
    else:
        mask, w, sinks = HeadMask.zeros(*shape), window or 1, 0
    mask.check_shape(*shape)
    if probe_data is not None:
        batch = load_probe_data(probe_data)
    else:
        task = TaskConfig(**QUICK_TASK)
        batch = make_batch(task, samples, torch.Generator().manual_seed(30_000 + seed))
    seq = batch.input_ids.shape[1]
    check_window(w, context or seq)
    score = make_score_fn(model, batch, w, sinks)
    s, s_full, s_swa = score(mask), score(HeadMask.zeros(*shape)), score(HeadMask.ones(*shape))
    ctx = context or seq
    return {
        "score": s,
        "full": s_full,
        "all_swa": s_swa,
        "normalised": (s - s_swa) / (s_full - s_swa) if s_full > s_swa else None,
        "ratio": mask.ratio,
        "window": w,
        "context": ctx,
        "kv_saving": kv_saving(mask.ratio, w, ctx, sinks),
    }
