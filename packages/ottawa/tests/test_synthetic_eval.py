import numpy as np
import pytest
from ottawa.synthetic import make_benchmark
from ottawa.synthetic_eval import benchmark_settings, pair_mean, synthetic_summary


def test_summary_of_oracle_scores_is_perfect():
    pairs = make_benchmark(3, "easy", seed=0)
    kinds = [p.kind for p in pairs]
    hall = np.array([k.startswith("hall") for k in kinds], float)
    omi = np.array([k.startswith("omi") for k in kinds], float)
    scores = {
        "oracle": {
            "hall": hall,
            "omi": omi,
            "hall_words": [np.array(p.mt_word_labels, float) for p in pairs],
            "omi_words": [np.array(p.src_word_labels, float) for p in pairs],
        },
        "_encode_seconds": {"seconds": 0.0},
    }
    row = synthetic_summary(pairs, scores)["oracle"]
    assert set(synthetic_summary(pairs, scores)) == {"oracle"}  # "_" entries are skipped
    assert row["hvo_hall"] == 1.0 and row["hvo_omi"] == 0.0
    assert row["hall_vs_clean"] == 1.0 and row["omi_vs_clean"] == 1.0
    assert row["hall_word"] == 1.0 and row["omi_word"] == 1.0


def test_settings_and_pair_mean():
    assert benchmark_settings(True, 7, 60) == [(60, "hard", 7)]
    assert benchmark_settings(False, 7, 60) == [(500, "hard", 7 + k) for k in range(3)]
    table = [{"m": {"a": 0.2, "b": 0.4}}, {"m": {"a": 0.6, "b": 0.8}}]
    assert pair_mean(table, "a", "b")("m") == pytest.approx(0.5)
