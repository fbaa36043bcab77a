"""Claim ``posgen-semi-recursive``: on PosGen semi-recursive, Resonance RoPE > RoPE and
Resonance-YaRN > YaRN (OOD).

The comparison, its precondition and the settings are ``resonance_rope.posgen_table``'s, shared
with ``posgen-cot``.
"""

from __future__ import annotations

from papershelf.registry import Result, RunContext


def run(ctx: RunContext) -> Result:
    from resonance_rope.posgen_table import posgen_claim

    return posgen_claim("semi_recursive", ctx)
