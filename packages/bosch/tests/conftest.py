"""One torch thread per test process (shared machine); tiny shapes everywhere."""

import os

import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")
torch.set_num_threads(1)
