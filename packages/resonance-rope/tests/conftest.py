"""One torch thread per test process: the machine is shared, and oversubscription slows everyone."""

import torch

torch.set_num_threads(1)
