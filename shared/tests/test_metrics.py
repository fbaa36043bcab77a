import math
import subprocess
import sys

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from papershelf.errors import UserError
from papershelf.metrics import accuracy, average_precision, nll, roc_auc
from sklearn.metrics import accuracy_score, average_precision_score, log_loss, roc_auc_score


@st.composite
def binary_problem(draw):
    """0/1 labels with both classes, and scores drawn from a few values (so ties are common)."""
    labels = draw(st.permutations([0, 1, *draw(st.lists(st.integers(0, 1), max_size=38))]))
    pool = draw(
        st.lists(
            st.floats(-1e3, 1e3, allow_nan=False, allow_subnormal=False), min_size=1, max_size=6
        )
    )
    scores = draw(st.lists(st.sampled_from(pool), min_size=len(labels), max_size=len(labels)))
    return labels, scores


@settings(max_examples=200, deadline=None)
@given(binary_problem())
def test_roc_auc_matches_sklearn_with_ties(problem):
    labels, scores = problem
    assert set(labels) == {0, 1}
    assert roc_auc(labels, scores) == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)


@settings(max_examples=200, deadline=None)
@given(binary_problem())
def test_average_precision_matches_sklearn_with_ties(problem):
    labels, scores = problem
    assert average_precision(labels, scores) == pytest.approx(
        average_precision_score(labels, scores), abs=1e-12
    )


@settings(max_examples=100, deadline=None)
@given(st.integers(2, 60), st.integers(2, 5), st.integers(0, 2**31 - 1))
def test_accuracy_and_nll_match_sklearn(n, num_classes, seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, num_classes, n)
    logits = rng.normal(scale=3.0, size=(n, num_classes))
    logits[rng.random(n) < 0.2] = 0.0  # rows of tied logits: argmax takes the first
    predictions = logits.argmax(-1)
    assert accuracy(labels, logits) == pytest.approx(accuracy_score(labels, predictions))
    assert accuracy(labels, predictions) == accuracy(labels, logits)
    probs = np.exp(logits - logits.max(1, keepdims=True))
    probs /= probs.sum(1, keepdims=True)
    expected = log_loss(labels, probs, labels=list(range(num_classes)))
    assert nll(logits, labels) == pytest.approx(expected, rel=1e-9)


def test_inputs_may_be_lists_arrays_or_tensors_and_results_are_floats():
    labels = [0, 1, 1, 0, 1]
    scores = [0.1, 0.8, 0.3, 0.3, 0.9]
    for y, s in [
        (labels, scores),
        (np.array(labels), np.array(scores, dtype=np.float32)),
        (torch.tensor(labels), torch.tensor(scores)),
        (torch.tensor(labels, dtype=torch.bool), torch.tensor(scores, dtype=torch.bfloat16)),
    ]:
        as_float64 = torch.as_tensor(s).double().numpy()
        for metric, oracle in [
            (roc_auc, roc_auc_score),
            (average_precision, average_precision_score),
        ]:
            value = metric(y, s)
            assert type(value) is float
            assert value == pytest.approx(oracle(labels, as_float64))
    logits = torch.randn(6, 3, requires_grad=True)
    targets = torch.tensor([0, 2, 1, 1, 0, 2])
    value = nll(logits, targets)
    assert type(value) is float
    assert value == pytest.approx(torch.nn.functional.cross_entropy(logits, targets).item())
    assert type(accuracy(targets, logits)) is float
    assert accuracy(targets.tolist(), targets.tolist()) == 1.0


def test_known_values():
    assert roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.75
    assert roc_auc([0, 1], [0.5, 0.5]) == 0.5  # a tie counts one half
    assert roc_auc([True, False], [0.0, 1.0]) == 0.0
    assert average_precision([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == pytest.approx(
        (0.5 * 1.0) + (0.5 * 2 / 3)
    )
    assert average_precision([1, 1, 1], [0.1, 0.2, 0.3]) == 1.0
    assert accuracy([0, 1, 2], [[1, 0, 0], [0, 0, 1], [0, 0, 1]]) == pytest.approx(2 / 3)
    assert nll([[0.0, 0.0]], [1]) == pytest.approx(math.log(2))
    assert nll([[1000.0, -1000.0]], [0]) == 0.0  # stable for large logits


@pytest.mark.parametrize(
    "labels", [[1, 1, 1], [0, 0], torch.zeros(4, dtype=torch.long), np.ones(3, dtype=bool)]
)
def test_roc_auc_refuses_one_class(labels):
    with pytest.raises(UserError, match="ROC-AUC needs both classes, got only"):
        roc_auc(labels, [0.5] * len(labels))


def test_average_precision_refuses_no_positive():
    with pytest.raises(UserError, match="at least one positive"):
        average_precision([0, 0, 0], [0.1, 0.2, 0.3])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: roc_auc([0, 1, 1], [0.1, 0.2]), r"lengths differ \(3 vs 2\)"),
        (lambda: roc_auc([0, 2, 1], [0.1, 0.2, 0.3]), "must be 0/1 or bool"),
        (lambda: roc_auc([-1, 1], [0.1, 0.2]), "must be 0/1 or bool"),
        (lambda: roc_auc([0, 1], [0.1, float("nan")]), "must be finite"),
        (lambda: average_precision([[0, 1]], [[0.1, 0.2]]), "must both be 1-D"),
        (lambda: accuracy([0, 1], [0, 1, 1]), "lengths differ"),
        (lambda: accuracy([], []), "at least one example"),
        (lambda: accuracy([0, 1], [0.2, 0.7]), "must be class ids"),
        (lambda: nll([0.1, 0.2], [0, 1]), r"must be 2-D \(n, C\)"),
        (lambda: nll([[0.1, 0.2]], [2]), r"class ids in \[0, 2\)"),
        (lambda: nll([[0.1, 0.2]], [0, 1]), "must be 1-D of length 1"),
        (lambda: nll([[float("inf"), 0.0]], [0]), "must be finite"),
    ],
)
def test_bad_input_is_a_one_line_user_error(call, message):
    with pytest.raises(UserError, match=message) as info:
        call()
    assert "\n" not in str(info.value)


def test_import_is_light():
    code = (
        "import sys, papershelf.metrics; "
        "print(sorted(m for m in ('torch', 'numpy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
