"""One module per claim of ``continuation_kd.paper.PAPER``, each with ``run(ctx) -> Result``."""
