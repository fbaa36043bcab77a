"""The paper's claims as experiments: each function takes a RunContext and returns a Result.

- ``linear.run``: claim 1, part A — linear teacher–student, exact test MSE per rank.
- ``minilm.run``: claim 1, part B — the offline MiniLM encoder, accuracy/NLL per rank.
- ``search_free.run``: claim 2 — one DyLoRA run vs a sweep of separate LoRA runs.
"""
