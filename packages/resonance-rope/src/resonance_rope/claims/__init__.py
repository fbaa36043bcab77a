"""The paper's claims, one module per claim, each with ``run(ctx) -> Result`` (see ``paper.py``)."""
