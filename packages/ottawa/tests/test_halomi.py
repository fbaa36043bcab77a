import math

import numpy as np
import pytest
from ottawa.halomi import (
    HalOmiRow,
    evaluate_sentence,
    evaluate_words,
    load_halomi,
    percent_correct_pairs,
    span_word_labels,
)
from papershelf.metrics import roc_auc

HEADER = "src_lang\ttgt_lang\tsrc_text\tmt_text\tomit_spans\thall_spans\tclass_hall\tclass_omit\tdata_source"


def _write(tmp_path, rows, header=HEADER, name="halomi_core.tsv"):
    folder = tmp_path / "halomi_release_v2" / "data"
    folder.mkdir(parents=True)
    (folder / name).write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return tmp_path


def test_loader_parses_classes_spans_and_na(tmp_path):
    row = "\t".join(
        [
            "eng_Latn",
            "deu_Latn",
            "the na cat sat",
            "die na Katze saß heute",
            "the na <<<cat>>> sat",
            "die na Katze saß <<<heute>>>",
            "2_Small",
            "3_Partial",
            "flores",
        ]
    )
    data = load_halomi(_write(tmp_path, [row]))
    r = data.rows[0]
    assert r.direction == "eng_Latn-deu_Latn"
    assert r.src_text.split()[1] == "na"  # "na" stays a string
    assert (r.hall_class, r.omit_class) == (2, 3)
    assert r.src_word_labels == [0, 0, 1, 0]
    assert r.mt_word_labels == [0, 0, 0, 0, 1]


def test_span_labels_partial_word_and_mismatch():
    assert span_word_labels("ab<<<c>>>d ef", "abcd ef") == [1, 0]
    assert span_word_labels("<<<x>>> y", "z y") is None


def test_loader_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="not bundled"):
        load_halomi(tmp_path)
    bad_header = HEADER.replace("\tclass_omit", "")
    with pytest.raises(ValueError, match="class_omit"):
        load_halomi(_write(tmp_path / "a", ["x"], header=bad_header))
    row = "\t".join(["a", "b", "s", "t", "s", "t", "5_Huge", "1_No_omission", "w"])
    with pytest.raises(ValueError, match="class 1-4"):
        load_halomi(_write(tmp_path / "b", [row]))


def _rows():
    # direction d1: 6 rows, two hallucinated (hall > 1) ones must be ignored for omission
    spec = [
        ("d1", 1, 1),
        ("d1", 1, 2),
        ("d1", 1, 3),
        ("d1", 2, 1),
        ("d1", 4, 4),
        ("d1", 1, 1),
        ("d2", 1, 1),
        ("d2", 3, 1),
    ]
    return [HalOmiRow(d, "s", "t", h, o) for d, h, o in spec]


def test_omission_scored_only_on_non_hallucinated_rows_per_direction_mean():
    rows = _rows()
    hall = [0.0, 0.1, 0.2, 0.9, 0.95, 0.05, 0.3, 0.2]
    # omission scores of the hallucinated rows are adversarial: they would hurt if counted
    omi = [0.1, 0.5, 0.9, 0.0, 0.0, 0.2, 0.5, 0.5]
    rep = evaluate_sentence(rows, hall, omi)
    # d1 omission on rows 0,1,2,5: y = 1,2,3,1; x = .1,.5,.9,.2 -> all 5 pairs correct
    assert rep.per_direction["d1"]["omi"] == pytest.approx(1.0)
    # d1 hallucination: y = 1,1,1,2,4,1 -> 4*2 + 1 = 9 pairs, all correct
    assert rep.per_direction["d1"]["hall"] == pytest.approx(1.0)
    assert rep.per_direction["d2"]["hall"] == pytest.approx(0.0)  # wrong order
    assert math.isnan(rep.per_direction["d2"]["omi"])  # one row left, no pair: undefined
    assert rep.mean["hall"] == pytest.approx(0.5)  # mean over directions, not pooled
    assert "hall_roc" in rep.mean


def test_word_evaluation_skips_unlabelled_rows():
    rows = [
        HalOmiRow("d", "a b", "c d", 2, 1, [0, 1], [1, 0]),
        HalOmiRow("d", "a", "c", 1, 1, None, None),
    ]
    rep = evaluate_words(rows, [[0.9, 0.1], [0.5]], [[0.2, 0.8], [0.5]])
    assert rep.mean == {"hall_word_roc": 1.0, "omi_word_roc": 1.0}


