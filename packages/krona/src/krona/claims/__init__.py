"""The experiments behind ``krona.paper.PAPER``'s claims: one module per claim, each with
``run(ctx) -> Result`` (``structure``, ``equal_budget``, ``inference_cost``). They run on the
torch threads their ``Claim`` declares, set by papershelf's runner."""
