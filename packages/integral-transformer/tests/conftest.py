"""One torch thread per test process (the machine is shared); float64 oracles; offline."""

import os

import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")
torch.set_num_threads(1)