def test_percent_correct_pairs_hand_example_with_ties():
    # pairs with y_i < y_j: (0,2) (0,3) (1,2) (1,3) (2,3); the tie x1 == x2 is wrong -> 4/5
    assert percent_correct_pairs([1, 1, 2, 3], [0.1, 0.5, 0.5, 0.9]) == pytest.approx(0.8)
    assert roc_auc([0, 0, 1, 1], [0.1, 0.5, 0.5, 0.9]) == pytest.approx(0.875)  # ties count 1/2


def test_percent_correct_pairs_degenerate():
    assert percent_correct_pairs([2, 2, 2], [0.1, 0.2, 0.3]) == 0.0
    assert percent_correct_pairs([1, 2], [0.2, 0.1]) == 0.0
    with pytest.raises(ValueError, match="shapes"):
        percent_correct_pairs([1, 2], [0.1])


def test_sentence_roc_auc_matches_sklearn_and_is_nan_for_one_class():
    sk = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    y = rng.integers(1, 5, 200)
    x = np.round(rng.normal(size=200) + (y > 1), 1)  # rounding makes ties
    rows = [HalOmiRow("d", "s", "t", int(h), 1) for h in y]
    rows.append(HalOmiRow("one-class", "s", "t", 1, 1))
    rep = evaluate_sentence(rows, [*x, 0.5], [0.0] * 201)
    assert rep.per_direction["d"]["hall_roc"] == pytest.approx(
        sk.roc_auc_score(y > 1, x), abs=1e-12
    )
    assert np.isnan(rep.per_direction["one-class"]["hall_roc"])  # only one class there
    assert rep.mean["hall_roc"] == rep.per_direction["d"]["hall_roc"]  # NaN skipped in the mean


def _tsv(tmp_path, rows, name="halomi_core.tsv"):
    header = "src_lang\ttgt_lang\tsrc_text\tmt_text\tomit_spans\thall_spans\tclass_hall\tclass_omit\tdata_source"
    (tmp_path / name).write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return tmp_path / name


def test_malformed_row_is_an_error_with_file_and_line(tmp_path):
    from ottawa.halomi import load_halomi

    good = "eng_Latn\tdeu_Latn\ta b\ta b\ta b\ta b\t1_No\t1_No\tflores"
    path = _tsv(tmp_path, [good, "eng_Latn\tdeu_Latn\ta b\ta b"])
    with pytest.raises(
        ValueError, match=r"halomi_core.tsv:3: malformed row: 4 tab-separated fields"
    ):
        load_halomi(tmp_path)
    _tsv(tmp_path, [good + "\textra"])
    with pytest.raises(ValueError, match=r"halomi_core.tsv:2: malformed row: 10"):
        load_halomi(path)
    (tmp_path / "halomi_core.tsv").write_bytes(
        path.read_bytes().splitlines()[0] + b"\n" + good.encode() + b"\n\xff\xfe\n"
    )
    with pytest.raises(ValueError, match=r"halomi_core.tsv:3: not UTF-8"):
        load_halomi(tmp_path)


def test_direction_without_positives_is_undefined_not_zero():
    import math

    from ottawa.halomi import HalOmiRow, evaluate_sentence

    rows = [HalOmiRow("a-b", "x", "y", 1, 1) for _ in range(3)] + [
        HalOmiRow("c-d", "x", "y", h, 1) for h in (1, 2, 3)
    ]
    rep = evaluate_sentence(rows, [0.1, 0.2, 0.3, 0.1, 0.2, 0.3], [0.0] * 6)
    assert math.isnan(rep.per_direction["a-b"]["hall"]) and rep.per_direction["c-d"]["hall"] == 1.0
    assert rep.mean["hall"] == 1.0  # the undefined direction is left out of the mean
    assert "| a-b | - |" in rep.to_markdown()


def test_span_labels_with_the_cjk_splitter():
    from ottawa.halomi import span_word_labels

    assert span_word_labels("我<<<爱>>>北京 ok", "我爱北京 ok", "cjk") == [0, 1, 0, 0, 0]
    assert span_word_labels("我<<<爱>>>北京 ok", "我爱北京 ok") == [1, 0]
