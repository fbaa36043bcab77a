"""PosGen: every token obeys its rule, masks, splits, metrics (PosGenConfig: test_config.py)."""

from __future__ import annotations

import itertools

import pytest
import torch
from resonance_rope.posgen import RULES, PosGenConfig, make_posgen, posgen_labels, posgen_metrics


def rule_value(seq: list[int], pos: int, rule: str, j: int, k: int, m: int) -> int:
    """x_pos by the paper's definition, written independently of the vectorised generator."""
    near = seq[pos - k : pos]
    if rule == "recursive":
        far = seq[pos - j - k : pos - k]
    elif rule == "cot":
        far = seq[:j]
    else:
        p = (pos - (j + k)) // 2
        far = seq[p : p + j]
    return (sum(far) + sum(near)) % m


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize(("m", "j", "k"), [(17, 1, 3), (5, 2, 2), (7, 3, 1)])
def test_every_token_satisfies_its_rule(rule, m, j, k):
    cfg = PosGenConfig(
        rule, modulus=m, far=j, near=k, train_len=20, test_len=60, n_train=6, n_val=3, n_test=3
    )
    data = make_posgen(cfg)
    assert (
        data["train"].shape == (6, 21)
        and data["test"].shape == (3, 61)
        and data["val"].shape == (3, 61)
    )
    for split in data.values():
        assert torch.all(split[:, 0] == m)  # [EOS]
        for row in split.tolist():
            body = row[1:]
            for pos in range(j + k, len(body)):
                assert body[pos] == rule_value(body, pos, rule, j, k, m)


def test_semi_recursive_pointer_advances_every_second_token():
    cfg = PosGenConfig(
        "semi_recursive", modulus=97, train_len=10, test_len=12, n_train=1, n_val=0, n_test=0
    )
    seq = make_posgen(cfg)["train"][0, 1:].tolist()
    # x_4 and x_5 use x_0 as the far argument, x_6 and x_7 use x_1
    assert seq[4] == (seq[0] + sum(seq[1:4])) % 97
    assert seq[5] == (seq[0] + sum(seq[2:5])) % 97
    assert seq[6] == (seq[1] + sum(seq[3:6])) % 97


def test_labels_mask_eos_and_seeds():
    cfg = PosGenConfig("cot", n_train=4, n_val=0, n_test=0)
    tokens = make_posgen(cfg)["train"]
    labels = posgen_labels(tokens, cfg)
    assert torch.all(labels[:, :5] == -100) and torch.equal(labels[:, 5:], tokens[:, 5:])


def test_disjoint_split_shares_no_seed():
    cfg = PosGenConfig("cot", n_train=3000, n_val=500, n_test=500, seed=3)
    data = make_posgen(cfg)
    seeds = {name: {tuple(r) for r in t[:, 1:5].tolist()} for name, t in data.items()}
    assert len(seeds["train"]) == 3000
    assert (
        not seeds["train"] & seeds["test"]
        and not seeds["train"] & seeds["val"]
        and not seeds["val"] & seeds["test"]
    )


def test_official_split_reuses_combinations():
    cfg = PosGenConfig("cot", split="official", n_train=10000, n_val=1000, n_test=1000)
    data = make_posgen(cfg)
    train = {tuple(r) for r in data["train"][:, 1:5].tolist()}
    assert len(train) == 2380  # C(17, 4)
    assert {tuple(r) for r in data["test"][:, 1:5].tolist()} <= train
    first = list(itertools.islice(itertools.combinations(range(17), 4), 3))
    assert [tuple(r) for r in data["val"][:3, 1:5].tolist()] == first


def test_metrics_use_only_positions_after_train_len():
    cfg = PosGenConfig("cot", train_len=16, test_len=40, n_train=1, n_val=0, n_test=8)
    tokens = make_posgen(cfg)["test"]
    logits = torch.zeros(8, 41, cfg.vocab_size)
    logits[:, :-1].scatter_(2, tokens[:, 1:, None], 1.0)  # perfect predictions
    logits[:, 17:-1] = 0.0
    logits[:, 17:-1, cfg.eos] = 1.0  # wrong from position 18 on
    m = posgen_metrics(logits, tokens, cfg)
    assert m["id_acc"] == 1.0
    assert m["ood_acc"] == pytest.approx(1 / 24)  # only position 17 right among 17..40
    assert m["acc_by_position"][:5] == [None] * 5 and m["acc_by_position"][17] == 1.0
