import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from papershelf.config import Config, check_choice, check_positive, check_range
from papershelf.errors import UserError


@dataclass
class Inner(Config):
    width: int = 4

    def validate(self) -> None:
        check_range("width", self.width, low=1)


@dataclass
class Outer(Config):
    name: str = "a"
    shape: tuple[int, int] = (2, 3)
    sizes: tuple[int, ...] = (1, 2)
    inner: Inner = field(default_factory=Inner)
    out: Path | None = None
    rate: float = 0.5

    def validate(self) -> None:
        check_choice("name", self.name, ("a", "b"))
        check_range("rate", self.rate, low=0, high=1, low_open=True)


def test_round_trip_through_json(tmp_path):
    config = Outer(name="b", shape=(4, 5), sizes=(7,), inner=Inner(9), out=tmp_path / "x")
    path = config.to_json(tmp_path / "c.json")
    assert json.loads(path.read_text())["shape"] == [4, 5]
    assert Outer.from_json(path) == config


def test_unknown_keys_are_refused_with_the_known_ones():
    with pytest.raises(UserError, match="unknown field\\(s\\) nmae; known fields: name, shape"):
        Outer.from_dict({"nmae": "a"})


def test_nested_config_is_validated():
    with pytest.raises(UserError, match=r"^width: must be >= 1, got 0"):
        Outer.from_dict({"inner": {"width": 0}})


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: check_choice("mode", "x", ("a", "b")), "^mode: must be one of 'a', 'b'; got 'x'$"),
        (lambda: check_range("p", 1.5, low=0, high=1), "^p: must be >= 0 and <= 1, got 1.5$"),
        (lambda: check_range("p", 0, low=0, low_open=True), "^p: must be > 0, got 0$"),
        (lambda: check_range("p", float("nan"), low=0), "^p: must be >= 0, got nan$"),
        (lambda: check_range("p", "3", low=0), "^p: must be a number, got '3'$"),
        (lambda: check_positive("lr", -1e-3), "^lr: must be > 0, got -0.001$"),
    ],
)
def test_checks_are_one_line_naming_the_field(call, message):
    with pytest.raises(UserError, match=message):
        call()


def test_replace_validates():
    with pytest.raises(UserError, match=r"^rate:"):
        Outer().replace(rate=0.0)


def test_from_json_errors(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        Outer.from_json(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(UserError, match="is not valid JSON"):
        Outer.from_json(tmp_path / "bad.json")


def test_check_positive_refuses_infinity():
    import pytest
    from papershelf.config import check_positive
    from papershelf.errors import UserError

    check_positive("lr", 1e-3)
    for bad in (0.0, -1.0, float("inf"), float("nan")):
        with pytest.raises(UserError, match=r"^lr: must be"):
            check_positive("lr", bad)
