"""One module per claim of the Integral Transformer paper (``run(ctx) -> Result``)."""
