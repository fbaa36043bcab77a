"""One module per claim of ``bosch.paper.PAPER``, each with ``run(ctx) -> Result``."""
