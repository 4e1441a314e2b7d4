"""Development probe: how well a linear read of the model's features names the shape of each held-out colour-shape
pair (the unseen pairs are where the default model fails; eleventh-session section of DefaultModel/README.md).

    python3 pair_probe.py vit VIT [--train-on real|painted|neutral]      # ViT tokens, mean over each object
    python3 pair_probe.py queries ITM_DIR OPT_DIR                        # stage-1 and stage-2 query outputs

A linear shape read is trained on training scenes (seen pairs only) and tested on held-out scenes. Trained on real
pictures it is logit-adjusted by the training prior (QueryAttributeHead's offsets), so it cannot learn "green is never
a circle"; "painted" trains it on pictures repainted as ViT pre-training paints them (no adjustment needed);
"neutral" on the neutral-colour objects only, and also prints the read's accuracy on seen-pair objects by colour.
VIT is a model directory (its vision model is read) or a state dict as `train.py --vit-cache` writes it. Two seeds of
the read; one thread.
"""

from __future__ import annotations

import argparse
import collections
import os

import numpy as np
import torch
import torch.nn.functional as F

import evaluate
import train
import world


def report(name: str, pred: list[int], shape: list[int], colour: list[int]) -> None:
    """Accuracy per held-out pair and over the seen-pair objects."""
    hits = collections.defaultdict(lambda: [0, 0])
    for p, s, c in zip(pred, shape, colour):
        pair = (world.COLOUR_NAMES[c], world.SHAPES[s])
        key = " ".join(pair) if pair in world.HELDOUT_PAIRS else "seen pairs"
        hits[key][0] += p == s
        hits[key][1] += 1
    print(name, {k: f"{a / b:.0%} of {b}" for k, (a, b) in sorted(hits.items())}, flush=True)


def offsets(colour: torch.Tensor, adjust: bool) -> torch.Tensor:
    """[N, shapes] logit offsets: -ABSENT_PAIR_PENALTY for the shapes never seen with each object's colour."""
    absent = torch.zeros(train.NC, train.NS)
    if adjust:
        for c, s in world.HELDOUT_PAIRS:
            absent[world.COLOUR_NAMES.index(c), world.SHAPES.index(s)] = -train.ABSENT_PAIR_PENALTY
    return absent[colour]


def fit(x: torch.Tensor, y: torch.Tensor, off: torch.Tensor, seed: int) -> torch.nn.Linear:
    torch.manual_seed(seed)
    lin = torch.nn.Linear(x.shape[1], train.NS)
    opt = torch.optim.AdamW(lin.parameters(), lr=3e-3, weight_decay=0.01)
    for _ in range(2000):
        i = torch.randint(0, len(x), (256,))
        loss = F.cross_entropy(lin(x[i]) + off[i], y[i])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return lin


def vit_objects(vit, n: int, split: str, seed: int, paint: bool):
    """Object-pooled ViT tokens [objects, W] with each object's shape and colour index."""
    imgs, sems, _, masks = train.make_split(n, split, seed)
    if paint:
        imgs = train.recolour(imgs, masks, sems, np.random.default_rng(seed), True, train.VIT_RECIPE["background"])
    with torch.no_grad():
        tokens = train.vit_features(vit, imgs)[:, 1:]
    pooled = torch.einsum("nkp,npd->nkd", train.object_pooling(masks), tokens)
    rows = [(pooled[i, k], world.SHAPES.index(o.shape), world.COLOUR_NAMES.index(o.colour))
            for i, s in enumerate(sems) for k, o in enumerate(s.objects)]
    return torch.stack([r[0] for r in rows]), torch.tensor([r[1] for r in rows]), torch.tensor([r[2] for r in rows])


