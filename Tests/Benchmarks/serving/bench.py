"""Helpers of the serving benchmark (run.sh calls them; standard library + numpy/Pillow only).

    python3 bench.py render DIR N [--seed S]   draw N distinct shapes scenes (48x48 PNG) into DIR, list in DIR/list
    python3 bench.py check OURS_URL BASE_URL   both servers caption and match held-out scenes; exit 1 if they differ
    python3 bench.py table ROWS                the results table (markdown) from run.sh's result rows
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import urllib.request
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "../../.."))
FIXTURES = os.path.join(REPO, "Tests/Fixtures/shapes")
# Held-out scenes both servers caption before timing: enough to cover one- and two-object scenes.
CHECK_SCENES = 8
# ITM and ITC are float32 sums in different orders on the two sides; the Swift parity tests hold 5e-6 on
# the tiny fixtures, and through a whole model a few 1e-5 is expected, so 1e-3 flags only real differences.
SCORE_TOLERANCE = 1e-3
# Texts the answer check scores against each held-out scene, besides its own caption and a swapped one.
MATCH_TEXTS = ["a small red circle", "a large blue square to the left of a small green star",
               "a large yellow triangle above a small white circle", "a small black star"]


def render(out_dir: str, count: int, seed: int) -> None:
    import numpy as np

    sys.path.insert(0, os.path.join(REPO, "Tests/Reference/shapes"))
    import world

    os.makedirs(out_dir, exist_ok=True)
    rng = np.random.default_rng(seed)
    seen: set[str] = set()
    names = []
    while len(names) < count:
        _, image = world.make_scene(rng, "test")
        path = os.path.join(out_dir, f"scene-{len(names):05d}.png")
        image.save(path)
        with open(path, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        if digest in seen:  # a repeat would be a cache hit on our side: draw again
            continue
        seen.add(digest)
        names.append(path)
    with open(os.path.join(out_dir, "list"), "w") as f:
        f.write("\n".join(names) + "\n")


def multipart(images: list[bytes], texts: list[str]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = b""
    for i, data in enumerate(images):
        body += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"{i}.png\"\r\n"
                 "Content-Type: image/png\r\n\r\n").encode() + data + b"\r\n"
    for text in texts:
        body += f"--{boundary}\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\n{text}\r\n".encode()
    return body + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def post(url: str, images: list[bytes], texts: list[str] = ()) -> dict:
    body, content_type = multipart(images, list(texts))
    request = urllib.request.Request(url, data=body, headers={"Content-Type": content_type}, method="POST")
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)


def check(ours: str, base: str) -> int:
    scenes = json.load(open(os.path.join(FIXTURES, "heldout.json")))["scenes"][:CHECK_SCENES]
    failures = 0
    print(f"{'scene':<15} {'agree':<5} tiaoyu caption  |  baseline caption")
    for scene in scenes:
        png = open(os.path.join(FIXTURES, scene["file"]), "rb").read()
        a = post(ours + "/caption", [png])["data"][0]["captions"][0]
        b = post(base + "/caption", [png])["data"][0]["captions"][0]
        same = a["text"] == b["text"] and a["token_ids"] == b["token_ids"]
        failures += not same
        print(f"{scene['file']:<15} {'yes' if same else 'NO':<5} {a['text']}  |  {b['text']}")
    worst = {"itm": 0.0, "itc": 0.0}
    for scene in scenes:
        png = open(os.path.join(FIXTURES, scene["file"]), "rb").read()
        texts = [scene["canonical_caption"], scene["swapped_caption"]] + MATCH_TEXTS
        a, b = post(ours + "/match", [png], texts), post(base + "/match", [png], texts)
        for key in worst:
            diff = max(abs(x - y) for x, y in zip(a[key][0], b[key][0]))
            worst[key] = max(worst[key], diff)
    match_ok = all(v <= SCORE_TOLERANCE for v in worst.values())
    failures += not match_ok
    print(f"/match on the same {len(scenes)} scenes x {2 + len(MATCH_TEXTS)} texts: largest |difference| "
          f"ITM {worst['itm']:.2e}, ITC {worst['itc']:.2e} (tolerance {SCORE_TOLERANCE:g}): "
          f"{'agree' if match_ok else 'DIFFER'}")
    return 1 if failures else 0


def table(rows_path: str) -> None:
    rows = [line.split() for line in open(rows_path) if line.strip()]
    # row: endpoint images concurrency server requests seconds p50_ms p99_ms errors cache_hits
    cells: dict[tuple[str, str, str], dict[str, dict]] = {}
    for endpoint, images, conc, server, requests, seconds, p50, p99, errors, hits in rows:
        cells.setdefault((endpoint, images, conc), {})[server] = {
            "rps": int(requests) / float(seconds), "p50": float(p50), "p99": float(p99), "errors": int(errors),
            "hits": hits}
    print("| endpoint | images | c | tiaoyu req/s | baseline req/s | throughput ratio | tiaoyu p50 / p99 ms "
          "| baseline p50 / p99 ms | p99 ratio (base / ours) | tiaoyu cache hits |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for (endpoint, images, conc), sides in cells.items():
        ours, base = sides.get("tiaoyu"), sides.get("baseline")
        if ours is None or base is None:
            continue
        flag = "" if ours["errors"] == 0 and base["errors"] == 0 else \
            f" (errors: tiaoyu {ours['errors']}, baseline {base['errors']})"
        print(f"| {endpoint} | {images} | {conc} | {ours['rps']:.1f} | {base['rps']:.1f} | "
              f"**{ours['rps'] / base['rps']:.2f}x** | {ours['p50']:.1f} / {ours['p99']:.1f} | "
              f"{base['p50']:.1f} / {base['p99']:.1f} | {base['p99'] / ours['p99']:.2f}x{flag} | {ours['hits']} |")


def main() -> int:
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "render" and len(sys.argv) >= 4:
        seed = int(sys.argv[sys.argv.index("--seed") + 1]) if "--seed" in sys.argv else 20261129
        render(sys.argv[2], int(sys.argv[3]), seed)
        return 0
    if command == "check" and len(sys.argv) == 4:
        return check(sys.argv[2], sys.argv[3])
    if command == "table" and len(sys.argv) == 3:
        table(sys.argv[2])
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
