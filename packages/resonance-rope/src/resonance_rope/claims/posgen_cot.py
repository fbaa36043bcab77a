"""Claim ``posgen-cot``: on PosGen CoT, Resonance RoPE > RoPE and Resonance-YaRN > YaRN (OOD).

The comparison, its precondition and the settings are ``resonance_rope.posgen_table``'s, shared
with ``posgen-semi-recursive``.
"""

from __future__ import annotations

from papershelf.registry import Result, RunContext


def run(ctx: RunContext) -> Result:
    from resonance_rope.posgen_table import posgen_claim

    return posgen_claim("cot", ctx)
