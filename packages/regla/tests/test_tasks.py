import torch
from regla.tasks import DECAY_LAMBDAS, decay_batch, mqar_batch, text_batches


def test_mqar_labels_are_the_values_of_the_queried_keys():
    b = mqar_batch(3, 32, vocab=32, num_pairs=4, seed=1, step=2)
    ids, labels = b["input_ids"], b["labels"]
    assert ids.shape == labels.shape == (3, 32)
    for row in range(3):
        pairs = {int(ids[row, i]): int(ids[row, i + 1]) for i in range(0, 8, 2)}
        pos = (labels[row] != -100).nonzero().flatten()
        assert len(pos) > 0
        for p in pos.tolist():
            assert pairs[int(ids[row, p])] == int(labels[row, p])
    assert torch.equal(mqar_batch(3, 32, 32, 4, 1, 2)["input_ids"], ids)  # seeded


def test_decay_targets_follow_the_recursion():
    b = decay_batch(2, 6, seed=0)
    lam = torch.tensor(DECAY_LAMBDAS)
    assert torch.allclose(b["y"][:, 3], lam * b["y"][:, 2] + b["x"][:, 3], atol=1e-6)


def test_text_batches(tmp_path):
    f = tmp_path / "t.txt"
    f.write_text("hello world " * 20)
    b = text_batches(f, 2, 8)(0)
    assert torch.equal(b["input_ids"][:, 1:], b["labels"][:, :-1])
