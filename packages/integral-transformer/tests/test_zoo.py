"""The zoo trains with papershelf.train, caches per process and is deterministic."""

import torch
from integral_transformer.config import ZooConfig
from integral_transformer.zoo import get_zoo, lm_config


def test_zoo_cached_and_deterministic():
    zc = ZooConfig(
        steps=2, batch_size=4, n_eval=8, hidden_size=32, intermediate_size=32, models=("vanilla",)
    )
    a = get_zoo(zc, 5)
    assert get_zoo(zc, 5)["vanilla"][0] is a["vanilla"][0]
    from integral_transformer.zoo import task_config, train_lm

    b = train_lm(lm_config(zc, "vanilla"), task_config(zc), zc, 5)
    for x, y in zip(a["vanilla"][0].model.parameters(), b.model.parameters(), strict=True):
        assert torch.equal(x, y)
    assert lm_config(zc, "intg_bottom").layer_kinds()[:2] == ("integral", "integral")
