"""PEFT LoKr export: PEFT loads it and computes our logits (peft is test/bench-only)."""

from __future__ import annotations

import pytest
import torch
from krona import KronAConfig, get_krona_model
from krona.errors import KronAError

peft = pytest.importorskip("peft")


def test_peft_lokr_reproduces_our_logits(tiny_cls, batch, tmp_path):
    from papershelf.models import load_model

    model, _ = tiny_cls
    state = {k: v.clone() for k, v in model.state_dict().items()}
    km = get_krona_model(model, KronAConfig(scale=2.5, modules_to_save=["classifier"]))
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for m in km.krona_modules().values():
            m.krona_A.copy_(0.3 * torch.randn(m.krona_A.shape, generator=g))
            m.krona_B.copy_(0.3 * torch.randn(m.krona_B.shape, generator=g))
        km.model.classifier.bias.add_(0.5)
    km.eval()
    with torch.no_grad():
        ours = km(**batch).logits
    km.export_peft(tmp_path / "lokr")
    fresh, _ = load_model("tiny-encoder", task="sequence-classification", num_labels=3)
    fresh.load_state_dict(state)
    theirs_model = peft.PeftModel.from_pretrained(fresh, str(tmp_path / "lokr")).eval()
    with torch.no_grad():
        theirs = theirs_model(**batch).logits
    torch.testing.assert_close(theirs, ours, atol=1e-5, rtol=0)


def test_export_refuses_unrepresentable_and_block(tiny_cls, tmp_path):
    from papershelf.models import load_model

    model, _ = tiny_cls
    km = get_krona_model(model, KronAConfig(shapes={"query": {"A": (4, 4), "B": (16, 16)}}))
    with pytest.raises(KronAError, match=r"PEFT LoKr .* can only express A=8x8, B=8x8"):
        km.export_peft(tmp_path / "x")
    kb = get_krona_model(load_model("tiny-encoder")[0], KronAConfig(variant="block"))
    with pytest.raises(KronAError, match="cannot be merged"):
        kb.export_peft(tmp_path / "y")


def test_old_export_names_warn_and_write_the_same_folder(tiny_cls, tmp_path):
    from krona.export import export_peft_lokr

    model, _ = tiny_cls
    km = get_krona_model(model, KronAConfig(scale=2.5))
    km.export_peft(tmp_path / "new")
    with pytest.warns(DeprecationWarning, match="use export_peft"):
        km.export_peft_lokr(tmp_path / "old")
    with pytest.warns(DeprecationWarning, match=r"use model.export_peft\(dir\)"):
        export_peft_lokr(km, tmp_path / "func")
    for name in ("adapter_config.json", "adapter_model.safetensors"):
        new = (tmp_path / "new" / name).read_bytes()
        assert (tmp_path / "old" / name).read_bytes() == new
        assert (tmp_path / "func" / name).read_bytes() == new