def probe_vit(path: str, train_on: str) -> None:
    from transformers import Blip2ForImageTextRetrieval, Blip2VisionConfig, Blip2VisionModel

    if os.path.isdir(path):
        vit = Blip2ForImageTextRetrieval.from_pretrained(path).vision_model
    else:
        vit = Blip2VisionModel(Blip2VisionConfig(**train.VIT))
        vit.load_state_dict(torch.load(path))
    vit.eval()
    x, y, c = vit_objects(vit, 4000, "train", 999, train_on == "painted")
    if train_on == "neutral":
        keep = torch.tensor([world.COLOUR_NAMES[i] in train.NEUTRAL_COLOURS for i in c.tolist()])
        x, y, c = x[keep], y[keep], c[keep]
    xh, yh, ch = vit_objects(vit, 600, "heldout", 12345, False)
    xt, yt, ct = vit_objects(vit, 1500, "test", 4321, False) if train_on == "neutral" else (None, None, None)
    for seed in (0, 1):
        lin = fit(x, y, offsets(c, train_on == "real"), seed)
        with torch.no_grad():
            report(f"vit read {seed}", lin(xh).argmax(1).tolist(), yh.tolist(), ch.tolist())
            if xt is not None:
                pred = lin(xt).argmax(1)
                by = {name: f"{(pred[ct == i] == yt[ct == i]).float().mean().item():.0%}"
                      for i, name in enumerate(world.COLOUR_NAMES)}
                print(f"  seen-pair test objects by colour {by}")


def query_outputs(model, images: np.ndarray) -> torch.Tensor:
    with torch.no_grad():
        feats = train.vit_features(model.vision_model, images)
        return torch.cat([train.query_outputs(model, feats[i:i + 250]) for i in range(0, len(feats), 250)])


def probe_queries(itm_dir: str, opt_dir: str) -> None:
    from transformers import Blip2ForConditionalGeneration, Blip2ForImageTextRetrieval

    imgs, sems, _, _ = train.make_split(4000, "train", 999)
    rng = np.random.default_rng(evaluate.HELDOUT_SEED)
    scenes = [world.make_scene(rng, "heldout") for _ in range(evaluate.N_EVAL)]
    held = np.stack([np.asarray(im) for _, im in scenes])
    # Both objects' slots: the read names shape0 and shape1 (QueryAttributeHead, shape only).
    models = (("stage 1", Blip2ForImageTextRetrieval.from_pretrained(itm_dir).eval()),
              ("stage 2", Blip2ForConditionalGeneration.from_pretrained(opt_dir).eval()))
    for name, model in models:
        tr, te = query_outputs(model, imgs), query_outputs(model, held)
        for seed in (0, 1):
            torch.manual_seed(seed)
            head = train.QueryAttributeHead(train.QFORMER["hidden_size"], sems, train.ABSENT_PAIR_PENALTY, False)
            opt = torch.optim.AdamW(head.parameters(), lr=3e-3, weight_decay=0.01)
            for _ in range(1500):
                idx = torch.randint(0, len(tr), (256,)).tolist()
                loss = head.loss(tr[idx], idx)
                opt.zero_grad()
                loss.backward()
                opt.step()
            with torch.no_grad():
                logits = head.linear(te.flatten(1)).split([train.HEAD_CLASSES[k] for k in head.keys], 1)
            pred, shape, colour = [], [], []
            for j, (s, _) in enumerate(scenes):
                for k, o in enumerate(s.objects):
                    pred.append(int(logits[k][j, :train.NS].argmax()))
                    shape.append(world.SHAPES.index(o.shape))
                    colour.append(world.COLOUR_NAMES.index(o.colour))
            report(f"{name} query read {seed}", pred, shape, colour)


def main() -> None:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="what", required=True)
    v = sub.add_parser("vit")
    v.add_argument("vit")
    v.add_argument("--train-on", choices=["real", "painted", "neutral"], default="real")
    v.add_argument("--background", type=float, default=train.VIT_RECIPE["background"],
                   help="VIT_RECIPE's background shift for --train-on painted")
    q = sub.add_parser("queries")
    q.add_argument("itm_dir")
    q.add_argument("opt_dir")
    args = ap.parse_args()
    torch.set_num_threads(1)
    if args.what == "vit":
        train.VIT_RECIPE["background"] = args.background
        probe_vit(args.vit, args.train_on)
    else:
        probe_queries(args.itm_dir, args.opt_dir)


if __name__ == "__main__":
    main()
