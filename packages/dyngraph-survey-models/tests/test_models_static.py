import torch
from dyngraph_survey_models.models import EdgeBank
from dyngraph_survey_models.testing import exact_edgebank


def test_edgebank_matches_naive():
    hist = [(0, 1, 1.0), (1, 2, 2.0), (0, 1, 5.0), (2, 3, 6.0)]
    queries = [(0, 1, 7.0), (1, 2, 7.0), (2, 3, 7.0), (3, 0, 7.0)]
    for window in (None, 2.0):
        eb = EdgeBank(4, window=window)
        h = torch.tensor(hist)
        eb.observe(h[:, 0].long(), h[:, 1].long(), h[:, 2], torch.zeros(4, 0))
        q = torch.tensor(queries)
        got = eb.score(q[:, 0].long(), q[:, 1].long(), q[:, 2]).tolist()
        assert got == exact_edgebank(hist, queries, window)
