"""Development probe: pre-trains only the ViT of train.py with a given recipe and prints its per-object shape and
colour accuracy on seen (test) and unseen (held-out) colour-shape pairs, with the CPU seconds it took.

    nice -n 10 python3 vit_probe.py --steps 600 --patch 6 --p-recolour 0.5
    nice -n 10 python3 vit_probe.py --steps 1000 --lr 3e-4 --object-pool max --save /tmp/vit.pt
    nice -n 10 python3 train.py --vit-cache /tmp/vit.pt --out /tmp/run    # the later stages on that ViT

Used to compare ViT pre-training recipes in a few minutes each (one thread) before a full train.py run; the
chosen recipe is train.py's default. Seeded and offline like train.py.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

import train


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--n-train", type=int, default=20000)
    ap.add_argument("--n-eval", type=int, default=300)
    ap.add_argument("--patch", type=int, default=train.VIT["patch_size"])
    ap.add_argument("--width", type=int, default=train.VIT["hidden_size"])
    ap.add_argument("--layers", type=int, default=train.VIT["num_hidden_layers"])
    ap.add_argument("--eval-every", type=int, default=200)
    for k, v in train.VIT_RECIPE.items():
        flag = "--" + k.replace("_", "-")
        if isinstance(v, bool):
            ap.add_argument(flag, type=int, default=int(v))
        elif isinstance(v, str):
            ap.add_argument(flag, default=v)
        elif isinstance(v, int):
            ap.add_argument(flag, type=int, default=v)
        else:
            ap.add_argument(flag, type=float, default=v)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--start", help="start the ViT from this state dict (shape_probe.py --save) instead of train.py's "
                    "initialisation")
    ap.add_argument("--save", help="save the trained ViT's state dict here (train.py --vit-cache reads it)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    train.seed_all(train.SEED)
    train.VIT.update(patch_size=args.patch, hidden_size=args.width, intermediate_size=4 * args.width,
                     num_hidden_layers=args.layers)
    for k, v in train.VIT_RECIPE.items():
        val = getattr(args, k)
        train.VIT_RECIPE[k] = bool(val) if isinstance(v, bool) else val
    c0 = time.process_time()
    imgs, sems, labels, masks = train.make_split(args.n_train, "train", train.SEED + 10)
    test = train.make_split(args.n_eval, "test", train.SEED + 11)
    held = train.make_split(args.n_eval, "heldout", train.SEED + 12)
    render_cpu = time.process_time() - c0
    cfg = dict(vit_steps=args.steps, vit_batch=args.batch)
    # The held-out pictures repainted in neutral colours: what the shape losses train on, so this says whether
    # shape is learned at all, apart from whether it carries over to palette colours.
    painted = train.recolour(held[0], held[3], held[1], np.random.default_rng(1))
    c1 = time.process_time()
    vit = train.train_vit(cfg, imgs, masks, sems, train.vit_targets(sems, labels),
                          {"test (seen pairs)": (test[0], test[1], test[3]),
                           "heldout (unseen pairs)": (held[0], held[1], held[3]),
                           "heldout repainted": (painted, held[1], held[3])}, eval_every=args.eval_every,
                          start=torch.load(args.start) if args.start else None)
    summary = {"args": vars(args), "recipe": train.VIT_RECIPE, "render_cpu_s": round(render_cpu),
               "vit_cpu_s": round(time.process_time() - c1), "results": vit.probe_results}
    print("PROBE " + json.dumps(summary), flush=True)
    if args.save:
        torch.save(vit.state_dict(), args.save)


if __name__ == "__main__":
    main()
