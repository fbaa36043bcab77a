"""One torch thread per test process (the machine is shared); no hub access."""

import os

import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")
torch.set_num_threads(1)
