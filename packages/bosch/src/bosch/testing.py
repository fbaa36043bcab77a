"""Helpers for tests: a small saved tiny model and a probe file it answers perfectly."""

import json

import torch

from bosch.config import TinyLMConfig
from bosch.model import TinyRetrievalLM
from bosch.workflow import save_tiny


def make_model_dir(folder, seed=0, prefix=24, answers=8, samples=8):
    """Saves a random tiny model; the probe's answers are its own greedy continuations, so the
    full model scores S = 1 and sliding-window variants score less."""
    torch.manual_seed(seed)
    model = TinyRetrievalLM(
        TinyLMConfig(dim=32, num_layers=2, num_heads=4, num_kv_heads=2, ffn_dim=32)
    ).eval()
    for p in model.parameters():  # sharper attention than the 0.02 init
        p.data.mul_(8.0)
    save_tiny(model, folder)
    ids = torch.randint(0, 64, (samples, prefix), generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        for _ in range(answers):
            nxt = model(ids)[:, -1].argmax(-1, keepdim=True)
            ids = torch.cat([ids, nxt], dim=1)
    probe = folder / "probe.jsonl"
    probe.write_text(
        "".join(json.dumps({"input_ids": r, "answer_start": prefix}) + "\n" for r in ids.tolist())
    )
    return folder, probe
