"""dylora.sampling: the rank draws (p_B, determinism) and RankHook tested against papershelf.train."""

from __future__ import annotations

import collections
import copy

import pytest
import torch
from dylora import DyLoRAConfig, RankHook, draw_rank, get_dylora_model
from dylora.naive import naive_lora_update
from dylora.sampling import check_lora_baseline
from dylora.testing import make_tiny_bert, randomize_adapters
from papershelf import UserError
from papershelf.train import Hook, TrainConfig, train
from torch import nn

# chi-square critical value, 7 degrees of freedom, p = 0.001
CHI2_7_999 = 24.32


def chi2(counts, probs, n):
    return sum((counts.get(k, 0) - n * p) ** 2 / (n * p) for k, p in probs.items())


def test_uniform_passes_chi_square_and_stays_in_range():
    config = DyLoRAConfig(r_max=8)
    n = 10_000
    counts = collections.Counter(draw_rank(config, s) for s in range(n))
    assert set(counts) == set(range(1, 9))
    assert chi2(counts, config.rank_pmf(), n) < CHI2_7_999


def test_geometric_matches_its_pmf():
    config = DyLoRAConfig(r_min=2, r_max=9, rank_distribution="geometric", geometric_p=0.15)
    n = 10_000
    counts = collections.Counter(draw_rank(config, s) for s in range(n))
    assert set(counts) <= set(range(2, 10))
    assert chi2(counts, config.rank_pmf(), n) < CHI2_7_999
    assert counts[2] > counts[9]  # the mass sits at the low end


def test_deterministic_in_seed_and_step():
    a, b = DyLoRAConfig(seed=3), DyLoRAConfig(seed=3)
    seq = [draw_rank(a, s) for s in range(50)]
    assert seq == [draw_rank(b, s) for s in range(50)]
    # a run resumed at step 20 continues the same sequence
    assert seq[20:] == [draw_rank(b, s) for s in range(20, 50)]
    assert seq != [draw_rank(DyLoRAConfig(seed=4), s) for s in range(50)]
    assert draw_rank(a, 7, layer=0) != draw_rank(a, 7, layer=1) or draw_rank(a, 8, 0) != draw_rank(
        a, 8, 1
    )


def test_bad_step():
    with pytest.raises(ValueError, match="step: must be a non-negative integer"):
        draw_rank(DyLoRAConfig(), -1)


# --- RankHook: DyLoRA's per-step rank inside papershelf.train -------------------------------


class Net(nn.Module):
    """Two adapted linear layers (``up: 6 -> 5``, ``down: 5 -> 4``), so per-layer draws differ."""

    def __init__(self) -> None:
        super().__init__()
        self.up = nn.Linear(6, 5)
        self.down = nn.Linear(5, 4)

    def forward(self, x):
        return self.down(torch.tanh(self.up(x)))


def dylora_net(init_seed=0, **kw):
    kw.setdefault("r_max", 4)
    torch.manual_seed(init_seed)
    model = get_dylora_model(Net(), DyLoRAConfig(target_modules=["up", "down"], **kw))
    randomize_adapters(model)  # lora_B = 0 would hide which rows move
    return model


def samples(seed=0, batch=8):
    """A data source ``step -> (x, y)`` for papershelf.train (fresh draws, same for every run)."""
    gen = torch.Generator().manual_seed(seed)

    def sample(step):
        x = torch.randn(batch, 6, generator=gen)
        return x, torch.sin(x[:, :4])

    return sample


def mse(model, xy):
    x, y = xy
    return (model(x) - y).pow(2).mean()


def lora_weights(model):
    return {
        n: (layer.lora_A.weight.detach().clone(), layer.lora_B.weight.detach().clone())
        for n, layer in model.dylora_layers.items()
    }


class Recorder(Hook):
    """Records, per step, the rank each layer's forward used and the weights around the step."""

    def __init__(self, model):
        self.model, self.before, self.after = model, [], []
        self.forward_ranks: list[dict[str, int]] = []
        for name, layer in model.dylora_layers.items():
            layer.register_forward_hook(
                lambda mod, inp, out, name=name: self.forward_ranks[-1].update({name: mod.rank})
            )

    def on_step_start(self, state):
        self.forward_ranks.append({})
        self.before.append(lora_weights(self.model))

    def on_step_end(self, state):
        self.after.append(lora_weights(self.model))


def run_hooked(model, steps=12, fixed_rank=None, **config):
    config.setdefault("lr", 1e-2)
    recorder = Recorder(model)
    hooks = [RankHook(model, fixed_rank=fixed_rank), recorder]
    state = train(
        model, samples(), mse, TrainConfig(max_steps=steps, progress=False, **config), hooks=hooks
    )
    return state, recorder


@pytest.mark.parametrize("scope", ["global", "per_layer"])
def test_hook_ranks_follow_draw_rank_in_the_loop(scope):
    model = dylora_net(r_max=8, sampling_scope=scope, seed=7)
    config = model.dylora_config
    _, rec = run_hooked(model, steps=20)
    names = list(model.dylora_layers)
    assert len(rec.forward_ranks) == 20
    for step, used in enumerate(rec.forward_ranks):  # oracle: the sampling function itself
        if scope == "global":
            assert used == {n: draw_rank(config, step) for n in names}
        else:
            assert used == {n: draw_rank(config, step, i) for i, n in enumerate(names)}
    assert len({tuple(u.values()) for u in rec.forward_ranks}) > 1


