#!/usr/bin/env python3
"""PyTorch side of the decoder benchmark (Tests/Benchmarks/decoder/run.sh).

    python3 torch_reference.py make DIR   # seeded random BLIP-2 (ViT-B/16 + BERT-base Q-Former + OPT-125M) in DIR
    python3 torch_reference.py time DIR   # times transformers on 2 threads, prints one JSON line

Shapes: vision width 768, 12 layers, 12 heads, MLP 3072, patch 16, image 224; Q-Former 768 wide, 12 layers, FFN
3072, 32 queries, cross-attention every 2nd layer; OPT-125M (hidden 768, 12 layers, 12 heads, FFN 3072, vocab
50272, 2048 positions, pre-LN, ReLU). ~1.3 GB of f32 weights go to DIR (e.g. /tmp), never into the repository.

`make` also writes DIR/inputs.safetensors: seeded prompt ids [8, CONTEXT] (rows 0..b-1 form the batch-b input)
and pixel values [1, 3, 224, 224]. `time` reads them, times

- decode: `language_model.generate` (greedy, KV cache) on CONTEXT prompt ids, NEW_TOKENS new tokens forced by
  `min_new_tokens`, batch 1 and 8; and the same with one new token (the prefill alone);
- caption: `Blip2ForConditionalGeneration.generate(pixel_values)` for one image with CAPTION_TOKENS forced new
  tokens (pixels to ids; the image preprocessing is not timed on either side);

and writes the generated ids to DIR/torch_ids.safetensors, so the Swift side can check it computes the same
ids. Offline; seeded; versions are in the JSON.
"""

from __future__ import annotations

import json
import math
import statistics
import sys
import time
from pathlib import Path

import torch
import transformers
from safetensors.torch import load_file, save_file
from transformers import Blip2Config, Blip2ForConditionalGeneration, OPTConfig

SEED = 20261129
THREADS = 2
CONTEXT = 40            # prompt length of the decode benchmark (the "context 40")
NEW_TOKENS = 32         # new tokens per decode run
CAPTION_TOKENS = 30     # new tokens of the caption run (the server's default max_new_tokens)
BATCHES = (1, 8)
REPEATS = {1: 5, 8: 3}
CAPTION_REPEATS = 3
WARMUP = 1
BOS, PAD, EOS = 2, 1, 2
IMAGE_TOKEN = 50265     # BLIP-2 OPT checkpoints put <image> right after OPT's 50265 tokens
QUERIES = 32


def config() -> Blip2Config:
    vision = dict(hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12,
                  image_size=224, patch_size=16)
    qformer = dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072,
                   cross_attention_frequency=2, use_qformer_text_input=False)
    text = OPTConfig(vocab_size=50272, hidden_size=768, num_hidden_layers=12, ffn_dim=3072, num_attention_heads=12,
                     max_position_embeddings=2048, do_layer_norm_before=True, activation_function="relu",
                     word_embed_proj_dim=768, pad_token_id=PAD, bos_token_id=BOS, eos_token_id=EOS)
    c = Blip2Config(vision_config=vision, qformer_config=qformer, text_config=text.to_dict(),
                    num_query_tokens=QUERIES, image_token_index=IMAGE_TOKEN)
    c.architectures = ["Blip2ForConditionalGeneration"]
    return c


def spread_language_model(model) -> None:
    """Re-draws the OPT weights (seeded) so greedy decoding is not one token repeated: upstream's N(0, 0.02)
    init makes the tied embedding echo the last token. Matrices get 1/sqrt(fan_in) scale, token embeddings 0.3
    std, LayerNorm weights 1 ± 0.2; the cost of a step is unchanged, only the ids become a useful guard."""
    generator = torch.Generator().manual_seed(SEED + 1)
    params = dict(model.language_model.named_parameters())
    with torch.no_grad():
        for name in sorted(params):
            p = params[name]
            noise = torch.randn(p.shape, generator=generator)
            leaf = name.rsplit(".", 1)[-1]
            if p.dim() == 1 and "norm" in name and leaf == "weight":
                p.copy_(1 + 0.2 * noise)
            elif leaf == "bias":
                p.copy_(0.1 * noise)
            elif name.endswith("embed_tokens.weight"):
                p.copy_(0.3 * noise)
            elif name.endswith("embed_positions.weight"):
                p.copy_(0.3 * noise)
            else:
                p.copy_(noise / math.sqrt(p.shape[1]))


