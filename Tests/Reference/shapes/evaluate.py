"""Measures the exported default model with plain `transformers` and writes the held-out fixtures.

    python3 evaluate.py [--opt DIR] [--itm DIR] [--fixtures DIR]

Both directories are reloaded with `from_pretrained` (nothing from train.py is imported), so the
numbers are what any `transformers` user gets. The held-out scenes are regenerated from world.py
with a fixed seed; each holds at least one colour–shape pair that no training picture contains.

Metrics (printed, and written to metrics.json beside the fixtures):
  caption   greedy caption parsed back to (objects, sizes, colours, shapes, relation); right when
            it says exactly what the scene holds (either word order of the relation counts).
  itc_r1    recall@1 of the true canonical caption among 100 candidates (the truth plus 99
            canonical captions of other held-out scenes that say something different).
  itm       accuracy of ITM (threshold 0.5 on the match probability) over the true caption and a
            caption with one attribute or the relation swapped, two decisions per scene; the
            pairwise rate (true caption scored above the swapped one), the share of true captions
            accepted and of swapped ones rejected by what was swapped are printed too.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import numpy as np
import torch

import world

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
MODEL_ROOT = os.path.join(REPO, "Sources", "tiaoyu", "Resources", "DefaultModel")

# Must match train.py's held-out split seed so the printed numbers describe the same scenes.
HELDOUT_SEED = 20260 + 12
TEST_SEED = 20260 + 11
N_EVAL = 500
N_CANDIDATES = 100
N_FIXTURES = 40
EVAL_SEED = 7


def load(opt_dir: str, itm_dir: str):
    from transformers import Blip2ForConditionalGeneration, Blip2ForImageTextRetrieval, Blip2Processor

    gen = Blip2ForConditionalGeneration.from_pretrained(opt_dir).eval()
    gen_proc = Blip2Processor.from_pretrained(opt_dir)
    ret = Blip2ForImageTextRetrieval.from_pretrained(itm_dir).eval()
    ret_proc = Blip2Processor.from_pretrained(itm_dir)
    return gen, gen_proc, ret, ret_proc


@torch.no_grad()
def captions(gen, proc, images) -> tuple[list[str], list[list[int]]]:
    texts, ids = [], []
    for i in range(0, len(images), 100):
        inputs = proc(images=images[i:i + 100], return_tensors="pt")
        out = gen.generate(pixel_values=inputs["pixel_values"], do_sample=False, num_beams=1, max_new_tokens=30)
        texts += [t.strip() for t in proc.batch_decode(out, skip_special_tokens=True)]
        ids += out.tolist()
    return texts, ids


@torch.no_grad()
def itc_matrix(ret, proc, images, texts: list[str]) -> torch.Tensor:
    """ITC cosine similarities [images, texts] (max over query tokens), as Blip2ForImageTextRetrieval gives."""
    inputs = proc(images=images, return_tensors="pt")
    enc = proc.tokenizer(texts, padding=True, return_tensors="pt")
    out = ret(pixel_values=inputs["pixel_values"], input_ids=enc["input_ids"], attention_mask=enc["attention_mask"],
              use_image_text_matching_head=False)
    return out.logits_per_image


@torch.no_grad()
def itm_probs(ret, proc, images, texts: list[str]) -> torch.Tensor:
    probs = []
    for i in range(0, len(images), 100):
        inputs = proc(images=images[i:i + 100], text=texts[i:i + 100], padding=True, return_tensors="pt")
        out = ret(pixel_values=inputs["pixel_values"], input_ids=inputs["input_ids"],
                  attention_mask=inputs["attention_mask"], use_image_text_matching_head=True)
        probs.append(out.logits_per_image.softmax(-1)[:, 1])
    return torch.cat(probs)


def caption_errors(sems, caps) -> dict:
    """How many captions get each thing wrong (a caption can count under several): unparsable, object count,
    relation axis, and per attribute the objects named wrongly, with objects of a held-out pair counted apart."""
    err = {"unparsable": 0, "count": 0, "axis": 0, "size": 0, "colour": 0, "shape": 0, "unseen_pair_colour": 0,
           "unseen_pair_shape": 0, "unseen_pair_objects": 0}
    for s, c in zip(sems, caps):
        p = world.parse_caption(c)
        if p is None:
            err["unparsable"] += 1
            continue
        if len(p.objects) != len(s.objects):
            err["count"] += 1
            continue
        if p.axis != s.axis:
            err["axis"] += 1
        for o, q in zip(s.objects, p.objects):
            held = (o.colour, o.shape) in world.HELDOUT_PAIRS
            err["unseen_pair_objects"] += held
            for attr in ("size", "colour", "shape"):
                if getattr(o, attr) != getattr(q, attr):
                    err[attr] += 1
                    if held and attr != "size":
                        err["unseen_pair_" + attr] += 1
    return err


def swap_kind(sem, swapped) -> str:
    """What world.swap_one changed: "relation" (the axis), "places" (the two objects trading places on the same
    axis: telling it apart needs which object is where, not just the layout), else the attribute ("size",
    "colour", "shape") that differs."""
    if sem.axis != swapped.axis:
        return "relation"
    if len(sem.objects) == 2 and tuple(reversed(sem.objects)) == swapped.objects:
        return "places"
    for a, b in zip(sem.objects, swapped.objects):
        for attr in ("size", "colour", "shape"):
            if getattr(a, attr) != getattr(b, attr):
                return attr
    return "relation"


def evaluate_split(name, gen, gen_proc, ret, ret_proc, images, sems, rng) -> dict:
    caps, _ = captions(gen, gen_proc, images)
    right = [(world.parse_caption(c) is not None and world.parse_caption(c).key() == s.key()) for c, s in
             zip(caps, sems)]
    truth = [s.canonical() for s in sems]
    uniq = sorted(set(truth))
    sim = itc_matrix(ret, ret_proc, images, uniq)
    col = {t: j for j, t in enumerate(uniq)}
    hits = 0
    for i, s in enumerate(sems):
        others = [t for t in uniq if t != s.canonical()]
        cand = [s.canonical()] + [others[k] for k in rng.choice(len(others), N_CANDIDATES - 1, replace=False)]
        scores = sim[i, [col[t] for t in cand]]
        hits += int(scores.argmax().item() == 0)
    swaps = [world.swap_one(s, rng) for s in sems]
    swapped = [w.canonical() for w in swaps]
    p_true = itm_probs(ret, ret_proc, images, truth)
    p_swap = itm_probs(ret, ret_proc, images, swapped)
    rejected = {}
    for s, w, p in zip(sems, swaps, p_swap.tolist()):
        rejected.setdefault(swap_kind(s, w), []).append(p <= 0.5)
    res = {
        "scenes": len(sems),
        "caption_all_right": sum(right) / len(sems),
        "itc_recall_at_1_of_100": hits / len(sems),
        "itm_accuracy": (int((p_true > 0.5).sum()) + int((p_swap <= 0.5).sum())) / (2 * len(sems)),
        "itm_pairwise": float((p_true > p_swap).float().mean()),
        "itm_true_accepted": float((p_true > 0.5).float().mean()),
    }
    print(f"{name}: " + " ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in res.items()),
          flush=True)
    print(f"  caption errors by kind: {json.dumps(caption_errors(sems, caps))}", flush=True)
    print("  ITM swapped captions rejected, by what was swapped: "
          + ", ".join(f"{k} {np.mean(v):.1%} of {len(v)}" for k, v in sorted(rejected.items())), flush=True)
    wrong = [(s.canonical(), c) for s, c, r in zip(sems, caps, right) if not r][:8]
    for t, c in wrong:
        print(f"  wrong caption: truth '{t}' got '{c}'")
    return res


def write_fixtures(out_dir: str, gen, gen_proc, ret, ret_proc, images, sems, rng, metrics: dict, opt_dir, itm_dir):
    os.makedirs(out_dir, exist_ok=True)
    for f in os.listdir(out_dir):
        if f.endswith(".png"):
            os.remove(os.path.join(out_dir, f))
    from PIL import Image

    names = []
    for i in range(N_FIXTURES):
        name = f"heldout-{i:02d}.png"
        images[i].save(os.path.join(out_dir, name), optimize=True)
        names.append(name)
    # Reload from PNG so the recorded values are exactly what a consumer of the files gets.
    loaded = [Image.open(os.path.join(out_dir, n)).convert("RGB") for n in names]
    caps, ids = captions(gen, gen_proc, loaded)
    truth = [s.canonical() for s in sems[:N_FIXTURES]]
    swapped = [world.swap_one(s, rng).canonical() for s in sems[:N_FIXTURES]]
    p_true = itm_probs(ret, ret_proc, loaded, truth)
    p_swap = itm_probs(ret, ret_proc, loaded, swapped)
    sim = itc_matrix(ret, ret_proc, loaded, truth + swapped)
    enc = ret_proc.tokenizer(truth + swapped)
    scenes = []
    for i in range(N_FIXTURES):
        parsed = world.parse_caption(caps[i])
        scenes.append({
            "file": names[i],
            **world.attributes(sems[i]),
            "greedy_caption": caps[i],
            "greedy_caption_correct": parsed is not None and parsed.key() == sems[i].key(),
            "greedy_ids": ids[i],
            "swapped_caption": swapped[i],
            "qformer_ids_true": enc["input_ids"][i],
            "qformer_ids_swapped": enc["input_ids"][N_FIXTURES + i],
            "itm_match_probability_true": round(float(p_true[i]), 6),
            "itm_match_probability_swapped": round(float(p_swap[i]), 6),
            "itc_similarity_true": round(float(sim[i, i]), 6),
            "itc_similarity_swapped": round(float(sim[i, N_FIXTURES + i]), 6),
        })
    import PIL
    import transformers

    doc = {
        "about": "Held-out shapes scenes (each holds a colour-shape pair never seen in training) with the values "
                 "transformers gives on the embedded default model. Regenerate: see Tests/Fixtures/README.md.",
        "versions": {"transformers": transformers.__version__, "torch": torch.__version__,
                     "pillow": PIL.__version__, "python": platform.python_version()},
        "models": {"opt": os.path.relpath(opt_dir, REPO), "itm": os.path.relpath(itm_dir, REPO)},
        "generation": {"decoding": "greedy", "max_new_tokens": 30, "prompt": None},
        "metrics": metrics,
        "scenes": scenes,
    }
    with open(os.path.join(out_dir, "heldout.json"), "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print(f"wrote {N_FIXTURES} fixtures to {out_dir}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--opt", default=os.path.join(MODEL_ROOT, "blip2-shapes-opt"))
    ap.add_argument("--itm", default=os.path.join(MODEL_ROOT, "blip2-shapes-itm"))
    ap.add_argument("--fixtures", default=None, help="also write the held-out fixture PNGs and heldout.json here")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(EVAL_SEED)
    t0 = time.time()
    gen, gen_proc, ret, ret_proc = load(args.opt, args.itm)
    metrics = {}
    for name, seed in (("heldout", HELDOUT_SEED), ("test", TEST_SEED)):
        rng = np.random.default_rng(seed)
        scenes = [world.make_scene(rng, name) for _ in range(N_EVAL)]
        sems = [s for s, _ in scenes]
        images = [img for _, img in scenes]
        metrics[name] = evaluate_split(name, gen, gen_proc, ret, ret_proc, images, sems,
                                       np.random.default_rng(EVAL_SEED))
        if name == "heldout" and args.fixtures:
            held = (images, sems)
    if args.fixtures:
        write_fixtures(args.fixtures, gen, gen_proc, ret, ret_proc, held[0], held[1],
                       np.random.default_rng(EVAL_SEED + 1), metrics, args.opt, args.itm)
        with open(os.path.join(args.fixtures, "metrics.json"), "w") as f:
            json.dump(metrics, f, indent=1)
            f.write("\n")
    h = metrics["heldout"]
    print(f"ACCEPTANCE (held-out, unseen colour-shape pairs): caption {h['caption_all_right']:.1%} (bar 90%), "
          f"ITC R@1/100 {h['itc_recall_at_1_of_100']:.1%} (bar 80%), ITM {h['itm_accuracy']:.1%} (bar 90%)"
          f" [{time.time() - t0:.0f}s]", flush=True)


if __name__ == "__main__":
    main()
