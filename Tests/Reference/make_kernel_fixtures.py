#!/usr/bin/env python3
"""Writes the golden fixtures for the Tensors and SafeTensors tests.

    python3 Tests/Reference/make_kernel_fixtures.py        # from the repository root

Outputs (all small, all .safetensors written by `safetensors.torch.save_file`):
  Tests/Fixtures/kernels/*.safetensors      inputs and torch outputs of GELU, LayerNorm, RMSNorm,
                                            softmax (with masks), attention, patch embedding
  Tests/Fixtures/safetensors/dtypes.safetensors          one file mixing F32/F16/BF16 + widened copies
  Tests/Fixtures/safetensors/sharded/                     model.safetensors.index.json + 2 shards
  Tests/Fixtures/safetensors/single/model.safetensors     the same weights in one file

Offline, seeded (torch.manual_seed), CPU only; every file records the library versions and the
seed in its `__metadata__`. The Swift tests never run this script: they read its outputs.
"""
import json
import math
import os
import sys

import safetensors
import torch
import torch.nn.functional as F
import transformers
from safetensors.torch import save_file
from transformers.activations import ACT2FN
from transformers.models.t5.modeling_t5 import T5LayerNorm

SEED = 20261129
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Fixtures")
KERNELS = os.path.join(ROOT, "kernels")
SAFETENSORS = os.path.join(ROOT, "safetensors")

METADATA = {
    "generator": "Tests/Reference/make_kernel_fixtures.py",
    "seed": str(SEED),
    "torch": torch.__version__,
    "transformers": transformers.__version__,
    "safetensors": safetensors.__version__,
    "python": sys.version.split()[0],
}


def save(tensors, path, **extra):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    meta = dict(METADATA)
    meta.update({k: str(v) for k, v in extra.items()})
    save_file({k: v.contiguous() for k, v in tensors.items()}, path, metadata=meta)
    print(f"wrote {os.path.relpath(path)} ({os.path.getsize(path)} bytes)")


def kernels():
    # GELU: HF's "gelu" activation (exact erf), over both tails and around 0.
    x = torch.cat([torch.linspace(-8, 8, 97), torch.randn(3 * 37) * 3]).reshape(4, 52)
    save({"x": x, "y": ACT2FN["gelu"](x)}, os.path.join(KERNELS, "gelu.safetensors"))

    # LayerNorm with the three eps values BLIP-2 uses (ViT 1e-6, Q-Former 1e-12, OPT 1e-5).
    x = torch.randn(3, 5, 33) * 2 + 0.5
    w, b = torch.randn(33), torch.randn(33)
    out = {"x": x, "weight": w, "bias": b}
    for name, eps in [("y_eps_1e-6", 1e-6), ("y_eps_1e-12", 1e-12), ("y_eps_1e-5", 1e-5)]:
        ln = torch.nn.LayerNorm(33, eps=eps)
        with torch.no_grad():
            ln.weight.copy_(w)
            ln.bias.copy_(b)
            out[name] = ln(x)
    save(out, os.path.join(KERNELS, "layer_norm.safetensors"))

    # RMSNorm: T5's T5LayerNorm (eps 1e-6).
    x = torch.randn(2, 3, 19)
    rms = T5LayerNorm(19, eps=1e-6)
    with torch.no_grad():
        rms.weight.copy_(torch.randn(19))
        y = rms(x)
    save({"x": x, "weight": rms.weight.detach(), "y": y}, os.path.join(KERNELS, "rms_norm.safetensors"))

    # Softmax over the last dim with an additive [B, 1, 1, T] mask holding -inf and finfo.min;
    # one row is entirely finfo.min (torch gives a uniform row there; an all -inf row would be NaN
    # in torch, which we deliberately map to zeros, so it is not a fixture case).
    x = torch.randn(2, 3, 5, 7) * 4
    mask = torch.zeros(2, 1, 1, 7)
    mask[0, 0, 0, 6] = float("-inf")
    mask[1, 0, 0, 2:4] = torch.finfo(torch.float32).min
    full = torch.full((1, 1, 1, 7), torch.finfo(torch.float32).min)
    save({"x": x, "mask": mask, "y": torch.softmax(x + mask, dim=-1), "full_mask": full,
          "y_full_mask": torch.softmax(x + full, dim=-1)}, os.path.join(KERNELS, "softmax.safetensors"))

    # Attention, [B, T, H*D] in and out, against torch's scaled_dot_product_attention.
    b, tq, tk, h, d = 2, 5, 7, 3, 8

    def sdpa(q, k, v, mask=None, scale=None):
        split = lambda t: t.view(t.shape[0], t.shape[1], h, d).transpose(1, 2)
        o = F.scaled_dot_product_attention(split(q), split(k), split(v), attn_mask=mask, scale=scale)
        return o.transpose(1, 2).reshape(q.shape[0], q.shape[1], h * d)

    q, k, v = torch.randn(b, tq, h * d), torch.randn(b, tk, h * d), torch.randn(b, tk, h * d)
    padding = torch.zeros(b, 1, 1, tk)
    padding[1, 0, 0, 5:] = torch.finfo(torch.float32).min
    xs = torch.randn(1, tq, h * d)
    causal = torch.triu(torch.full((tq, tq), float("-inf")), diagonal=1).view(1, 1, tq, tq)
    bias = torch.randn(1, h, tq, tk)
    save({"q": q, "k": k, "v": v, "padding_mask": padding, "causal_mask": causal, "head_bias": bias,
          "y_cross": sdpa(q, k, v), "y_padding": sdpa(q, k, v, padding),
          "x_self": xs, "y_causal": sdpa(xs, xs, xs, causal),
          "y_bias_scale1": sdpa(q, k, v, bias, scale=1.0)},
         os.path.join(KERNELS, "attention.safetensors"), heads=h, head_dim=d)

    # Patch embedding: Conv2d(kernel = stride = p) then flatten(2).transpose(1, 2), as in
    # Blip2VisionEmbeddings. The width 31 is not a multiple of p, so the last column is dropped.
    conv = torch.nn.Conv2d(3, 6, kernel_size=7, stride=7)
    pixels = torch.randn(2, 3, 21, 31)
    with torch.no_grad():
        y = conv(pixels).flatten(2).transpose(1, 2)
    save({"pixels": pixels, "weight": conv.weight.detach(), "bias": conv.bias.detach(), "y": y},
         os.path.join(KERNELS, "patch_embedding.safetensors"), patch_size=7)


