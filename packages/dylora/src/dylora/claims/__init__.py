"""The paper's claims, one module per claim, each with ``run(ctx) -> Result`` (see ``dylora.paper``).

- ``rank_sweep_linear``: claim 1, part A — linear teacher–student, exact test MSE per rank.
- ``rank_sweep_minilm``: claim 1, part B — the offline MiniLM encoder, accuracy/NLL per rank.
- ``search_free``: claim 2 — one DyLoRA run vs a sweep of separate LoRA runs.
"""
