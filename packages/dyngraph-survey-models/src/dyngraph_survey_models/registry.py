"""Model names (CLI ``--model``) and their constructors for event streams."""

from __future__ import annotations

from papershelf.errors import UserError

__all__ = ["CT_MODELS", "build_model"]

CT_MODELS = ("tgn", "jodie", "tgat", "static", "edgebank")


def build_model(name: str, num_nodes: int, msg_dim: int = 0, **options):
    """A continuous-time model by name; ``options`` are passed to its constructor."""
    from dyngraph_survey_models.models import JODIE, TGAT, TGN, EdgeBank, StaticEmbedding

    if name == "tgn":
        return TGN(num_nodes, msg_dim, **options)
    if name == "tgat":
        return TGAT(num_nodes, msg_dim, **options)
    if name == "jodie":
        return JODIE(num_nodes, msg_dim, **options)
    if name == "static":
        return StaticEmbedding(num_nodes, **options)
    if name == "edgebank":
        return EdgeBank(num_nodes, **options)
    raise UserError(f"model: {name!r} is not one of {', '.join(CT_MODELS)}")
