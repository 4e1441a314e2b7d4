#!/usr/bin/env python3
"""PyTorch side of the vision + Q-Former benchmark (Tests/Benchmarks/vision/run.sh).

    python3 torch_reference.py make DIR   # seeded random ViT-B/16 + BERT-base Q-Former, saved to DIR (~0.8 GB)
    python3 torch_reference.py time DIR   # times transformers' forward on 2 threads, prints one JSON line

Shapes: vision width 768, 12 layers, 12 heads, MLP 3072, patch 16, image 224 (197 tokens); Q-Former width
768, 12 layers, 12 heads, FFN 3072, 32 queries, cross-attention every 2nd layer. `make` also writes
DIR/check.safetensors (seeded pixel values [1, 3, 224, 224] and transformers' query output for them) so the
Swift side can prove it times the same computation. Weights go to DIR (e.g. /tmp), never into the repository.
Offline; versions are printed. The timed region is exactly what the Swift benchmark times: vision_model
(pixel_values) then qformer(query_tokens, encoder_hidden_states=last_hidden_state), in inference mode.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

import torch
import transformers
from safetensors.torch import save_file
from transformers import Blip2Config, Blip2VisionModelWithProjection

SEED = 20240611
THREADS = 2
BATCHES = (1, 8)
REPEATS = {1: 10, 8: 4}
WARMUP = 2


def config() -> Blip2Config:
    vision = dict(hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12,
                  image_size=224, patch_size=16)
    qformer = dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072,
                   cross_attention_frequency=2)
    return Blip2Config(vision_config=vision, qformer_config=qformer, num_query_tokens=32)


def forward(model, pixels: torch.Tensor) -> torch.Tensor:
    image = model.vision_model(pixel_values=pixels).last_hidden_state
    queries = model.query_tokens.expand(pixels.shape[0], -1, -1)
    return model.qformer(query_embeds=queries, encoder_hidden_states=image,
                         encoder_attention_mask=torch.ones(image.shape[:-1], dtype=torch.long)).last_hidden_state


def make(directory: Path) -> None:
    torch.manual_seed(SEED)
    model = Blip2VisionModelWithProjection(config()).eval()
    with torch.no_grad():
        model.query_tokens.normal_(0, 0.5)  # upstream initialises them to zeros
    model.save_pretrained(directory)
    generator = torch.Generator().manual_seed(SEED)
    pixels = torch.randn(1, 3, 224, 224, generator=generator)
    with torch.inference_mode():
        out = forward(model, pixels)
    save_file({"pixel_values": pixels, "query_output": out.contiguous()}, str(directory / "check.safetensors"))
    print(f"wrote {directory}")


def time_forward(directory: Path) -> None:
    torch.set_num_threads(THREADS)
    model = Blip2VisionModelWithProjection.from_pretrained(directory).eval()
    result = {"torch": torch.__version__, "transformers": transformers.__version__, "threads": THREADS,
              "attn_implementation": model.config._attn_implementation, "seconds": {}, "fastest": {}}
    for batch in BATCHES:
        pixels = torch.randn(batch, 3, 224, 224)
        times = []
        with torch.inference_mode():
            for i in range(WARMUP + REPEATS[batch]):
                start = time.perf_counter()
                forward(model, pixels)
                if i >= WARMUP:
                    times.append(time.perf_counter() - start)
        result["seconds"][str(batch)] = statistics.median(times)
        result["fastest"][str(batch)] = min(times)
    print(json.dumps(result))


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("make", "time"):
        sys.exit(__doc__)
    (make if sys.argv[1] == "make" else time_forward)(Path(sys.argv[2]))
