"""The black-box objective, its solvers, and BOSCH's three-stage Large Neighbourhood Search.

Objective (spec "Method: Objective"): L(z) = -Ŝ(z) + α·(ρ(z) - ρ)², with
Ŝ(z) = (S(z) - S_allSWA) / (S_full - S_allSWA). Every move keeps each layer's SWA count,
so the penalty is constant inside a neighbourhood; evaluations are memoised by mask and
counted per stage, and no solver spends more new evaluations than its budget.
"""

from __future__ import annotations

import itertools
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from papershelf.errors import UserError

from bosch.config import BoschConfig
from bosch.mask import HeadMask, exact_count

__all__ = [
    "Evaluator",
    "SearchResult",
    "bosch_search",
    "exhaustive_search",
    "random_search",
    "search_masks",
    "swap_ls",
]

ScoreFn = Callable[[HeadMask], float]


def _key(mask: HeadMask) -> str:
    return "".join("1" if b else "0" for b in mask.flat)


class Evaluator:
    """Memoised black-box score S(mask) with the normalised objective and per-stage counts.

    ``history`` records every new evaluation (mask bits, S, stage, wall seconds).
    ``preloaded`` (mask bits -> S, e.g. from a resumed ``history.jsonl``) answers without
    calling ``score_fn`` but still counts, so a resumed search takes the same path.
    """

    def __init__(
        self,
        score_fn: ScoreFn,
        ratio: float,
        alpha: float = 10.0,
        preloaded: dict[str, float] | None = None,
        on_eval: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.score_fn, self.ratio, self.alpha = score_fn, ratio, alpha
        self.cache: dict[str, float] = {}
        self.preloaded = dict(preloaded or {})
        self.history: list[dict[str, Any]] = []
        self.counts: dict[str, int] = {}
        self.stage = "reference"
        self.on_eval = on_eval
        self.s_full = 1.0
        self.s_swa = 0.0

    def is_cached(self, mask: HeadMask) -> bool:
        return _key(mask) in self.cache

    @property
    def n_evals(self) -> int:
        return sum(self.counts.values())

    def score(self, mask: HeadMask) -> float:
        """S(mask), memoised; a new mask counts one evaluation in the current stage."""
        key = _key(mask)
        if key in self.cache:
            return self.cache[key]
        start = time.perf_counter()
        value = self.preloaded[key] if key in self.preloaded else float(self.score_fn(mask))
        if not (-1e-9 <= value <= 1.0 + 1e-9):  # also refuses NaN
            raise UserError(f"score_fn: must return a value in [0, 1], got {value} for {mask!r}")
        value = min(1.0, max(0.0, value))
        self.cache[key] = value
        self.counts[self.stage] = self.counts.get(self.stage, 0) + 1
        entry = {
            "mask": key,
            "score": value,
            "stage": self.stage,
            "wall_s": time.perf_counter() - start,
        }
        self.history.append(entry)
        if self.on_eval is not None:
            self.on_eval(entry)
        return value

    def set_references(self, shape: tuple[int, int]) -> None:
        """Score the full and all-SWA models (Ŝ = 1 and 0); refuse if they are not apart."""
        self.stage = "reference"
        self.s_full = self.score(HeadMask.zeros(*shape))
        self.s_swa = self.score(HeadMask.ones(*shape))
        if self.s_full <= self.s_swa:
            raise UserError(
                f"calibration: the full model (S={self.s_full:.4f}) must score above the "
                f"all-SWA model (S={self.s_swa:.4f}); the calibration task cannot tell them apart"
            )

    def normalised(self, mask: HeadMask) -> float:
        """Ŝ(mask) = (S - S_allSWA) / (S_full - S_allSWA)."""
        return (self.score(mask) - self.s_swa) / (self.s_full - self.s_swa)

    def objective(self, mask: HeadMask) -> float:
        """L(z) = -Ŝ(z) + α (ρ(z) - ρ)² (lower is better)."""
        return -self.normalised(mask) + self.alpha * (mask.ratio - self.ratio) ** 2


# --- solvers ---------------------------------------------------------------------------


def _swap_moves(mask: HeadMask, layers: Sequence[int]) -> list[tuple[int, int, int]]:
    moves = []
    for li in layers:
        row = mask.layer(li)
        for a in range(len(row)):
            for b in range(len(row)):
                if row[a] and not row[b]:
                    moves.append((li, a, b))
    return moves


def _apply(mask: HeadMask, move: tuple[int, int, int]) -> HeadMask:
    li, a, b = move
    row = list(mask.layer(li))
    row[a], row[b] = False, True
    return mask.with_layer(li, row)


def swap_ls(
    ev: Evaluator,
    init: HeadMask,
    layers: Sequence[int],
    budget: int,
    rng: random.Random,
    patience: int = 20,
) -> HeadMask:
    """First-improvement local search; a move swaps one SWA and one full group of one layer.

    Only ``layers`` change, each keeps its SWA count. After a pass without improvement or
    ``patience`` non-improving evaluations, restarts from the best mask with a random kick
    of two swaps. Spends at most ``budget`` new evaluations (memo hits are free).
    """
    used = 0

    def f(mask: HeadMask) -> float | None:
        nonlocal used
        if not ev.is_cached(mask):
            if used >= budget:
                return None
            used += 1
        return ev.objective(mask)

    best_f = f(init)
    if best_f is None:
        return init
    best = cur = init
    cur_f = best_f
    idle_rounds = 0
    while used < budget and idle_rounds < 10:
        before = used
        improved, stale = False, 0
        moves = _swap_moves(cur, layers)
        rng.shuffle(moves)
        for move in moves:
            cand = _apply(cur, move)
            new = not ev.is_cached(cand)
            fc = f(cand)
            if fc is None:
                return best
            if fc < cur_f - 1e-12:
                cur, cur_f, improved = cand, fc, True
                if fc < best_f - 1e-12:
                    best, best_f = cand, fc
                break
            stale += new
            if stale >= patience:
                break
        if not improved:
            cur, cur_f = best, best_f
            kick = _swap_moves(cur, layers)
            for _ in range(2):
                if kick:
                    cur = _apply(cur, rng.choice(kick))
                    kick = _swap_moves(cur, layers)
            fc = f(cur)
            if fc is None:
                return best
            cur_f = fc
            if fc < best_f - 1e-12:
                best, best_f = cur, fc
        idle_rounds = idle_rounds + 1 if used == before else 0
    return best


def _layer_choices(base: HeadMask, layers: Sequence[int], counts: Sequence[int]):
    groups = base.shape[1]
    per_layer = [
        [
            tuple(g in combo for g in range(groups))
            for combo in itertools.combinations(range(groups), n)
        ]
        for n in counts
    ]
    for rows in itertools.product(*per_layer):
        mask = base
        for li, row in zip(layers, rows, strict=True):
            mask = mask.with_layer(li, row)
        yield mask


def exhaustive_search(
    ev: Evaluator,
    base: HeadMask,
    layers: Sequence[int],
    counts: Sequence[int] | None = None,
    total: int | None = None,
    budget: int | None = None,
) -> HeadMask:
    """Enumerate every mask of ``layers`` (the rest fixed from ``base``) and keep the best.

    Either per-layer SWA ``counts`` or a ``total`` count over the freed layers (the oracle);
    at most ``budget`` new evaluations (all of them when None). Ties keep the first found.
    """
    if (counts is None) == (total is None):
        raise ValueError("exhaustive_search: give exactly one of counts or total")
    groups = base.shape[1]
    n_vars = len(layers) * groups
    if counts is not None:
        candidates = _layer_choices(base, layers, counts)
    else:
        if n_vars > 24:
            raise UserError(f"solver: exhaustive needs at most 24 variables, got {n_vars}")

        def gen():
            for combo in itertools.combinations(range(n_vars), total):
                mask = base
                chosen = set(combo)
                for i, li in enumerate(layers):
                    row = [i * groups + g in chosen for g in range(groups)]
                    mask = mask.with_layer(li, row)
                yield mask

        candidates = gen()
    best, best_f, used = None, math.inf, 0
    for mask in candidates:
        if not ev.is_cached(mask):
            if budget is not None and used >= budget:
                break
            used += 1
        fm = ev.objective(mask)
        if fm < best_f - 1e-12:
            best, best_f = mask, fm
    return best if best is not None else base


def random_search(
    ev: Evaluator,
    init: HeadMask,
    layers: Sequence[int],
    budget: int,
    rng: random.Random,
) -> HeadMask:
    """Budgeted random sampling of masks with each freed layer's SWA count fixed."""
    best, best_f = init, math.inf
    used, tries = 0, 0
    counts = init.per_layer_counts()
    groups = init.shape[1]
    cand = init
    while used < budget and tries < 50 * budget + 50:
        tries += 1
        if not ev.is_cached(cand):
            used += 1
        fc = ev.objective(cand)
        if fc < best_f - 1e-12:
            best, best_f = cand, fc
        for li in layers:
            chosen = set(rng.sample(range(groups), counts[li]))
            cand = cand.with_layer(li, [g in chosen for g in range(groups)])
    return best


def _solve(ev, cfg: BoschConfig, init, layers, budget, rng) -> HeadMask:
    if cfg.solver == "swap_ls":
        return swap_ls(ev, init, layers, budget, rng, cfg.patience)
    if cfg.solver == "random":
        return random_search(ev, init, layers, budget, rng)
    counts = [init.per_layer_counts()[li] for li in layers]
    return exhaustive_search(ev, init, layers, counts=counts, budget=budget)


# --- BOSCH -----------------------------------------------------------------------------


@dataclass
class SearchResult:
    """What ``bosch_search`` returns.

    Attributes:
        mask: the selected SWA groups (exactly round(ρ·N) of them, except stages="layer"
            when ρ·layers is not an integer).
        score: S(mask) on the calibration set; ``normalised`` is Ŝ(mask).
        n_evals: new black-box evaluations per stage ("reference", "probe", "group", ...).
        history: every evaluation, in order.
        stage_masks: the mask after each stage.
        layer_sensitivity: stage-1 drop δ_ℓ per layer (marginal or cumulative, as configured).
        layer_counts: stage-2 SWA groups per layer.
        budgets: the evaluation budget of each stage.
    """

    mask: HeadMask
    score: float
    normalised: float
    n_evals: dict[str, int]
    history: list[dict[str, Any]]
    stage_masks: dict[str, HeadMask] = field(default_factory=dict)
    layer_sensitivity: list[float] = field(default_factory=list)
    layer_counts: list[int] = field(default_factory=list)
    budgets: dict[str, int] = field(default_factory=dict)
    s_full: float = 1.0
    s_swa: float = 0.0

    @property
    def total_evals(self) -> int:
        return sum(self.n_evals.values())

    def summary(self) -> dict[str, Any]:
        return {
            "mask": repr(self.mask),
            "ratio": self.mask.ratio,
            "score": self.score,
            "normalised": self.normalised,
            "n_evals": self.n_evals,
            "total_evals": self.total_evals,
            "budgets": self.budgets,
            "layer_sensitivity": self.layer_sensitivity,
            "layer_counts": self.layer_counts,
            "s_full": self.s_full,
            "s_swa": self.s_swa,
        }


def allocate_counts(
    difficulty: Sequence[float], ratio: float, groups: int, offsets=(-2, 0, 2)
) -> list[int]:
    """Stage 2: per-layer SWA counts from the layers' drops (low = easy), Σ = round(ρ·N).

    Easiest third of the layers get ρG + offsets[2]·G/8, hardest third ρG + offsets[0]·G/8,
    the rest ρG + offsets[1]·G/8 (rounded, clipped to [0, G]; the spec's ±2 groups at G = 8,
    scaled for other G: ours); then one group at a time is moved away from
    the layer furthest above its level (hardest first) or to the one furthest below (easiest
    first) until the sum is exact (bucket rule: ours, spec "Method" stage 2).
    """
    n_layers = len(difficulty)
    target = exact_count(ratio, n_layers * groups)
    order = sorted(range(n_layers), key=lambda li: (difficulty[li], -li))  # easiest first
    rank = {li: r for r, li in enumerate(order)}
    third = max(1, round(n_layers / 3)) if n_layers >= 3 else 0
    base = []
    for li in range(n_layers):
        r = rank[li]
        off = offsets[2] if r < third else offsets[0] if r >= n_layers - third else offsets[1]
        level = ratio * groups + off * groups / 8  # offsets in units of G/8 (±2 at G = 8)
        base.append(min(groups, max(0, math.floor(level + 0.5 + 1e-9))))
    counts = list(base)
    while sum(counts) > target:
        li = max(
            (li for li in range(n_layers) if counts[li] > 0),
            key=lambda li: (counts[li] - base[li], rank[li]),
        )
        counts[li] -= 1
    while sum(counts) < target:
        li = min(
            (li for li in range(n_layers) if counts[li] < groups),
            key=lambda li: (counts[li] - base[li], rank[li]),
        )
        counts[li] += 1
    return counts


def _first_n(row_pref: Sequence[int], n: int, groups: int) -> list[bool]:
    """A row with n SWA groups, preferring the groups in ``row_pref`` in order."""
    order = list(row_pref) + [g for g in range(groups) if g not in row_pref]
    chosen = set(order[:n])
    return [g in chosen for g in range(groups)]


def search_masks(
    score_fn: ScoreFn,
    shape: tuple[int, int],
    config: BoschConfig,
    preloaded: dict[str, float] | None = None,
    on_eval: Callable[[dict[str, Any]], None] | None = None,
) -> SearchResult:
    """BOSCH on a black-box ``score_fn(mask) -> S in [0, 1]`` for masks of ``shape`` (L, G).

    Stages (spec "Method: LNS"): 1. cascaded layer probing from the top layer down (budget
    b1 = min(budget_probe, C(G, n1)) per layer, n1 = ceil(ρG)); 2. per-layer counts from the
    drops; 3. joint search in chunks of layers sharing a count (budget budget_factor × vars).
    """
    cfg = config
    n_layers, groups = shape
    rng = random.Random(cfg.seed)
    ev = Evaluator(score_fn, cfg.ratio, cfg.penalty_alpha, preloaded, on_eval)
    total = n_layers * groups
    target = exact_count(cfg.ratio, total)
    ev.set_references(shape)
    budgets: dict[str, int] = {"reference": 2}

    def result(mask, **extra) -> SearchResult:
        return SearchResult(
            mask=mask,
            score=ev.score(mask),
            normalised=ev.normalised(mask),
            n_evals=dict(ev.counts),
            history=ev.history,
            budgets=budgets,
            s_full=ev.s_full,
            s_swa=ev.s_swa,
            **extra,
        )

    if target in (0, total):
        mask = HeadMask.zeros(*shape) if target == 0 else HeadMask.ones(*shape)
        return result(mask, stage_masks={"final": mask})

    if cfg.stages == "layer":
        ev.stage = "layer"
        n_swa_layers = exact_count(cfg.ratio, n_layers)
        budgets["layer"] = cfg.budget_factor * n_layers
        layer_ev = Evaluator(
            lambda lm: ev.score(HeadMask([[b] * groups for b in lm.flat])),
            cfg.ratio,
            cfg.penalty_alpha,
        )
        layer_ev.s_full, layer_ev.s_swa = ev.s_full, ev.s_swa
        layer_ev.stage = "layer"
        init = HeadMask.from_flat([i >= n_layers - n_swa_layers for i in range(n_layers)], n_layers)
        best = _solve(layer_ev, cfg, init, [0], budgets["layer"], rng)
        mask = HeadMask([[b] * groups for b in best.flat])
        return result(mask, stage_masks={"layer": mask})

    stage_masks: dict[str, HeadMask] = {}
    sensitivity: list[float] = [0.0] * n_layers
    current = HeadMask.zeros(*shape)
    best_rows: list[list[int]] = [[] for _ in range(n_layers)]
    if cfg.stages in ("full", "single"):
        ev.stage = "probe"
        n1 = min(groups, math.ceil(cfg.ratio * groups - 1e-9))
        b1 = min(cfg.budget_probe, math.comb(groups, n1))
        budgets["probe"] = b1 * n_layers
        s_best = {n_layers: ev.s_full}
        for li in reversed(range(n_layers)):
            init = current.with_layer(li, _first_n([], n1, groups))
            if math.comb(groups, n1) <= b1:
                best = exhaustive_search(ev, init, [li], counts=[n1], budget=b1)
            else:
                best = _solve(ev, cfg, init, [li], b1, rng)
            current = best
            s_best[li] = ev.score(best)
            best_rows[li] = [g for g, b in enumerate(best.layer(li)) if b]
        for li in range(n_layers):
            sensitivity[li] = (
                s_best[li + 1] - s_best[li]
                if cfg.sensitivity == "marginal"
                else ev.s_full - s_best[li]
            )
        stage_masks["probe"] = current
        if cfg.stages == "single":
            rows = [list(current.layer(li)) for li in range(n_layers)]
            count = current.count
            while count > target:
                li = max(
                    (li for li in range(n_layers) if any(rows[li])),
                    key=lambda li: (sensitivity[li], li),
                )
                g = max(g for g in range(groups) if rows[li][g])
                rows[li][g] = False
                count -= 1
            mask = HeadMask(rows)
            stage_masks["single"] = mask
            return result(mask, stage_masks=stage_masks, layer_sensitivity=sensitivity)
        counts = allocate_counts(sensitivity, cfg.ratio, groups, cfg.bucket_offsets)
    else:  # multi: uniform counts, no probing
        counts = allocate_counts([0.0] * n_layers, cfg.ratio, groups, (0, 0, 0))
    stage_masks["allocate"] = HeadMask(
        [_first_n(best_rows[li], counts[li], groups) for li in range(n_layers)]
    )
    # stage 3: groups of layers sharing a count, easiest first, chunks of <= max_vars
    ev.stage = "group"
    current = stage_masks["allocate"]
    buckets: dict[int, list[int]] = {}
    for li in range(n_layers):
        if 0 < counts[li] < groups:
            buckets.setdefault(counts[li], []).append(li)
    order = sorted(buckets.values(), key=lambda ls: sum(sensitivity[li] for li in ls) / len(ls))
    per_chunk = max(1, cfg.max_vars // groups)
    budgets["group"] = 0
    for layers in order:
        layers = sorted(layers, key=lambda li: sensitivity[li])
        for i in range(0, len(layers), per_chunk):
            chunk = layers[i : i + per_chunk]
            b3 = cfg.budget_factor * len(chunk) * groups
            budgets["group"] += b3
            current = _solve(ev, cfg, current, chunk, b3, rng)
    stage_masks["group"] = current
    return result(
        current, stage_masks=stage_masks, layer_sensitivity=sensitivity, layer_counts=counts
    )


def bosch_search(
    model, calib, config: BoschConfig, score_fn: ScoreFn | None = None, **kwargs
) -> SearchResult:
    """BOSCH on a model: S(mask) = ``score_fn(mask)`` or the retrieval accuracy on ``calib``.

    ``model`` needs ``num_layers``, ``num_kv_heads`` and ``set_hybrid(mask, window,
    sink_tokens)`` (``TinyRetrievalLM``, or ``bosch.hf.HFHybrid`` for a transformers model).
    """
    if score_fn is None:
        from bosch.task import retrieval_score

        def score_fn(mask: HeadMask) -> float:
            model.set_hybrid(mask, config.window, config.sink_tokens)
            try:
                return retrieval_score(model, calib)
            finally:
                model.set_hybrid(
                    HeadMask.zeros(model.num_layers, model.num_kv_heads),
                    config.window,
                    config.sink_tokens,
                )

    return search_masks(score_fn, (model.num_layers, model.num_kv_heads), config, **kwargs)
