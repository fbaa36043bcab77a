"""dylora.workflow: the command bodies' one-line errors (train, eval --ranks, export)."""

from __future__ import annotations

import json

import pytest
from dylora import DyLoRAConfig
from dylora.workflow import (
    RunOptions,
    check_saved_ranks,
    eval_run,
    export_run,
    resolve_run_dir,
    train_run,
)
from papershelf import UserError


def test_missing_model_is_one_line_with_offline_options(tmp_path):
    missing = str(tmp_path / "no-such-model")
    with pytest.raises(
        UserError, match=r"model: local path .*no-such-model.* does not exist.*offline options"
    ):
        train_run(tmp_path / "run", DyLoRAConfig(), RunOptions(model=missing))
    with pytest.raises(UserError, match=r"model: cannot load 'no-such-hub-name'.*offline options"):
        train_run(tmp_path / "run2", DyLoRAConfig(), RunOptions(model="no-such-hub-name"))


def test_eval_and_export_refuse_bad_ranks(trained):
    with pytest.raises(UserError, match=r"--ranks: must be in \[1, 4\], got 5"):
        eval_run(trained, "1-5")
    with pytest.raises(UserError, match="cannot parse 'x'"):
        eval_run(trained, "1,x")
    with pytest.raises(UserError, match=r"--rank: must be in \[1, 4\], got 0"):
        export_run(trained, 0, trained / "x")
    with pytest.raises(UserError, match="--format: must be one of peft, merged"):
        export_run(trained, 2, trained / "x", fmt="onnx")
    with pytest.raises(UserError, match="neither a dylora train folder"):
        eval_run(trained / "nothing", "1")


def test_run_folder_and_saved_ranks(trained):
    adapter_dir, run_cfg = resolve_run_dir(trained)
    assert adapter_dir == trained / "adapter"
    assert RunOptions.from_dict(run_cfg["run"]).steps == 4
    assert run_cfg["train"]["max_steps"] == 4 and run_cfg["dylora"]["r_max"] == 4
    assert resolve_run_dir(adapter_dir)[0] == adapter_dir
    check_saved_ranks(trained, [1, 4], "--ranks")
    with pytest.raises(UserError, match=r"--ranks: must be in \[1, 4\], got 5"):
        check_saved_ranks(trained, [5], "--ranks")


def test_saved_ranks_refuse_an_adapter_of_another_method(trained, tmp_path):
    folder = tmp_path / "lora"
    folder.mkdir()
    cfg = json.loads((trained / "adapter" / "adapter_config.json").read_text())
    (folder / "adapter_config.json").write_text(json.dumps({**cfg, "adapter_type": "krona"}))
    with pytest.raises(UserError, match="holds adapter_type 'krona', not 'dylora'"):
        check_saved_ranks(folder, [1], "--rank")
