"""dylora.export: the rank-b slice is a standard PEFT LoRA adapter with our outputs (PEFT is the oracle)."""

from __future__ import annotations

import json

import pytest
import torch
from dylora import DyLoRAConfig, get_dylora_model
from dylora.testing import make_tiny_bert, randomize_adapters

peft = pytest.importorskip("peft")


@pytest.mark.parametrize("scaling", ["alpha_over_b", "alpha_over_rmax"])
def test_peft_loads_export_and_matches(tmp_path, input_ids, scaling):
    model = get_dylora_model(
        make_tiny_bert(),
        DyLoRAConfig(
            r_max=4,
            alpha=6.0,
            scaling=scaling,
            target_modules=["query", "value"],
            modules_to_save=["classifier"],
        ),
    )
    randomize_adapters(model)
    with torch.no_grad():
        model.model.classifier.weight.mul_(-2.0)  # the trained head must travel too
    model.eval()
    for b in (1, 3, 4):
        with model.at_rank(b), torch.no_grad():
            ours = model(input_ids=input_ids).logits
        folder = model.export_peft(tmp_path / f"{scaling}-{b}", rank=b)
        cfg = json.loads((folder / "adapter_config.json").read_text())
        assert cfg["r"] == b
        peft_model = peft.PeftModel.from_pretrained(make_tiny_bert(), folder)
        peft_model.eval()
        with torch.no_grad():
            theirs = peft_model(input_ids=input_ids).logits
        torch.testing.assert_close(theirs, ours, atol=1e-5, rtol=1e-5)
        loaded_a = peft_model.base_model.model.bert.encoder.layer[0].attention.self.query.lora_A
        assert loaded_a["default"].weight.shape == (b, 32)


def test_export_needs_a_valid_rank_and_an_unmerged_adapter(tmp_path):
    from papershelf import UserError

    model = get_dylora_model(make_tiny_bert(), DyLoRAConfig(r_max=4))
    with pytest.raises(UserError, match=r"rank: must be in \[1, 4\], got 5"):
        model.export_peft(tmp_path / "a", rank=5)
    model.merge_adapter(2)
    with pytest.raises(UserError, match="unmerge_adapter"):
        model.export_peft(tmp_path / "b", rank=2)


def test_export_peft_lora_is_a_deprecated_alias(tmp_path):
    model = get_dylora_model(make_tiny_bert(), DyLoRAConfig(r_max=4))
    randomize_adapters(model)
    model.export_peft(tmp_path / "new", rank=3)
    with pytest.warns(
        DeprecationWarning, match=r"export_peft_lora\(\) is deprecated.*use export_peft"
    ):
        folder = model.export_peft_lora(tmp_path / "old", rank=3)
    assert folder == tmp_path / "old"
    for name in ("adapter_config.json", "adapter_model.safetensors"):
        assert (folder / name).read_bytes() == (tmp_path / "new" / name).read_bytes()
