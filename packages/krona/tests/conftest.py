from __future__ import annotations

import pytest
import torch


@pytest.fixture
def tiny_cls():
    """A random 2-layer BERT (hidden 64) for 3-class classification, and its tokenizer."""
    from papershelf.models import load_model

    torch.manual_seed(0)
    return load_model("tiny-encoder", task="sequence-classification", num_labels=3)


@pytest.fixture
def batch(tiny_cls):
    _, tok = tiny_cls
    return tok(
        ["the cat sat on the mat", "a plane over the sea", "rain"],
        return_tensors="pt",
        padding=True,
    )


@pytest.fixture
def run_claim(tmp_path):
    """Run a claim as papershelf's runner does: on the claim's threads, seeded, quick."""
    from krona.paper import PAPER
    from papershelf.registry import RunContext
    from papershelf.seeding import seed_everything
    from papershelf.threads import torch_threads

    def run(claim_id: str):
        claim = PAPER.claim(claim_id)
        with torch_threads(claim.threads):
            seed_everything(0)
            return claim.resolve()(RunContext(quick=True, seed=0, out=tmp_path))

    return run
