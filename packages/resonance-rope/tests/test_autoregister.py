"""Registration on ``import resonance_rope`` (:mod:`resonance_rope.autoregister`): a tiny
Llama from a config dict with ``rope_type: resonance_yarn`` and no other call."""

from __future__ import annotations

import subprocess
import sys

import pytest

transformers = pytest.importorskip("transformers")


@pytest.mark.slow  # a fresh interpreter imports torch + transformers (~10-50 s on 2 cores)
def test_import_alone_registers_the_types_for_a_config_dict():
    code = (
        "import sys, resonance_rope\n"
        "assert 'torch' not in sys.modules and 'transformers' not in sys.modules\n"
        "import transformers\n"
        "cfg = transformers.AutoConfig.for_model('llama', vocab_size=32, hidden_size=32, "
        "intermediate_size=64, num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=2, "
        "max_position_embeddings=64, rope_parameters={'rope_type': 'resonance_yarn', 'factor': 4.0, "
        "'original_max_position_embeddings': 64, 'rope_theta': 10000.0})\n"
        "model = transformers.AutoModelForCausalLM.from_config(cfg)\n"
        "print(model.model.rotary_emb.rope_type)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("resonance_yarn")


def test_finder_runs_the_hook_right_after_the_module_loads(tmp_path, monkeypatch):
    """The mechanism behind registration on import, on a stand-in for transformers' module."""
    from resonance_rope.autoregister import _Finder

    (tmp_path / "fake_rope_utils_mod.py").write_text("TABLE = {}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    seen = []
    finder = _Finder("fake_rope_utils_mod", lambda m: (m.TABLE.update(x=1), seen.append(m)))
    monkeypatch.setattr(sys, "meta_path", [finder, *sys.meta_path])
    monkeypatch.delitem(sys.modules, "fake_rope_utils_mod", raising=False)
    import fake_rope_utils_mod

    assert seen == [fake_rope_utils_mod] and fake_rope_utils_mod.TABLE == {"x": 1}


def test_install_registers_when_transformers_is_already_loaded():
    from resonance_rope.autoregister import install
    from resonance_rope.hf import REGISTERED_TYPES
    from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS

    saved = {n: ROPE_INIT_FUNCTIONS.pop(n) for n in REGISTERED_TYPES if n in ROPE_INIT_FUNCTIONS}
    try:
        install()
        assert set(REGISTERED_TYPES) <= set(ROPE_INIT_FUNCTIONS)
    finally:
        ROPE_INIT_FUNCTIONS.update(saved)
