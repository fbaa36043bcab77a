"""The claims' experiments (run by ``dyngraph reproduce``), one module per claim, each with
``run(ctx) -> Result``; every verdict is computed from the numbers."""
