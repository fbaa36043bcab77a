"""Model families of the survey's taxonomy (see each module)."""

from dyngraph_survey_models.models.base import ContinuousTimeModel
from dyngraph_survey_models.models.memory import JODIE, TGN
from dyngraph_survey_models.models.static import EdgeBank, StaticEmbedding
from dyngraph_survey_models.models.tgat import TGAT

__all__ = ["JODIE", "TGAT", "TGN", "ContinuousTimeModel", "EdgeBank", "StaticEmbedding"]