def make(directory: Path) -> None:
    torch.manual_seed(SEED)
    model = Blip2ForConditionalGeneration(config()).eval()
    with torch.no_grad():
        model.query_tokens.normal_(0, 0.5)  # upstream initialises them to zeros
    spread_language_model(model)
    model.save_pretrained(directory)
    generator = torch.Generator().manual_seed(SEED)
    ids = torch.randint(4, 50000, (max(BATCHES), CONTEXT), generator=generator)
    ids[:, 0] = BOS
    pixels = torch.randn(1, 3, 224, 224, generator=generator)
    save_file({"prompt_ids": ids.to(torch.float32), "pixel_values": pixels}, str(directory / "inputs.safetensors"))
    print(f"wrote {directory}")


MINIMA: dict[str, float] = {}  # fastest run of each timing: the least disturbed by other load


def timed(fn, repeats: int, name: str = "") -> tuple[float, object]:
    out = None
    times = []
    for i in range(WARMUP + repeats):
        start = time.perf_counter()
        out = fn()
        if i >= WARMUP:
            times.append(time.perf_counter() - start)
    if name:
        MINIMA[name] = min(times)
    return statistics.median(times), out


def time_all(directory: Path) -> None:
    torch.set_num_threads(THREADS)
    model = Blip2ForConditionalGeneration.from_pretrained(directory).eval()
    lm = model.language_model
    inputs = load_file(str(directory / "inputs.safetensors"))
    prompts = inputs["prompt_ids"].to(torch.long)
    result = {"torch": torch.__version__, "transformers": transformers.__version__, "threads": THREADS,
              "attn_implementation": lm.config._attn_implementation, "context": CONTEXT, "new_tokens": NEW_TOKENS,
              "caption_tokens": CAPTION_TOKENS, "decode_seconds": {}, "prefill_seconds": {}}
    ids_out = {}
    common = dict(do_sample=False, num_beams=1, eos_token_id=EOS, pad_token_id=PAD)
    with torch.inference_mode():
        for batch in BATCHES:
            ids = prompts[:batch]
            mask = torch.ones_like(ids)

            def decode(n: int):
                return lm.generate(input_ids=ids, attention_mask=mask, max_new_tokens=n, min_new_tokens=n, **common)

            t, seqs = timed(lambda: decode(NEW_TOKENS), REPEATS[batch], f"decode.{batch}")
            assert seqs.shape == (batch, CONTEXT + NEW_TOKENS), seqs.shape
            result["decode_seconds"][str(batch)] = t
            result["prefill_seconds"][str(batch)], _ = timed(lambda: decode(1), REPEATS[batch], f"prefill.{batch}")
            ids_out[f"decode.{batch}"] = seqs[:, CONTEXT:].to(torch.float32)
        pixels = inputs["pixel_values"]
        caption_ids = torch.tensor([[IMAGE_TOKEN] * QUERIES + [BOS]])

        def caption():
            return model.generate(pixel_values=pixels, input_ids=caption_ids,
                                  attention_mask=torch.ones_like(caption_ids), max_new_tokens=CAPTION_TOKENS,
                                  min_new_tokens=CAPTION_TOKENS, **common)

        t, seqs = timed(caption, CAPTION_REPEATS, "caption")
        result["caption_seconds"] = t

        def image_half():  # what Swift's queryOutput computes: vision tower, then the Q-Former query pass
            image = model.vision_model(pixel_values=pixels).last_hidden_state
            return model.qformer(query_embeds=model.query_tokens, encoder_hidden_states=image,
                                 encoder_attention_mask=torch.ones(image.shape[:-1], dtype=torch.long))

        result["caption_image_half_seconds"], _ = timed(image_half, CAPTION_REPEATS, "caption_image_half")
        result["min_seconds"] = MINIMA
        ids_out["caption"] = seqs[:, -CAPTION_TOKENS:].to(torch.float32)
    save_file(ids_out, str(directory / "torch_ids.safetensors"))
    print(json.dumps(result))


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("make", "time"):
        sys.exit(__doc__)
    (make if sys.argv[1] == "make" else time_all)(Path(sys.argv[2]))
