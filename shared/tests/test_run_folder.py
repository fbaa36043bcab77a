import os

import pytest
from papershelf.errors import UserError
from papershelf.run_folder import FINGERPRINT_NAME, prepare_run_folder


def test_same_arguments_resume_and_other_arguments_are_refused(tmp_path):
    out = tmp_path / "run"
    data = tmp_path / "train.csv"
    data.write_text("x\n1\n")
    assert prepare_run_folder(out, {"lr": 0.1, "seed": 0}, files=[data]) is False
    (out / "weights.safetensors").write_bytes(b"w")
    assert prepare_run_folder(out, {"lr": 0.1, "seed": 0}, files=[data]) is True
    with pytest.raises(UserError, match=r"seed: 0 -> 1.*--overwrite.*--resume") as info:
        prepare_run_folder(out, {"lr": 0.1, "seed": 1}, files=[data])
    assert "\n" not in str(info.value)
    data.write_text("x\n2\n")  # same name, other content
    with pytest.raises(UserError, match=r"sha256\(train.csv\)"):
        prepare_run_folder(out, {"lr": 0.1, "seed": 0}, files=[data])
    assert prepare_run_folder(out, {"lr": 0.1, "seed": 0}, files=[data], resume=True) is True
    assert prepare_run_folder(out, {"lr": 0.5}, overwrite=True) is False
    assert sorted(p.name for p in out.iterdir()) == [FINGERPRINT_NAME]


def test_files_and_foreign_folders_are_refused(tmp_path):
    a_file = tmp_path / "file"
    a_file.write_text("")
    with pytest.raises(UserError, match="is a file"):
        prepare_run_folder(a_file, {})
    foreign = tmp_path / "photos"
    foreign.mkdir()
    (foreign / "cat.jpg").write_bytes(b"")
    with pytest.raises(UserError, match="holds no run"):
        prepare_run_folder(foreign, {}, overwrite=True)
    assert (foreign / "cat.jpg").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_read_only_parent_is_refused(tmp_path):
    parent = tmp_path / "ro"
    parent.mkdir()
    parent.chmod(0o500)
    try:
        with pytest.raises(UserError, match="permission denied"):
            prepare_run_folder(parent / "run", {})
    finally:
        parent.chmod(0o700)