def test_hook_frozen_strict_mode_moves_only_row_b_each_step():
    model = dylora_net(update_mode="frozen", strict_freeze=True)
    _, rec = run_hooked(model, steps=12, weight_decay=0.1)  # AdamW: momentum + decay
    config = model.dylora_config
    for step in range(12):
        b = draw_rank(config, step)
        for name in model.dylora_layers:
            (a0, b0), (a1, b1) = rec.before[step][name], rec.after[step][name]
            moved_rows = [r for r in range(4) if not torch.equal(a0[r], a1[r])]
            moved_cols = [c for c in range(4) if not torch.equal(b0[:, c], b1[:, c])]
            assert moved_rows == [b - 1], (step, name, b)
            assert moved_cols == [b - 1], (step, name, b)


def test_without_strict_freeze_adamw_moves_the_frozen_rows():
    """The negative control: the restore in on_step_end is what keeps rows 1..b-1 fixed."""
    model = dylora_net(update_mode="frozen")
    _, rec = run_hooked(model, steps=12, weight_decay=0.1)
    moved_other = 0
    for step in range(12):
        b = draw_rank(model.dylora_config, step)
        a0, a1 = rec.before[step]["up"][0], rec.after[step]["up"][0]
        moved_other += sum(not torch.equal(a0[r], a1[r]) for r in range(4) if r != b - 1)
    assert moved_other > 0


class PlainLoRANet(nn.Module):
    """Net with hand-written rank-k LoRA layers over copied tensors (naive_lora_update)."""

    def __init__(self, dy, k):
        super().__init__()
        self.k = k
        self.a = nn.ParameterDict()
        self.b = nn.ParameterDict()
        self.base = {}
        for name, layer in dy.dylora_layers.items():
            self.a[name] = nn.Parameter(layer.lora_A.weight.detach()[:k].clone())
            self.b[name] = nn.Parameter(layer.lora_B.weight.detach()[:, :k].clone())
            self.base[name] = copy.deepcopy(layer.base_layer)
        self.scale = dy.dylora_config.scale(k)

    def lora(self, name, x):
        base = self.base[name]
        return base(x) + naive_lora_update(x, self.a[name], self.b[name], self.scale)

    def forward(self, x):
        return self.lora("down", torch.tanh(self.lora("up", x)))


@pytest.mark.parametrize("k", [4, 2])
def test_fixed_rank_run_equals_a_plain_lora_run(k):
    dy = dylora_net(update_mode="all")
    plain = PlainLoRANet(dy, k)
    dy_state, rec = run_hooked(dy, steps=15, fixed_rank=k)
    plain_state = train(plain, samples(), mse, TrainConfig(max_steps=15, lr=1e-2, progress=False))
    assert all(set(r.values()) == {k} for r in rec.forward_ranks)
    assert dy_state.losses == pytest.approx(plain_state.losses, rel=1e-5, abs=1e-7)
    for name, layer in dy.dylora_layers.items():
        torch.testing.assert_close(layer.lora_A.weight[:k], plain.a[name], atol=1e-6, rtol=1e-5)
        torch.testing.assert_close(layer.lora_B.weight[:, :k], plain.b[name], atol=1e-6, rtol=1e-5)
        # rows beyond k never get a gradient: untouched
        assert torch.equal(layer.lora_A.weight[k:], rec.before[0][name][0][k:])


def test_fixed_rank_run_equals_peft_lora_in_the_same_loop():
    peft = pytest.importorskip("peft")
    gen = torch.Generator().manual_seed(0)
    data = {
        "input_ids": torch.randint(0, 100, (16, 6), generator=gen),
        "labels": torch.randint(0, 3, (16,), generator=gen),
    }
    qv = ["query", "value"]
    dy = get_dylora_model(
        make_tiny_bert(),
        DyLoRAConfig(
            r_max=4, alpha=6.0, update_mode="all", target_modules=qv, modules_to_save=["classifier"]
        ),
    )
    randomize_adapters(dy)
    lora = peft.get_peft_model(
        make_tiny_bert(),
        peft.LoraConfig(r=4, lora_alpha=6.0, target_modules=qv, modules_to_save=["classifier"]),
    )
    with torch.no_grad():
        for name, layer in dy.dylora_layers.items():
            theirs = lora.base_model.model.get_submodule(name)
            theirs.lora_A["default"].weight.copy_(layer.lora_A.weight)
            theirs.lora_B["default"].weight.copy_(layer.lora_B.weight)
    config = TrainConfig(max_steps=6, lr=1e-2, batch_size=4, progress=False)
    loss = lambda m, batch: m(**batch).loss  # noqa: E731
    ours = train(dy, data, loss, config, hooks=[RankHook(dy, fixed_rank=4)])
    theirs = train(lora, data, loss, config)
    assert ours.losses == pytest.approx(theirs.losses, rel=1e-5)
    dy.eval()
    lora.eval()
    with torch.no_grad():
        torch.testing.assert_close(
            dy(input_ids=data["input_ids"]).logits,
            lora(input_ids=data["input_ids"]).logits,
            atol=1e-5,
            rtol=1e-5,
        )


def test_frozen_mode_cannot_be_a_lora_baseline():
    with pytest.raises(ValueError, match="update_mode: a fixed-rank"):
        check_lora_baseline(dylora_net(update_mode="frozen"), 4)
    check_lora_baseline(dylora_net(update_mode="all"), 4)
    with pytest.raises(ValueError, match="update_mode: a fixed-rank"):
        RankHook(dylora_net(update_mode="frozen"), fixed_rank=2)


def test_hook_refuses_a_fixed_rank_out_of_range():
    with pytest.raises(UserError, match=r"fixed_rank: must be in \[1, 4\], got 5"):
        RankHook(dylora_net(update_mode="all"), fixed_rank=5)
