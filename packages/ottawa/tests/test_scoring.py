import numpy as np
from ottawa.baselines import sentence_cosine
from ottawa.encoder import WordEncoder
from ottawa.scoring import score_methods


def _spied(encoder):
    enc = WordEncoder("offline", model=encoder.model, tokenizer=encoder.tokenizer)
    calls = []
    forward = enc._forward
    enc._forward = lambda ids: calls.append(len(ids)) or forward(ids)
    return enc, calls


def test_cosine_alone_does_not_encode_word_vectors(encoder):
    srcs, mts = ["the cat sat on the mat", "a dog ran"], ["the cat sat", "a dog ran home"]
    enc, calls = _spied(encoder)
    s = score_methods(srcs, mts, ["cosine"], enc)["cosine"]
    assert calls == [4]  # one sentence-embedding pass, no word-vector pass
    np.testing.assert_allclose(s["hall"], sentence_cosine(srcs, mts, encoder), atol=1e-6)
    enc, calls = _spied(encoder)
    score_methods(srcs, mts, ["argmax", "ottawa"], enc)
    assert calls == [4]  # word vectors once, shared by both aligners
