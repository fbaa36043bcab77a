"""Representative dynamic-graph models from the survey's taxonomy, on PyTorch Geometric."""
