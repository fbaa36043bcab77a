"""Finite groups: orthogonal, closed representations; the image group acts as rot90."""

from __future__ import annotations

import torch
from flows import groups


def test_group_matrices_are_orthogonal_closed_and_act_consistently():
    for group, d in [
        (groups.C(4), 4),
        (groups.D(3), 2),
        (groups.Perm(3), 6),
        (groups.ImageD4((1, 3, 3)), 9),
    ]:
        m = group.dense(d, torch.float64)
        eye = torch.eye(d, dtype=torch.float64)
        torch.testing.assert_close(m @ m.transpose(1, 2), eye.expand_as(m))
        for a in m:
            for b in m:
                assert (((a @ b) - m).abs().amax((1, 2)) < 1e-9).any()
        x = torch.randn(2, d, dtype=torch.float64)
        torch.testing.assert_close(group.inverse_act(group.act(x, 1), 1), x)


def test_image_group_matches_rot90():
    g = groups.ImageC4((2, 3, 3))
    img = torch.randn(4, 2, 3, 3, dtype=torch.float64)
    out = g.act(img.flatten(1), 1).reshape(4, 2, 3, 3)
    torch.testing.assert_close(out, torch.rot90(img, 1, dims=(-2, -1)))
