import numpy as np
from ottawa.baselines import (
    ArgmaxAligner,
    BalancedOTAligner,
    IterMaxAligner,
    itermax,
    sentence_cosine,
)


def test_itermax_hand_example():
    S = np.array([[0.9, 0.8, 0.1], [0.85, 0.2, 0.1], [0.1, 0.1, 0.7]])
    # round 1: mutual argmax (0,0), (2,2); row 1 and column 1 stay unaligned.
    # round 2: cells with one aligned side get 0.9 x S, cells with both aligned are excluded:
    # (0,1) = 0.72, (1,0) = 0.765, (1,1) = 0.2 -> new mutual links (0,1) and (1,0).
    A = itermax(S)
    assert {(int(i), int(j)) for i, j in np.argwhere(A)} == {(0, 0), (2, 2), (0, 1), (1, 0)}
    assert {(int(i), int(j)) for i, j in np.argwhere(itermax(S, max_count=1))} == {(0, 0), (2, 2)}


def test_baselines_identity():
    q, _ = np.linalg.qr(np.random.default_rng(0).normal(size=(16, 16)))
    u = q[:5]
    for al in (
        ArgmaxAligner(encoder=object()),
        IterMaxAligner(encoder=object()),
        BalancedOTAligner(encoder=object()),
    ):
        r = al.align_vectors(list("abcde"), list("abcde"), u, u)
        assert r.pairs == [(i, i) for i in range(5)]
        assert r.hall == 0 and r.omi == 0


def test_sentence_cosine_orientation(encoder):
    s = sentence_cosine(
        ["the cat sat on the mat", "the cat sat on the mat"],
        ["the cat sat on the mat", "stock prices fell sharply in tokyo"],
        encoder,
    )
    assert s[0] < s[1]  # higher = worse
