"""Resonance RoPE and the RoPE scaling family, with the PosGen benchmark."""