def vit_layer():
    # One BLIP-2 vision encoder layer (transformers' Blip2EncoderLayer) at toy width, to prove the
    # kernels compose into the real block: fused qkv [3C, C] split into contiguous thirds, qkv.bias
    # = [q | 0 | v], pre-LN with eps 1e-6, exact GELU. Weights are stored under their checkpoint
    # names (prefix "layer."), so the test reads them through WeightStore scopes.
    from transformers.models.blip_2.configuration_blip_2 import Blip2VisionConfig
    from transformers.models.blip_2.modeling_blip_2 import Blip2EncoderLayer

    config = Blip2VisionConfig(hidden_size=24, intermediate_size=40, num_attention_heads=3,
                               layer_norm_eps=1e-6, qkv_bias=True, hidden_act="gelu")
    layer = Blip2EncoderLayer(config).eval()
    with torch.no_grad():
        for name, p in layer.named_parameters():
            p.copy_(torch.randn_like(p) * (0.3 if p.dim() > 1 else 0.1) + (1.0 if "layer_norm" in name and
                                                                             name.endswith("weight") else 0.0))
        layer.self_attn.qkv.bias[24:48] = 0  # the K third is zero in released checkpoints
        x = torch.randn(2, 5, 24)
        y = layer(x)
        y = y[0] if isinstance(y, tuple) else y
    tensors = {"layer." + k: v.detach().clone() for k, v in layer.state_dict().items()}
    tensors.update({"x": x, "y": y})
    save(tensors, os.path.join(KERNELS, "vit_layer.safetensors"), heads=3, eps="1e-6")


def checkpoints():
    # One file mixing dtypes; `*_as_f32` is torch's own widening, the expected load result.
    a = torch.randn(3, 5)
    special = torch.tensor([0.0, -0.0, 1.0, -2.5, 65504.0, 6e-8, 1e-40, math.inf, -math.inf, math.nan])
    tensors = {
        "a_f32": a,
        "a_f16": a.half(),
        "a_bf16": a.bfloat16(),
        "special_f32": special,
        "special_f16": special.half(),
        "special_bf16": special.bfloat16(),
        "scalar_f32": torch.tensor(3.25),
        "empty_f32": torch.zeros(0, 4),
        "odd_f16": torch.randn(7).half(),
    }
    for name in ["a_f16", "a_bf16", "special_f16", "special_bf16", "odd_f16"]:
        tensors[name + "_as_f32"] = tensors[name].float()
    save(tensors, os.path.join(SAFETENSORS, "dtypes.safetensors"), purpose="dtype round trip")

    # A tiny "model" saved sharded (index + 2 shards) and as one file. `lm_head.weight` is left
    # out, as HF does for tied weights: loaders must fall back to `decoder.embed_tokens.weight`.
    weights = {
        "encoder.layers.0.fc.weight": torch.randn(4, 3),
        "encoder.layers.0.fc.bias": torch.randn(4),
        "encoder.layers.1.fc.weight": torch.randn(4, 4).half(),
        "encoder.layers.1.fc.bias": torch.randn(4).bfloat16(),
        "decoder.embed_tokens.weight": torch.randn(6, 4),
        "decoder.final_layer_norm.weight": torch.ones(4),
    }
    shard_names = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]
    shards = [{k: v for k, v in weights.items() if k.startswith("encoder")},
              {k: v for k, v in weights.items() if k.startswith("decoder")}]
    sharded = os.path.join(SAFETENSORS, "sharded")
    weight_map = {}
    total = 0
    for name, part in zip(shard_names, shards):
        save(part, os.path.join(sharded, name))
        for key, t in part.items():
            weight_map[key] = name
            total += t.numel() * t.element_size()
    index = {"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))}
    with open(os.path.join(sharded, "model.safetensors.index.json"), "w") as f:
        json.dump(index, f, indent=2)
        f.write("\n")
    print(f"wrote {os.path.relpath(os.path.join(sharded, 'model.safetensors.index.json'))}")
    save(weights, os.path.join(SAFETENSORS, "single", "model.safetensors"))
    # Expected f32 values of every weight (the widened f16/bf16 ones included), for the tests.
    save({k: v.float() for k, v in weights.items()}, os.path.join(SAFETENSORS, "model_expected_f32.safetensors"))


def main():
    torch.manual_seed(SEED)
    torch.set_num_threads(1)  # deterministic reductions
    print(json.dumps(METADATA))
    kernels()
    checkpoints()
    vit_layer()  # last, so adding it left the random streams of the earlier fixtures unchanged


if __name__ == "__main__":
    main()
