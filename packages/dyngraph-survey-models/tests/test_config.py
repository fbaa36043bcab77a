import pytest
from dyngraph_survey_models.config import (
    KGTrainConfig,
    ModelConfig,
    SnapshotTrainConfig,
    TrainConfig,
)
from papershelf.config import Config
from papershelf.errors import UserError


@pytest.mark.parametrize(
    "config",
    [
        ModelConfig("jodie", num_nodes=10, msg_dim=3, bipartite=True),
        TrainConfig(epochs=2, batch_size=50, lr=1e-2, seed=1, val_every=1, progress=False),
        SnapshotTrainConfig(epochs=4, lr=0.1, seed=2),
        KGTrainConfig(epochs=1, eta=3, batch_size=8, lr=0.5, seed=3),
    ],
)
def test_json_round_trip(config, tmp_path):
    assert isinstance(config, Config)
    assert type(config).from_dict(config.to_dict()) == config
    assert type(config).from_json(config.to_json(tmp_path / "c.json")) == config


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: TrainConfig(epochs=-1), "epochs: must be >= 0, got -1"),
        (lambda: TrainConfig(batch_size=0), "batch_size: must be >= 1, got 0"),
        (lambda: TrainConfig(lr=0.0), "lr: must be > 0, got 0.0"),
        (lambda: ModelConfig("gcn", 5), "model: must be one of 'tgn', 'jodie'"),
        (lambda: ModelConfig("tgn", 0), "num_nodes: must be >= 1, got 0"),
        (lambda: SnapshotTrainConfig(lr=-1.0), "lr: must be > 0, got -1.0"),
        (lambda: KGTrainConfig(eta=0), "eta: must be >= 1, got 0"),
        (
            lambda: TrainConfig.from_dict({"epoch": 3}),
            "unknown field(s) epoch; known fields: epochs",
        ),
    ],
)
def test_one_line_errors(make, message):
    with pytest.raises(UserError) as exc:
        make()
    assert message in str(exc.value) and "\n" not in str(exc.value)
