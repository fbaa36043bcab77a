"""The command bodies as plain functions: one-line refusals before any training."""

from __future__ import annotations

import pytest
from krona import workflow
from papershelf.errors import UserError


def test_one_data_file_is_refused(tmp_path):
    with pytest.raises(UserError, match="give both --train and --eval, or neither"):
        workflow.load_data(tmp_path / "train.jsonl", None, tok=None, seed=0)


def test_folder_without_train_record_is_refused(tmp_path):
    with pytest.raises(UserError, match=r"krona_train\.json; it was not written by `krona train`"):
        workflow.load_trained(tmp_path)


def test_unknown_export_format_is_refused(tmp_path):
    with pytest.raises(UserError, match="--format: 'onnx' is not supported"):
        workflow.export_trained(tmp_path, tmp_path / "out", "onnx")


def test_shape_rows_name_every_target():
    rows = workflow.shape_rows("tiny-encoder", ["query", "value"])
    assert len(rows) == 4 and all("A=8x8 B=8x8" in r and "LoRA r=1" in r for r in rows)
