from ottawa.synthetic import KINDS, make_benchmark


def test_same_seed_same_benchmark():
    assert make_benchmark(10, seed=3) == make_benchmark(10, seed=3)
    assert make_benchmark(10, seed=3) != make_benchmark(10, seed=4)


def test_labels_match_edits_without_noise():
    pairs = make_benchmark(30, "easy", seed=1)
    assert len(pairs) == 30 * len(KINDS)
    for p in pairs:
        src, mt = p.src.split(), p.mt.split()
        assert len(p.src_word_labels) == len(src) and len(p.mt_word_labels) == len(mt)
        assert 12 <= len(src) <= 24
        if p.kind.startswith("omi"):
            assert mt == [w for w, lab in zip(src, p.src_word_labels, strict=True) if not lab]
            assert sum(p.src_word_labels) >= 2 and p.hall_class == 1
        elif p.kind in ("hall-small", "hall-partial"):
            assert src == [w for w, lab in zip(mt, p.mt_word_labels, strict=True) if not lab]
            assert p.omit_class == 1 and p.hall_class > 1
        elif p.kind == "clean":
            assert mt == src
        else:
            assert all(p.mt_word_labels) and p.hall_class == 4


def test_hard_noise_is_harmless_function_words():
    for p in make_benchmark(20, "hard", seed=2):
        if p.kind == "clean":
            assert sum(p.mt_word_labels) == 0 and sum(p.src_word_labels) == 0
            assert p.mt != p.src
