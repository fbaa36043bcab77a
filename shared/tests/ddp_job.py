"""The training job of test_train.test_two_processes_match_one (run as 1 or 2 processes)."""

import sys

import torch
from papershelf.train import TrainConfig, fit
from safetensors.torch import save_file


def main(out: str) -> None:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 5, generator=g)
    y = x @ torch.randn(5, 1, generator=g)
    torch.manual_seed(1)
    model = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    state = fit(
        model,
        list(zip(x, y, strict=True)),
        lambda m, b: torch.nn.functional.mse_loss(m(b[0]), b[1]),
        TrainConfig(max_steps=20, batch_size=16, lr=1e-2, progress=False),
    )
    if not torch.distributed.is_initialized() or torch.distributed.get_rank() == 0:
        weights = {k: v.detach().clone() for k, v in model.state_dict().items()}
        weights = {k.removeprefix("module."): v for k, v in weights.items()}
        weights["final_loss"] = torch.tensor([state.losses[-1]])
        save_file(weights, out)


if __name__ == "__main__":
    main(sys.argv[1])
