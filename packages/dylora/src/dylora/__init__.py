"""DyLoRA: dynamic search-free low-rank adaptation."""
