"""OTTAWA: optimal-transport word alignment with an adaptive null for hallucination and omission detection."""

from ottawa.aligner import AlignmentResult, OttawaAligner
from ottawa.config import OttawaConfig
