"""One module per claim of ``regla.paper.PAPER``; each defines ``run(ctx) -> Result``."""
