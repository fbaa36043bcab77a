"""The paper's claims, one module each, every one a ``run(ctx) -> Result`` on the synthetic
perturbation benchmark with the offline MiniLM encoder.

- ``error_type_separation.run``: the hall and omi scores tell hallucinations from omissions;
  sentence cosine cannot.
- ``null_beats_balanced.run``: the adaptive null beats balanced OT without null.
- ``word_level.run``: word-level detection from null mass vs max similarity.

The benchmark runs they share (cached per process) live in :mod:`ottawa.synthetic_eval`.
"""
