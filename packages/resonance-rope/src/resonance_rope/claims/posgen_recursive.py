"""Claim ``posgen-recursive``: on PosGen recursive, Resonance RoPE < RoPE (post-critical
extrapolation dominates) while Resonance-YaRN > YaRN (OOD).

The comparison, its precondition and the settings are ``resonance_rope.posgen_table``'s.
"""

from __future__ import annotations

from papershelf.registry import Result, RunContext


def run(ctx: RunContext) -> Result:
    from resonance_rope.posgen_table import posgen_claim

    return posgen_claim("recursive", ctx)
