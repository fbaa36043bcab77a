"""The oracles' renamed old names still work for one release, with a DeprecationWarning."""

from __future__ import annotations

import pytest
import torch
from krona import naive
from krona.testing import paper_formula_literal


@pytest.mark.parametrize(
    ("old", "new", "args"),
    [
        ("kron_linear", naive.naive_kron_linear, ((2, 6), (2, 3), (3, 2))),
        ("kron_by_definition", naive.naive_kron_matrix, ((2, 3), (3, 2))),
        ("lora_linear", naive.naive_lora_linear, ((2, 5), (2, 5), (4, 2))),
        ("paper_formula_literal", paper_formula_literal, ((2, 6), (2, 3), (3, 2))),
    ],
)
def test_old_names_warn_and_give_the_same_result(old, new, args):
    g = torch.Generator().manual_seed(0)
    tensors = [torch.randn(*shape, generator=g, dtype=torch.float64) for shape in args]
    with pytest.warns(DeprecationWarning, match=f"krona.naive.{old} is renamed"):
        fn = getattr(naive, old)
    torch.testing.assert_close(fn(*tensors), new(*tensors))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        naive.nope  # noqa: B018


def test_old_lora_name_keeps_its_keywords():
    x, down, up = torch.ones(1, 3), torch.ones(2, 3), torch.ones(4, 2)
    with pytest.warns(DeprecationWarning):
        old = naive.lora_linear
    torch.testing.assert_close(old(x, down=down, up=up), naive.naive_lora_linear(x, down, up))
