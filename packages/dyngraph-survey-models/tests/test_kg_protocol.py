import pytest
import torch
from dyngraph_survey_models.kg_protocol import (
    KGSplit,
    _filtered_ranks,
    evaluate_kg,
    random_kg_split,
    train_kg,
)
from dyngraph_survey_models.models.kg import DESimplE
from dyngraph_survey_models.synthetic import TKGData, periodic_tkg


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


def _plain_kg_loop(model, split, epochs, eta, batch_size, lr, seed):
    """The loop train_kg ran before papershelf.train: the oracle of its data order."""
    import torch.nn.functional as F

    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    tr, n_ent, losses = split.train, split.data.num_entities, []
    for _ in range(epochs):
        perm = torch.randperm(tr.size(0), generator=g)
        total = 0.0
        for i in range(0, tr.size(0), batch_size):
            b = tr[perm[i : i + batch_size]]
            s, r, o, t = b.unbind(1)
            neg = torch.randint(0, n_ent, (b.size(0), eta), generator=g)
            rep = lambda x: x.view(-1, 1).expand(-1, eta + 1).reshape(-1)  # noqa: E731
            lt = model.score(rep(s), rep(r), torch.cat([o.view(-1, 1), neg], 1).reshape(-1), rep(t))
            lh = model.score(torch.cat([s.view(-1, 1), neg], 1).reshape(-1), rep(r), rep(o), rep(t))
            zero = torch.zeros(b.size(0), dtype=torch.long)
            loss = F.cross_entropy(lt.view(-1, eta + 1), zero) + F.cross_entropy(
                lh.view(-1, eta + 1), zero
            )
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * b.size(0)
        losses.append(total / tr.size(0))
    return losses


def test_train_kg_matches_the_plain_loop():
    # the papershelf loop with the callable data source gives the same draws, the same
    # partial last batch and the same weights as a nested epoch/batch loop
    data = periodic_tkg(num_entities=20, num_relations=2, num_timestamps=8, seed=1)
    split = random_kg_split(data, seed=1)
    assert split.train.size(0) % 100  # a partial last batch is exercised
    runs = []
    for fit in (train_kg, _plain_kg_loop):
        torch.manual_seed(0)
        m = DESimplE(20, 2, 8, dim=8)
        losses = fit(m, split, epochs=2, eta=5, batch_size=100, lr=1e-2, seed=3)
        runs.append((losses, [p.detach().clone() for p in m.parameters()]))
    assert runs[0][0] == runs[1][0]
    assert all(torch.equal(a, b) for a, b in zip(runs[0][1], runs[1][1], strict=True))


def test_train_kg_validates_its_options():
    from papershelf.errors import UserError

    split = random_kg_split(periodic_tkg(num_entities=20, num_relations=2, seed=0), seed=0)
    with pytest.raises(UserError, match="eta: must be >= 1, got 0"):
        train_kg(DESimplE(20, 2, 40, dim=4), split, eta=0)
    assert train_kg(DESimplE(20, 2, 40, dim=4), split, epochs=0) == []
