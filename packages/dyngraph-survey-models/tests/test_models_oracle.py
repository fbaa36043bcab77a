import math

import torch
from dyngraph_survey_models.models.oracle import GeneratorOracle
from dyngraph_survey_models.synthetic import drifting_bipartite


def test_oracle_is_the_generator_probability():
    s = drifting_bipartite(num_users=4, num_items=10, num_communities=2, num_events=50, seed=1)
    o = GeneratorOracle(s.meta)
    u, period = 1, s.meta["drift_period"]
    c_u = s.meta["user_community"][u]
    t = torch.tensor([2.5 * period], dtype=torch.float64)  # preferred = (c_u + 2) mod 2 = c_u
    item_in = next(i for i in range(10) if s.meta["item_community"][i] == c_u)
    item_out = next(i for i in range(10) if s.meta["item_community"][i] != c_u)
    dst = torch.tensor([4 + item_in, 4 + item_out])
    # no previous item: P = (1 - noise) 1[c(i) = pref] / 5 + noise / 10
    got = o.score(torch.tensor([u, u]), dst, t.repeat(2)).exp()
    assert torch.allclose(got, torch.tensor([0.8 / 5 + 0.02, 0.02], dtype=torch.float64), rtol=1e-5)
    o.observe(torch.tensor([u]), torch.tensor([4 + item_out]), t, None)
    got = o.score(torch.tensor([u, u]), dst, t.repeat(2)).exp()
    r = 0.3
    want = [(1 - r) * (0.8 / 5 + 0.02), r + (1 - r) * 0.02]  # item_out is now the last item
    assert torch.allclose(got, torch.tensor(want, dtype=torch.float64), rtol=1e-5)
    o.reset_state()
    assert math.isclose(float(o.score(torch.tensor([u]), dst[1:], t).exp()), 0.02, rel_tol=1e-5)
