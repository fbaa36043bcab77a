"""OTTAWA: optimal-transport word alignment with an adaptive null for hallucination and omission detection."""
