import pytest
import torch
from dyngraph_survey_models.kg_protocol import (
    _filtered_ranks,
    evaluate_kg,
    random_kg_split,
    train_kg,
)
from dyngraph_survey_models.models.kg import DESimplE, SimplE, TTransE
from dyngraph_survey_models.synthetic import TKGData, periodic_tkg


def test_desimple_gamma0_is_simple_formula():
    m = DESimplE(6, 2, 10, dim=8, gamma=0.0)
    s, r, o = torch.tensor([0, 1]), torch.tensor([1, 0]), torch.tensor([2, 3])
    for t in (torch.tensor([0, 0]), torch.tensor([7, 3])):
        want = 0.5 * (
            (m.a_head[s] * m.rel[r] * m.a_tail[o]).sum(-1)
            + (m.a_head[o] * m.rel_inv[r] * m.a_tail[s]).sum(-1)
        )
        assert torch.allclose(m.score(s, r, o, t), want, atol=1e-6)
    assert SimplE(6, 2, dim=8).k_time == 0


@pytest.mark.parametrize(
    "make", [lambda: DESimplE(7, 3, 5, dim=8), lambda: TTransE(7, 3, 5, dim=8)]
)
def test_score_all_matches_score(make):
    m = make()
    s, r, t = torch.tensor([0, 4]), torch.tensor([2, 1]), torch.tensor([3, 1])
    all_t = m.score_all_tails(s, r, t)
    all_h = m.score_all_heads(r, s, t)
    for e in range(7):
        ee = torch.full((2,), e)
        assert torch.allclose(all_t[:, e], m.score(s, r, ee, t), atol=1e-5)
        assert torch.allclose(all_h[:, e], m.score(ee, r, s, t), atol=1e-5)


def test_desimple_is_time_dependent():
    m = DESimplE(5, 1, 10, dim=8, gamma=0.5)
    one = torch.tensor([0])
    assert not torch.allclose(
        m.score(one, one * 0, one + 1, torch.tensor([1])),
        m.score(one, one * 0, one + 1, torch.tensor([6])),
    )


def test_filter_is_per_timestamp():
    # (0, 0, 1, t=0) is the query; (0, 0, 2, t=0) is another true fact at the same time (filtered),
    # (0, 0, 3, t=1) is true at another time (stays a negative).
    quads = torch.tensor([[0, 0, 1, 0], [0, 0, 2, 0], [0, 0, 3, 1]])
    data = TKGData(quads, 4, 1, 2)
    scores = torch.tensor([[0.0, 1.0, 5.0, 4.0]])
    mask = torch.tensor([[False, False, True, False]])
    assert _filtered_ranks(scores, torch.tensor([1]), mask).tolist() == [2.0]

    class Fixed(torch.nn.Module):
        def score_all_tails(self, s, r, t):
            return scores.expand(s.numel(), -1)

        def score_all_heads(self, r, o, t):
            return torch.tensor([[9.0, 0.0, 0.0, 0.0]]).expand(o.numel(), -1)

    from dyngraph_survey_models.kg_protocol import KGSplit

    split = KGSplit(quads, quads[:0], quads[:1], data)
    m = evaluate_kg(Fixed(), split)
    assert m.mrr == pytest.approx((1 / 2 + 1 / 1) / 2)  # tail rank 2 (not 3), head rank 1


def test_desimple_learns_periodic_facts():
    data = periodic_tkg(
        num_entities=30, num_relations=2, num_timestamps=16, static_fraction=0.0, seed=0
    )
    split = random_kg_split(data, seed=0)
    torch.manual_seed(0)
    m = DESimplE(30, 2, 16, dim=16)
    losses = train_kg(m, split, epochs=4, eta=10)
    assert losses[-1] < losses[0]
    assert 0 < evaluate_kg(m, split).mrr <= 1
