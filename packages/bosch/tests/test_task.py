"""The synthetic retrieval task and its score."""

import torch
from bosch.config import TaskConfig
from bosch.task import make_batch, retrieval_score


def test_batch_structure():
    task = TaskConfig(num_keys=5, filler=6, key_vocab=8)
    b = make_batch(task, 3, torch.Generator().manual_seed(0))
    ids = b.input_ids
    assert ids.shape == (3, 16) and b.answer_start == 11
    assert torch.equal(ids[:, :5], ids[:, 11:])
    fill = ids[:, 5:11] - 8
    assert (fill >= 0).all() and (fill < 8).all()
    assert torch.equal(fill[:, 2:], (fill[:, 1:-1] * 5 + fill[:, :-2]) % 8)


def test_score_of_a_copying_oracle_is_one():
    task = TaskConfig(num_keys=4, filler=4, key_vocab=8)
    b = make_batch(task, 5, torch.Generator().manual_seed(1))

    def oracle(ids):  # predicts token t+1 by looking 8 back (keys + filler)
        logits = torch.zeros(*ids.shape, 16)
        nxt = torch.zeros_like(ids)
        nxt[:, 7:] = ids[:, : ids.shape[1] - 7]
        return logits.scatter(-1, nxt[..., None], 1.0)

    assert retrieval_score(oracle, b) == 1.0
    assert retrieval_score(lambda ids: torch.zeros(*ids.shape, 16), b) < 1.0
