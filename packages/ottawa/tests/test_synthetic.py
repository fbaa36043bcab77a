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
            # every deleted word that the MT no longer has is labelled
            assert set(mt) <= set(src) and len(mt) < len(src)
            gone = {w for w in src if w not in mt}
            assert {w for w, lab in zip(src, p.src_word_labels, strict=True) if lab} == gone
            assert p.hall_class == 1
        elif p.kind in ("hall-small", "hall-partial"):
            new = {w for w in mt if w not in src}
            assert {w for w, lab in zip(mt, p.mt_word_labels, strict=True) if lab} == new
            assert p.omit_class == 1 and p.hall_class > 1 and new
        elif p.kind == "clean":
            assert mt == src
        else:
            assert all(lab for w, lab in zip(mt, p.mt_word_labels, strict=True) if w not in src)
            assert p.hall_class == 4


def test_hard_noise_is_harmless_function_words():
    for p in make_benchmark(20, "hard", seed=2):
        if p.kind == "clean":
            assert sum(p.mt_word_labels) == 0 and sum(p.src_word_labels) == 0
            assert p.mt != p.src


def test_labels_are_clean_on_every_difficulty():
    for difficulty in ("easy", "hard", "harder"):
        for p in make_benchmark(25, difficulty, seed=4):
            src, mt = p.src.split(), p.mt.split()
            # a word labelled hallucinated never occurs in the source, an omitted one never in the MT
            assert not any(lab and w in src for w, lab in zip(mt, p.mt_word_labels, strict=True))
            assert not any(lab and w in mt for w, lab in zip(src, p.src_word_labels, strict=True))
            if p.kind == "hall-full":  # noise words inside it are hallucinated like the rest
                assert all(lab for w, lab in zip(mt, p.mt_word_labels, strict=True) if w not in src)
            if p.kind == "clean":
                assert not any(p.mt_word_labels) and not any(p.src_word_labels)


def test_harder_set_is_longer_with_single_word_edits():
    pairs = make_benchmark(20, "harder", seed=0)
    assert min(len(p.src.split()) for p in pairs) >= 20
    for p in pairs:
        if p.kind == "hall-small":
            assert sum(p.mt_word_labels) == 1
        if p.kind == "omi-small":
            assert sum(p.src_word_labels) <= 1
