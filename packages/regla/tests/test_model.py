import torch
from regla.config import LMConfig, ReGLAConfig
from regla.model import DecayRegressor, ReGLALM, count_params


def _lm(layer_types="alternate"):
    torch.manual_seed(0)
    cfg = LMConfig(
        vocab_size=32,
        hidden_size=16,
        num_layers=2,
        num_heads=2,
        layer_types=layer_types,
        attention=ReGLAConfig(chunk_size=4),
    )
    return ReGLALM(cfg).double().eval()


def test_hybrid_layout_and_shapes():
    lm = _lm()
    assert lm.layer_types == ("softmax", "regla")
    logits, states = lm(torch.randint(0, 32, (2, 11)), use_cache=True)
    assert logits.shape == (2, 11, 32) and len(states) == 2
    assert count_params(lm) < sum(p.numel() for p in lm.parameters()) + 1


def test_streaming_generation_equals_the_parallel_forward():
    for layout in ("all", "alternate"):
        lm = _lm(layout)
        out = lm.generate(torch.randint(0, 32, (2, 5)), 8)
        logits, _ = lm(out)
        # each generated token is the argmax of the full (non-streaming) forward
        assert torch.equal(logits[:, 4:-1].argmax(-1), out[:, 5:])


def test_decay_regressor_shapes():
    m = DecayRegressor(ReGLAConfig(hidden_size=8, num_heads=2, feature_map="identity", norm="none"))
    assert m(torch.randn(3, 7, 4)).shape == (3, 7, 4)
