"""Normalizing flows: the review's families, tail-adaptive flows and equivariant finite flows."""
