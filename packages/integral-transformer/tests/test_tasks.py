"""The noisy-recall generator: layout, determinism, targets."""

import torch
from integral_transformer.config import NoisyRecallConfig
from integral_transformer.tasks import make_noisy_recall


def test_layout_and_determinism():
    cfg = NoisyRecallConfig()
    a = make_noisy_recall(cfg, 16, 3)
    b = make_noisy_recall(cfg, 16, 3)
    assert torch.equal(a["input_ids"], b["input_ids"])
    ids, tgt = a["input_ids"], a["target_mask"]
    assert ids.shape == (16, 64) and (ids[:, 0] == 0).all()
    assert (tgt.sum(1) == 8).all()
    for row in range(16):
        seq = ids[row].tolist()
        for pos in tgt[row].nonzero().flatten().tolist():
            key, val = seq[pos - 1], seq[pos]
            assert 7 <= key < 35 and 35 <= val < 64
            first = seq.index(key)
            assert first < pos - 1 and seq[first + 1] == val
    assert a["is_punct"][:, -1].all()
