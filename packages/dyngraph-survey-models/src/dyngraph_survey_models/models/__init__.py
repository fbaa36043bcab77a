"""Model families of the survey's taxonomy (see each module)."""

from dyngraph_survey_models.models.base import ContinuousTimeModel
from dyngraph_survey_models.models.memory import JODIE, TGAT, TGN
from dyngraph_survey_models.models.static import EdgeBank, StaticEmbedding

__all__ = ["JODIE", "TGAT", "TGN", "ContinuousTimeModel", "EdgeBank", "StaticEmbedding"]
