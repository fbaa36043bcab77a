import pytest
from papershelf.errors import UserError
from papershelf.models import (
    load_model,
    offline_encoder_path,
    tiny_decoder_config,
    tiny_encoder_config,
)


def test_offline_encoder_loads_and_embeds():
    import torch

    model, tokenizer = load_model("offline")
    batch = tokenizer(["a dog runs", "a cat sleeps"], return_tensors="pt", padding=True)
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    assert hidden.shape[0] == 2 and hidden.shape[-1] == 384
    assert (offline_encoder_path() / "model.safetensors").is_file()


@pytest.mark.parametrize(
    ("name", "task"),
    [
        ("tiny-encoder", "sequence-classification"),
        ("tiny-llama", "causal-lm"),
        ("tiny-gpt2", "causal-lm"),
    ],
)
def test_tiny_models_build_from_config(name, task):
    model, _ = (
        load_model(name, task=task, num_labels=3)
        if task == "sequence-classification"
        else load_model(name, task=task)
    )
    assert sum(p.numel() for p in model.parameters()) < 5_000_000


def test_config_overrides():
    assert tiny_encoder_config(num_hidden_layers=1).num_hidden_layers == 1
    assert tiny_decoder_config("gpt2", n_layer=3).n_layer == 3
    with pytest.raises(UserError, match="kind"):
        tiny_decoder_config("mamba")


def test_missing_hub_model_offline_names_the_offline_options(monkeypatch):
    import huggingface_hub.constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)  # read at import
    with pytest.raises(UserError, match="offline options: 'offline'") as info:
        load_model("someone/no-such-model-xyz")
    assert "\n" not in str(info.value)


def test_missing_local_path_and_bad_task(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        load_model(str(tmp_path / "nothing"))
    with pytest.raises(UserError, match="task: must be one of"):
        load_model("offline", task="translation")


def test_check_model_name_refuses_a_missing_local_path(tmp_path):
    from papershelf.models import check_model_name

    check_model_name("offline")
    check_model_name("tiny-encoder")
    check_model_name("someone/model")  # a hub name: left to the loader
    check_model_name(str(tmp_path))
    with pytest.raises(UserError, match=r"^--model: local path .* does not exist; offline options"):
        check_model_name(str(tmp_path / "missing"), field="--model")
