"""Development probe: how fast a small CNN and a small ViT (`Blip2VisionModel`) learn the shape of ONE object per
picture, repainted in a random colour (channel permutation and gain), so that nothing but the outline tells the
shape. It separates "the pictures are hard" from "the ViT learns slowly".

    nice -n 5 python3 shape_probe.py cnn 300
    nice -n 5 python3 shape_probe.py patchcnn 500             # the ViT's patch embedding as a conv, then two 3x3 convs
    nice -n 5 python3 shape_probe.py vit 400 --pool mean      # CLS + mean of patch tokens
    nice -n 5 python3 shape_probe.py vit 200 --pool max       # max over patch tokens
    nice -n 5 python3 shape_probe.py vit 400 --pos sincos     # 2-D sine-cosine start for the position embeddings (train.py's)
    nice -n 5 python3 shape_probe.py vit 1500 --pool max --lr 3e-4 --threads 2   # the long run that took off at ~450

Prints loss and accuracy on 400 fixed pictures every 100 steps, with CPU seconds. Seeded, offline. What each
option measured is in Sources/tiaoyu/Resources/DefaultModel/README.md.
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


def batch(rng: np.random.Generator, n: int, grey: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    xs, ys = [], []
    for _ in range(n):
        shape = world.SHAPES[int(rng.integers(len(world.SHAPES)))]
        colour = world.COLOUR_NAMES[int(rng.integers(len(world.COLOUR_NAMES)))]
        obj = world.Obj(world.SIZES[int(rng.integers(2))], colour, shape)
        a = np.asarray(world.render(world.Semantics((obj,), None), rng), dtype=np.float32) / 255.0
        a = a[:, :, rng.permutation(3)] * rng.uniform(0.5, 1.2, 3)
        xs.append(a.mean(-1, keepdims=True).repeat(3, -1) if grey else a)
        ys.append(world.SHAPES.index(shape))
    x = torch.tensor(np.stack(xs), dtype=torch.float32).permute(0, 3, 1, 2)
    return (x - 0.45) / 0.27, torch.tensor(ys)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("model", choices=["cnn", "patchcnn", "vit"])
    ap.add_argument("steps", type=int)
    ap.add_argument("--patch", type=int, default=4)
    ap.add_argument("--pool", choices=["mean", "max"], default="mean")
    ap.add_argument("--pos", choices=["random", "sincos"], default="random")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--mimetic", type=float, default=0.0, help="train.py's mimetic attention start (alpha)")
    ap.add_argument("--width", type=int, default=96)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--init", type=float, default=0.02, help="initializer_range of the ViT's weights")
    ap.add_argument("--conv-init", type=float, default=0.0,
                    help="conv_attention_init's alpha: every head starts attending to one neighbouring patch")
    ap.add_argument("--conv-pos", type=float, default=0.5, help="scale of conv_attention_init's position code")
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--cnn-init", type=int, default=0,
                    help="first train a patch CNN (its first layer is the ViT's patch embedding) for this many "
                         "steps, then start the ViT's patch embedding from that layer")
    ap.add_argument("--distill", type=int, default=0,
                    help="first train the 3x3 CNN for this many steps, then also train the ViT's patch tokens to "
                         "predict the CNN's last feature map (12x12 at 48 px, one vector per patch)")
    ap.add_argument("--distill-weight", type=float, default=1.0)
    ap.add_argument("--grey", action="store_true", help="show the pictures in greyscale")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--save", help="save the trained ViT's state dict here (vit_probe.py --start reads it)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    if args.model == "cnn":
        net = small_cnn()
        forward = net
        params = list(net.parameters())
    elif args.model == "patchcnn":
        net = patch_cnn(args.patch, args.width)
        forward = net
        params = list(net.parameters())
    else:
        width = args.width
        cfg = Blip2VisionConfig(hidden_size=width, intermediate_size=4 * width, num_hidden_layers=args.layers,
                                num_attention_heads=args.heads, image_size=world.IMAGE_SIZE, patch_size=args.patch,
                                initializer_range=args.init)
        vit = Blip2VisionModel(cfg)
        if args.pos == "sincos":
            with torch.no_grad():
                grid = world.IMAGE_SIZE // args.patch
                vit.embeddings.position_embedding.copy_(train.sincos_positions(width, grid, 0.5))
        if args.mimetic:
            train.mimetic_init(vit, args.mimetic, width)
        if args.conv_init:
            conv_attention_init(vit, width, args.heads, world.IMAGE_SIZE // args.patch, args.conv_init, args.conv_pos)
        if args.cnn_init:
            cnn = patch_cnn(args.patch, width)
            train_loop(cnn, list(cnn.parameters()), args.cnn_init, args.lr, "patchcnn", args.grey)
            with torch.no_grad():
                vit.embeddings.patch_embedding.weight.copy_(cnn[0].weight)
                vit.embeddings.patch_embedding.bias.copy_(cnn[0].bias)
        head = nn.Linear(width, 4)
        params = list(vit.parameters()) + list(head.parameters())
        teacher = None
        if args.distill:
            teacher = small_cnn()
            train_loop(teacher, list(teacher.parameters()), args.distill, args.lr, "teacher", args.grey)
            teacher.eval().requires_grad_(False)
            feature_map = teacher[:-3]  # up to the last ReLU: [B, 64, 12, 12]
            student = nn.Linear(width, 64)
            params += list(student.parameters())

        def forward(x: torch.Tensor, extra: list | None = None) -> torch.Tensor:
            h = vit(pixel_values=x).last_hidden_state
            if teacher is not None and extra is not None:
                with torch.no_grad():
                    t = feature_map(x).flatten(2).transpose(1, 2)  # [B, 144, 64]
                    t = t / (t.std((0, 1), keepdim=True) + 1e-6)
                extra.append(args.distill_weight * F.mse_loss(student(h[:, 1:]), t))
            return head(h[:, 1:].max(1).values if args.pool == "max" else h[:, 1:].mean(1) + h[:, 0])

    train_loop(forward, params, args.steps, args.lr, args.model, args.grey, args.batch)
    if args.save and args.model == "vit":
        torch.save(vit.state_dict(), args.save)


# Offsets (dx, dy) in patches that the heads of every layer attend to at the start (conv_attention_init), in head
# order; with more heads than offsets the list repeats.
CONV_OFFSETS = [(1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (-1, -1), (1, -1), (-1, 1)]
# Frequencies (radians per patch) of the position code conv_attention_init writes; the lowest keeps one period
# longer than the 12-patch grid, so a head's attention has a single peak.
CONV_FREQS = (math.pi / 8, math.pi / 4, math.pi / 2)


def conv_attention_init(vit, width: int, heads: int, grid: int, alpha: float, pos_scale: float = 1.0) -> None:
    """Starts the ViT as a stack of small convolutions (Cordonnier et al., "On the relationship between
    self-attention and convolutional layers", 2020): the last 4 * len(CONV_FREQS) channels of every patch's position
    embedding hold sines and cosines of its column and row (the patch embedding writes nothing there), and head h of
    every layer gets W_k = alpha * I on those channels and W_q = alpha * (the rotation that turns position p's code
    into p + offset_h's), so that q_i . k_j = alpha^2 * sum cos(w (p_i + offset_h - p_j)): each head looks at one
    neighbour, and each layer is a 1 + heads tap convolution over the patch grid followed by the MLP. Only a start:
    every weight trains, and the checkpoint is a standard Blip2VisionModel. With random attention (or mimetic, which
    attends to similar tokens) the ViT had to discover locality from its sparse labels and named shapes at near
    chance for hundreds of steps; a CNN on the same pictures needs 100. Measured: no faster than without
    (38.7% at step 300 against 40–55%), so train.py does not use it."""
    nf = len(CONV_FREQS)
    P = 4 * nf
    D = width // heads
    assert P <= D, "the position code must fit in one head"
    lo = width - P
    ys, xs = torch.meshgrid(torch.arange(grid, dtype=torch.float32), torch.arange(grid, dtype=torch.float32),
                            indexing="ij")
    xs, ys = xs.reshape(-1), ys.reshape(-1)
    w = torch.tensor(CONV_FREQS)
    code = torch.cat([(xs[:, None] * w).sin(), (xs[:, None] * w).cos(), (ys[:, None] * w).sin(),
                      (ys[:, None] * w).cos()], 1)  # [grid^2, P]: sin x, cos x, sin y, cos y per frequency
    with torch.no_grad():
        pe = vit.embeddings.position_embedding  # [1, 1 + grid^2, width]
        pe.zero_()
        pe[0, 1:, lo:] = pos_scale * code
        vit.embeddings.patch_embedding.weight[lo:] = 0
        vit.embeddings.patch_embedding.bias[lo:] = 0
        for layer in vit.encoder.layers:
            qkv = layer.self_attn.qkv
            qkv.weight[:2 * width] = 0
            if qkv.bias is not None:
                qkv.bias[:2 * width] = 0
            for h in range(heads):
                dx, dy = CONV_OFFSETS[h % len(CONV_OFFSETS)]
                rot = torch.zeros(P, P)
                for f in range(nf):
                    for off, d in ((0, dx), (2 * nf, dy)):
                        a = CONV_FREQS[f] * d
                        s_, c_ = off + f, off + nf + f  # sin and cos channel of this frequency
                        rot[s_, s_], rot[s_, c_] = math.cos(a), math.sin(a)
                        rot[c_, s_], rot[c_, c_] = -math.sin(a), math.cos(a)
                qkv.weight[h * D:h * D + P, lo:] = alpha * rot
                qkv.weight[width + h * D:width + h * D + P, lo:] = alpha * torch.eye(P)


def small_cnn() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(), nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Linear(64, 4))


def patch_cnn(patch: int, width: int) -> nn.Sequential:
    """A CNN whose first layer has the shape of the ViT's patch embedding (kernel = stride = patch)."""
    return nn.Sequential(
        nn.Conv2d(3, width, patch, stride=patch), nn.ReLU(),
        nn.Conv2d(width, 64, 3, padding=1), nn.ReLU(),
        nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(), nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Linear(64, 4))


def train_loop(forward, params, steps: int, peak: float, name: str, grey: bool, size: int = 64) -> None:
    opt = torch.optim.AdamW(params, lr=peak, weight_decay=0.05)
    rng, eval_x, eval_y = np.random.default_rng(1), *batch(np.random.default_rng(99), 400, grey)
    start = time.process_time()
    for step in range(steps + 1):
        lr = peak * min(1, (step + 1) / 50) * 0.5 * (1 + math.cos(math.pi * step / steps))
        for group in opt.param_groups:
            group["lr"] = lr
        x, y = batch(rng, size, grey)
        extra: list = []
        loss = F.cross_entropy(forward(x, extra) if name == "vit" else forward(x), y) + sum(extra)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 100 == 0 or step == steps:
            with torch.no_grad():
                accuracy = (forward(eval_x).argmax(1) == eval_y).float().mean().item()
            print(f"{name} step {step} loss {loss.item():.3f} accuracy {accuracy:.3f} "
                  f"cpu {time.process_time() - start:.0f}s", flush=True)


if __name__ == "__main__":
    main()
