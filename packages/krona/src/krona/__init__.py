"""KronA: Kronecker adapters for parameter-efficient fine-tuning."""
