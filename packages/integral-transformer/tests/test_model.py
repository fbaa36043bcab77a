"""IntegralLM: layer kinds, shapes, parameter counts, causality."""

import torch
from integral_transformer.config import LMConfig
from integral_transformer.model import IntegralLM


def test_layer_kinds_and_params():
    cfgs = {a: LMConfig(attention=a) for a in ("vanilla", "integral", "cog")}
    counts = {a: sum(p.numel() for p in IntegralLM(c).parameters()) for a, c in cfgs.items()}
    assert len(set(counts.values())) == 1
    assert cfgs["integral"].layer_kinds() == ("vanilla", "vanilla", "integral", "integral")
    assert LMConfig(placement="bottom_half").layer_kinds() == (
        "integral",
        "integral",
        "vanilla",
        "vanilla",
    )


def test_forward_shapes_and_causality():
    torch.manual_seed(0)
    for att in ("vanilla", "integral", "diff", "cog"):
        m = IntegralLM(LMConfig(attention=att, placement="all")).eval()
        ids = torch.randint(0, 64, (2, 12))
        out = m(ids, output_attentions=True, output_hidden_states=True)
        assert out["logits"].shape == (2, 12, 64)
        assert len(out["attentions"]) == 4 and len(out["hidden_states"]) == 5
        ids2 = ids.clone()
        ids2[:, 8:] = (ids2[:, 8:] + 1) % 64
        with torch.no_grad():
            torch.testing.assert_close(m(ids2)["logits"][:, :8], m(ids)["logits"][:, :8])
