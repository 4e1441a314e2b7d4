"""Development probe: how fast a small CNN and a small ViT (`Blip2VisionModel`) learn the shape of ONE object per
picture, repainted in a random colour (channel permutation and gain), so that nothing but the outline tells the
shape. It separates "the pictures are hard" from "the ViT learns slowly".

    nice -n 5 python3 shape_probe.py cnn 300
    nice -n 5 python3 shape_probe.py vit 400 --pool mean      # CLS + mean of patch tokens
    nice -n 5 python3 shape_probe.py vit 200 --pool max       # max over patch tokens
    nice -n 5 python3 shape_probe.py vit 400 --pos sincos     # 2-D sine-cosine start for the position embeddings (train.py's)

Prints loss and accuracy on 400 fixed pictures every 100 steps, with CPU seconds. One thread, seeded, offline.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import Blip2VisionConfig, Blip2VisionModel

import train
import world


def batch(rng: np.random.Generator, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    xs, ys = [], []
    for _ in range(n):
        shape = world.SHAPES[int(rng.integers(len(world.SHAPES)))]
        colour = world.COLOUR_NAMES[int(rng.integers(len(world.COLOUR_NAMES)))]
        obj = world.Obj(world.SIZES[int(rng.integers(2))], colour, shape)
        a = np.asarray(world.render(world.Semantics((obj,), None), rng), dtype=np.float32) / 255.0
        xs.append(a[:, :, rng.permutation(3)] * rng.uniform(0.5, 1.2, 3))
        ys.append(world.SHAPES.index(shape))
    x = torch.tensor(np.stack(xs), dtype=torch.float32).permute(0, 3, 1, 2)
    return (x - 0.45) / 0.27, torch.tensor(ys)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("model", choices=["cnn", "vit"])
    ap.add_argument("steps", type=int)
    ap.add_argument("--patch", type=int, default=4)
    ap.add_argument("--pool", choices=["mean", "max"], default="mean")
    ap.add_argument("--pos", choices=["random", "sincos"], default="random")
    ap.add_argument("--lr", type=float, default=1e-3)
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    if args.model == "cnn":
        net = nn.Sequential(
            nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(), nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Linear(64, 4))
        forward = net
        params = list(net.parameters())
    else:
        cfg = Blip2VisionConfig(hidden_size=96, intermediate_size=384, num_hidden_layers=4, num_attention_heads=4,
                                image_size=world.IMAGE_SIZE, patch_size=args.patch, initializer_range=0.02)
        vit = Blip2VisionModel(cfg)
        if args.pos == "sincos":
            with torch.no_grad():
                grid = world.IMAGE_SIZE // args.patch
                vit.embeddings.position_embedding.copy_(train.sincos_positions(96, grid, 0.5))
        head = nn.Linear(96, 4)

        def forward(x: torch.Tensor) -> torch.Tensor:
            h = vit(pixel_values=x).last_hidden_state
            return head(h[:, 1:].max(1).values if args.pool == "max" else h[:, 1:].mean(1) + h[:, 0])

        params = list(vit.parameters()) + list(head.parameters())
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.05)
    rng, eval_x, eval_y = np.random.default_rng(1), *batch(np.random.default_rng(99), 400)
    start = time.process_time()
    for step in range(args.steps + 1):
        lr = args.lr * min(1, (step + 1) / 50) * 0.5 * (1 + math.cos(math.pi * step / args.steps))
        for group in opt.param_groups:
            group["lr"] = lr
        x, y = batch(rng, 64)
        loss = F.cross_entropy(forward(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 100 == 0 or step == args.steps:
            with torch.no_grad():
                accuracy = (forward(eval_x).argmax(1) == eval_y).float().mean().item()
            print(f"{args.model} step {step} loss {loss.item():.3f} accuracy {accuracy:.3f} "
                  f"cpu {time.process_time() - start:.0f}s", flush=True)


if __name__ == "__main__":
    main()
