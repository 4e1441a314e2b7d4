"""The shapes world: a seeded generator of small RGB scenes and their captions.

A scene holds one or two objects on a plain or lightly textured background. Each object has a
shape, a colour and a size (small / large); a two-object scene also has a spatial relation.
The canonical caption reads the scene in reading order (left to right, top to bottom), so it is a
function of the picture alone:

    "a small red circle"
    "a small red circle to the left of a large blue square"
    "a large green star above a small white cross"

Paraphrases say the same thing in other words, including the inverse relations
("... to the right of ...", "... below ..."), so all four relations occur in text.

Rendering varies position, scale, rotation, colour jitter, background and antialiasing
(supersampling factor 1, 2 or 4). A held-out split uses colour–shape pairs that never occur in
any training picture (HELDOUT_PAIRS).

Everything is deterministic given the numpy Generator passed in.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

# Output picture side in pixels; the ViT patch grid is built on it (48 / 8 = 6x6 patches). Small, because the
# whole pipeline must train in under 40 minutes on two shared CPU cores.
IMAGE_SIZE = 48

# Four clearly distinct outlines: at 48 px a small ViT trained for minutes confuses diamonds with squares and
# crosses with stars (the drawing code for "diamond" and "cross" stays for a larger future world).
SHAPES = ["circle", "square", "triangle", "star"]
SIZES = ["small", "large"]
# Nominal RGB per colour name; each render jitters it a little.
COLOURS = {
    "red": (215, 35, 35),
    "green": (40, 165, 60),
    "blue": (40, 80, 225),
    "yellow": (240, 215, 40),
    "purple": (135, 55, 185),
    "orange": (245, 135, 25),
    "white": (245, 245, 245),
    "black": (20, 20, 20),
}
COLOUR_NAMES = list(COLOURS)

# Colour–shape pairs never drawn in training pictures: one per shape, each colour at most once,
# so every colour and every shape is still seen in training, only not in these pairings.
HELDOUT_PAIRS = {
    ("red", "star"),
    ("green", "circle"),
    ("blue", "triangle"),
    ("yellow", "square"),
}

# Object diameter as a fraction of the picture side, per size class; the gap between the two
# ranges keeps "small" and "large" unambiguous.
SIZE_RANGE = {"small": (0.26, 0.32), "large": (0.42, 0.5)}
# Largest rotation, in degrees, applied to a shape; kept well below 45 so a square never turns
# into a diamond.
MAX_ROTATION = 18.0
# Per-channel colour jitter (0-255 scale).
COLOUR_JITTER = 14
# Probability that a scene holds a single object.
P_SINGLE = 0.3

RELATIONS = ["to the left of", "to the right of", "above", "below"]


@dataclass(frozen=True)
class Obj:
    size: str
    colour: str
    shape: str

    def words(self) -> str:
        return f"{self.size} {self.colour} {self.shape}"


@dataclass(frozen=True)
class Semantics:
    """What a caption asserts, normalised: objects in reading order and the axis ('h' or 'v')."""

    objects: tuple[Obj, ...]
    axis: str | None  # 'h': objects[0] is left of objects[1]; 'v': objects[0] is above objects[1]

    def canonical(self) -> str:
        if len(self.objects) == 1:
            return f"a {self.objects[0].words()}"
        rel = "to the left of" if self.axis == "h" else "above"
        return f"a {self.objects[0].words()} {rel} a {self.objects[1].words()}"

    def key(self) -> str:
        return self.canonical()


def surface(subject: Obj, relation: str | None, other: Obj | None, prefix: str = "") -> str:
    """Renders a caption from its surface structure (subject first)."""
    if relation is None or other is None:
        return f"{prefix}a {subject.words()}"
    return f"{prefix}a {subject.words()} {relation} a {other.words()}"


def semantics_of(subject: Obj, relation: str | None, other: Obj | None) -> Semantics:
    if relation is None or other is None:
        return Semantics((subject,), None)
    if relation == "to the left of":
        return Semantics((subject, other), "h")
    if relation == "to the right of":
        return Semantics((other, subject), "h")
    if relation == "above":
        return Semantics((subject, other), "v")
    return Semantics((other, subject), "v")


PREFIXES = ["", "there is ", "a picture of "]
_CAPTION_RE = re.compile(
    r"^(?:there is |a picture of )?a (small|large) (\w+) (\w+)"
    r"(?: (to the left of|to the right of|above|below) a (small|large) (\w+) (\w+))?$"
)


def parse_caption(text: str) -> Semantics | None:
    """Parses any caption of the grammar back to its semantics; None when it is not one."""
    m = _CAPTION_RE.match(text.strip().lower())
    if m is None:
        return None
    size, colour, shape, rel, size2, colour2, shape2 = m.groups()
    if colour not in COLOURS or shape not in SHAPES:
        return None
    subject = Obj(size, colour, shape)
    if rel is None:
        return semantics_of(subject, None, None)
    if colour2 not in COLOURS or shape2 not in SHAPES:
        return None
    return semantics_of(subject, rel, Obj(size2, colour2, shape2))


def paraphrase(sem: Semantics, rng: np.random.Generator) -> str:
    """A random caption with the given semantics (order, relation word and prefix vary)."""
    prefix = PREFIXES[int(rng.integers(len(PREFIXES)))]
    if len(sem.objects) == 1:
        return surface(sem.objects[0], None, None, prefix)
    a, b = sem.objects
    if rng.random() < 0.5:
        rel = "to the left of" if sem.axis == "h" else "above"
        return surface(a, rel, b, prefix)
    rel = "to the right of" if sem.axis == "h" else "below"
    return surface(b, rel, a, prefix)


def swap_one(sem: Semantics, rng: np.random.Generator) -> Semantics:
    """The same scene description with exactly one attribute (or the relation) changed."""
    objs = list(sem.objects)
    while True:
        choices = ["size", "colour", "shape"] + (["relation"] if len(objs) == 2 else [])
        what = choices[int(rng.integers(len(choices)))]
        if what == "relation":
            a, b = objs
            options = [("h", (b, a)), ("v", (a, b)), ("v", (b, a))] if sem.axis == "h" else \
                [("v", (b, a)), ("h", (a, b)), ("h", (b, a))]
            axis, pair = options[int(rng.integers(len(options)))]
            new = Semantics(pair, axis)
        else:
            i = int(rng.integers(len(objs)))
            o = objs[i]
            if what == "size":
                o2 = Obj("large" if o.size == "small" else "small", o.colour, o.shape)
            elif what == "colour":
                o2 = Obj(o.size, str(rng.choice([c for c in COLOUR_NAMES if c != o.colour])), o.shape)
            else:
                o2 = Obj(o.size, o.colour, str(rng.choice([s for s in SHAPES if s != o.shape])))
            new_objs = list(objs)
            new_objs[i] = o2
            new = Semantics(tuple(new_objs), sem.axis)
        if new.key() != sem.key():
            return new


def random_object(rng: np.random.Generator, split: str, force_heldout: bool = False) -> Obj:
    """An object for the split: 'train' never uses a held-out pair; force_heldout always does."""
    while True:
        if force_heldout:
            colour, shape = sorted(HELDOUT_PAIRS)[int(rng.integers(len(HELDOUT_PAIRS)))]
        else:
            colour = COLOUR_NAMES[int(rng.integers(len(COLOUR_NAMES)))]
            shape = SHAPES[int(rng.integers(len(SHAPES)))]
            if split == "train" and (colour, shape) in HELDOUT_PAIRS:
                continue
        return Obj(SIZES[int(rng.integers(2))], colour, shape)


def random_semantics(rng: np.random.Generator, split: str) -> Semantics:
    """'train' and 'test' scenes use only seen pairs; 'heldout' scenes hold at least one unseen pair."""
    pair_split = "train" if split in ("train", "test") else "any"
    if rng.random() < P_SINGLE:
        return Semantics((random_object(rng, pair_split, split == "heldout"),), None)
    first = random_object(rng, pair_split, split == "heldout")
    second = random_object(rng, pair_split)
    objs = (first, second) if rng.random() < 0.5 else (second, first)
    return Semantics(objs, "h" if rng.random() < 0.5 else "v")


# --- rendering -------------------------------------------------------------------------------

def _polygon(shape: str, cx: float, cy: float, r: float, rot: float) -> list[tuple[float, float]]:
    """Vertices of a shape of circumradius-like extent r around (cx, cy), rotated by rot radians."""
    if shape == "square":
        s = r * 0.85
        pts = [(-s, -s), (s, -s), (s, s), (-s, s)]
    elif shape == "triangle":
        pts = [(r * math.cos(a), r * math.sin(a)) for a in (-math.pi / 2, math.pi / 6, 5 * math.pi / 6)]
        pts = [(x, y + r * 0.15) for x, y in pts]
    elif shape == "star":
        pts = []
        for k in range(10):
            rad = r if k % 2 == 0 else r * 0.45
            a = -math.pi / 2 + k * math.pi / 5
            pts.append((rad * math.cos(a), rad * math.sin(a)))
    elif shape == "diamond":
        pts = [(0, -r), (r * 0.68, 0), (0, r), (-r * 0.68, 0)]
    elif shape == "cross":
        t = r * 0.36
        pts = [(-t, -r), (t, -r), (t, -t), (r, -t), (r, t), (t, t), (t, r), (-t, r), (-t, t), (-r, t),
               (-r, -t), (-t, -t)]
    else:
        raise ValueError(shape)
    c, s = math.cos(rot), math.sin(rot)
    return [(cx + x * c - y * s, cy + x * s + y * c) for x, y in pts]


def _background(rng: np.random.Generator, side: int) -> np.ndarray:
    """A low-saturation mid-tone background, plain or lightly textured (gradient, noise, stripes)."""
    base = rng.uniform(95, 165)
    tint = rng.uniform(-12, 12, size=3)
    img = np.ones((side, side, 3), dtype=np.float32) * (base + tint)
    kind = rng.integers(4)
    if kind == 1:  # gradient
        g = np.linspace(-1, 1, side, dtype=np.float32) * rng.uniform(5, 18)
        img += (g[None, :, None] if rng.random() < 0.5 else g[:, None, None])
    elif kind == 2:  # noise
        img += rng.normal(0, rng.uniform(2, 7), size=img.shape).astype(np.float32)
    elif kind == 3:  # faint stripes
        period = rng.uniform(6, 14)
        phase = rng.uniform(0, 2 * math.pi)
        idx = np.arange(side, dtype=np.float32)
        stripes = np.sin(idx / period * 2 * math.pi + phase) * rng.uniform(3, 8)
        img += (stripes[None, :, None] if rng.random() < 0.5 else stripes[:, None, None])
    return img


def _layout(sem: Semantics, rng: np.random.Generator) -> list[tuple[float, float, float]] | None:
    """Centres and radii (in picture units 0..1) matching the semantics, or None if a try failed."""
    radii = [rng.uniform(*SIZE_RANGE[o.size]) / 2 for o in sem.objects]
    margin = 0.02
    if len(sem.objects) == 1:
        r = radii[0]
        return [(rng.uniform(r + margin, 1 - r - margin), rng.uniform(r + margin, 1 - r - margin), r)]
    r0, r1 = radii
    # Separation along the relation axis, then a smaller offset across it, so the axis is clear.
    min_sep = r0 + r1 + 0.04
    max_sep = 1 - r0 - r1 - 2 * margin
    if max_sep < min_sep:
        return None
    sep = rng.uniform(min_sep, max_sep)
    across = rng.uniform(-0.3, 0.3) * sep
    a_lo = r0 + margin
    a_hi = 1 - r1 - margin - sep
    if a_hi < a_lo:
        return None
    a0 = rng.uniform(a_lo, a_hi)
    a1 = a0 + sep
    lo = max(r0, r1) + margin
    c_mid = rng.uniform(lo + abs(across) / 2, 1 - lo - abs(across) / 2) if 1 - lo - abs(across) / 2 > \
        lo + abs(across) / 2 else None
    if c_mid is None:
        return None
    b0, b1 = c_mid - across / 2, c_mid + across / 2
    if sem.axis == "h":
        return [(a0, b0, r0), (a1, b1, r1)]
    return [(b0, a0, r0), (b1, a1, r1)]


def render(sem: Semantics, rng: np.random.Generator, with_masks: bool = False):
    """Draws the scene as an IMAGE_SIZE x IMAGE_SIZE RGB picture.

    With with_masks, also returns one float coverage mask (IMAGE_SIZE x IMAGE_SIZE, 0..1) per object,
    drawn from the same geometry; the random stream is the same either way."""
    layout = None
    while layout is None:
        layout = _layout(sem, rng)
    factor = int(rng.choice([1, 2, 4]))  # 1 = aliased edges, 4 = smooth
    side = IMAGE_SIZE * factor
    bg = _background(rng, side)
    canvas = Image.fromarray(np.clip(bg, 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(canvas)
    masks = []
    for obj, (cx, cy, r) in zip(sem.objects, layout):
        base = np.array(COLOURS[obj.colour], dtype=np.float32)
        col = tuple(int(v) for v in np.clip(base + rng.uniform(-COLOUR_JITTER, COLOUR_JITTER, 3), 0, 255))
        px, py, pr = cx * side, cy * side, r * side
        mask = Image.new("L", (side, side), 0) if with_masks else None
        if obj.shape == "circle":
            box = [px - pr, py - pr, px + pr, py + pr]
            draw.ellipse(box, fill=col)
            if mask is not None:
                ImageDraw.Draw(mask).ellipse(box, fill=255)
        else:
            rot = math.radians(rng.uniform(-MAX_ROTATION, MAX_ROTATION))
            poly = _polygon(obj.shape, px, py, pr, rot)
            draw.polygon(poly, fill=col)
            if mask is not None:
                ImageDraw.Draw(mask).polygon(poly, fill=255)
        if mask is not None:
            masks.append(mask)
    if factor > 1:
        canvas = canvas.resize((IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.BOX)
        masks = [m.resize((IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.BOX) for m in masks]
    if not with_masks:
        return canvas
    # A later object is drawn over an earlier one; objects never overlap by construction, so no occlusion.
    return canvas, [np.asarray(m, dtype=np.float32) / 255.0 for m in masks]


def make_scene(rng: np.random.Generator, split: str) -> tuple[Semantics, Image.Image]:
    sem = random_semantics(rng, split)
    return sem, render(sem, rng)


def attributes(sem: Semantics) -> dict:
    """JSON-friendly description of a scene."""
    return {
        "objects": [{"size": o.size, "colour": o.colour, "shape": o.shape} for o in sem.objects],
        "relation": None if sem.axis is None else ("left_of" if sem.axis == "h" else "above"),
        "canonical_caption": sem.canonical(),
    }


def caption_corpus(rng: np.random.Generator, n: int) -> list[list[str]]:
    """Caption text over the whole grammar (all colour–shape pairs), for the language model.

    Each of the n "documents" is two or three captions of the same scene (paraphrases, often ending with
    the canonical one), so a language model trained on them learns to carry content from its context,
    which is what lets a frozen one be steered by the Q-Former's soft prompt."""
    out = []
    for _ in range(n):
        sem = random_semantics(rng, "any")
        k = 2 + int(rng.integers(2))
        doc = [paraphrase(sem, rng) for _ in range(k - 1)]
        doc.append(sem.canonical() if rng.random() < 0.7 else paraphrase(sem, rng))
        out.append(doc)
    return out


if __name__ == "__main__":
    import sys

    rng = np.random.default_rng(0)
    out = sys.argv[1] if len(sys.argv) > 1 else "/tmp/shapes_preview"
    import os

    os.makedirs(out, exist_ok=True)
    for i in range(16):
        sem, img = make_scene(rng, "train" if i < 12 else "heldout")
        img.save(f"{out}/{i:02d}.png")
        print(i, sem.canonical(), "|", paraphrase(sem, rng), "|", swap_one(sem, rng).canonical())
