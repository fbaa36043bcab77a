from __future__ import annotations

import pytest
import torch


@pytest.fixture
def input_ids():
    return torch.randint(0, 100, (4, 9), generator=torch.Generator().manual_seed(0))


@pytest.fixture(scope="session")
def base_dir(tmp_path_factory):
    """A tiny random BERT saved as a local model folder (with MiniLM's tokenizer)."""
    from papershelf.models import offline_encoder_path, tiny_encoder_config
    from transformers import AutoTokenizer, BertForSequenceClassification

    folder = tmp_path_factory.mktemp("base")
    torch.manual_seed(0)
    BertForSequenceClassification(tiny_encoder_config(num_labels=4)).save_pretrained(folder)
    AutoTokenizer.from_pretrained(offline_encoder_path()).save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def trained(tmp_path_factory, base_dir):
    """A ``dylora train`` run folder (4 steps on the tiny BERT, r_max = 4, update_mode all)."""
    from dylora.cli import app
    from typer.testing import CliRunner

    out = tmp_path_factory.mktemp("run")
    result = CliRunner().invoke(
        app,
        [
            "train",
            "--model",
            str(base_dir),
            "--steps",
            "4",
            "--batch-size",
            "8",
            "--r-max",
            "4",
            "--out",
            str(out),
            "--update-mode",
            "all",
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    return out
