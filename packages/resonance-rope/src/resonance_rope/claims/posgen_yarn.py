"""Claim ``posgen-yarn``: on PosGen CoT, YaRN (the official eval-time switch) > RoPE in OOD
accuracy, on the RoPE models ``posgen-cot`` trains (shared within one process).

The comparison, its precondition and the settings are ``resonance_rope.posgen_table``'s.
"""

from __future__ import annotations

from papershelf.registry import Result, RunContext


def run(ctx: RunContext) -> Result:
    from resonance_rope.posgen_table import yarn_claim

    return yarn_claim(ctx)
