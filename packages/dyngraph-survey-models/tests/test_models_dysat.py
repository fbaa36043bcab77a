import torch
from dyngraph_survey_models.models.dysat import DySAT
from dyngraph_survey_models.testing import random_snapshots


def test_structural_attention_matches_pyg_gatconv():
    from dyngraph_survey_models.models.dysat import StructuralAttention
    from torch_geometric.nn import GATConv

    n, heads, dh = 9, 2, 3
    g = torch.Generator().manual_seed(1)
    ei = torch.randint(0, n, (2, 30), generator=g)
    ei = ei[:, ei[0] != ei[1]]  # GATConv drops existing self loops before adding its own
    x = torch.randn(n, 5, generator=g)
    ours = StructuralAttention(5, heads * dh, heads)
    ref = GATConv(5, dh, heads=heads, negative_slope=0.2, add_self_loops=True, bias=False)
    with torch.no_grad():
        ref.lin.weight.copy_(ours.lin.weight)
        ref.att_src.copy_(ours.att_src.view(1, heads, dh))
        ref.att_dst.copy_(ours.att_dst.view(1, heads, dh))
    # unit edge weights: the weighted logits are GAT's
    assert torch.allclose(ours(x, ei), torch.nn.functional.elu(ref(x, ei)), atol=1e-5)


def test_dysat_causal_mask():
    m = DySAT(12, 8, 8, heads=2)
    snaps = random_snapshots()
    z, _ = m.encode(snaps)
    changed = [*snaps[:2], *random_snapshots(seed=9)[2:]]
    z2, _ = m.encode(changed)
    assert torch.allclose(z[:2], z2[:2], atol=1e-6)
    assert not torch.allclose(z[3], z2[3])
