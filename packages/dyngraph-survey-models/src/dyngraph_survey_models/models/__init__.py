"""Model families of the survey's taxonomy (see each module)."""

from .base import ContinuousTimeModel
from .memory import JODIE, TGAT, TGN
from .static import EdgeBank, StaticEmbedding

__all__ = ["JODIE", "TGAT", "TGN", "ContinuousTimeModel", "EdgeBank", "StaticEmbedding"]
