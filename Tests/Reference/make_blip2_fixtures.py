#!/usr/bin/env python3
"""Make the tiny BLIP-2 parity fixtures under Tests/Fixtures/blip2/.

Regenerate (offline, CPU, a few seconds), from the repository root:

    python3 Tests/Reference/make_blip2_fixtures.py

Pins: transformers 5.23.0, torch 2.13.0+cpu, tokenizers 0.23.3, safetensors 0.8.0, pillow 13.0.0
(Tests/Reference/requirements.txt). The script refuses to run with other versions unless
`--allow-other-versions` is given, because the fixtures are goldens and must stay reproducible.

What it writes, for each configuration NAME in CONFIGS (see that table for the shapes):

    Tests/Fixtures/blip2/images/{landscape,portrait}.png     two deterministic non-square RGB source images
    Tests/Fixtures/blip2/NAME/model/                          Blip2ForImageTextRetrieval, save_pretrained:
        config.json, model.safetensors,                       every weight drawn from a seeded generator
        preprocessor_config.json                              (BlipImageProcessor, PIL backend, square resize)
        tokenizer.json, tokenizer_config.json, vocab.txt      tiny uncased BERT WordPiece made offline
    Tests/Fixtures/blip2/NAME/outputs.safetensors             reference tensors of that model (names below)
    Tests/Fixtures/blip2/NAME/opt-model/                      Blip2ForConditionalGeneration with a tiny OPT
        config.json, generation_config.json, model.safetensors
    Tests/Fixtures/blip2/NAME/opt-outputs.safetensors         its query output, language projection, logits

Tensor names in outputs.safetensors (all F32: the Swift SafeTensors reader accepts F32/F16/BF16 only, so
integer ids and masks are stored as exact small floats). B = 2 images, T = 3 texts, L = padded text
length, P = patches + 1, Q = query tokens, N = B*T image/text pairs (pair n = image n // T, text n % T):

    pixel_values                      [B, 3, S, S]   BlipImageProcessorPil output for the two PNGs
    input_ids, attention_mask         [T, L]         tokenizer(TEXTS, padding=True)
    vision.embeddings                 [B, P, Cv]     Blip2VisionEmbeddings output (input of layer 0)
    vision.layer.{i}                  [B, P, Cv]     output of vision encoder layer i (before post_layernorm)
    vision.last_hidden_state          [B, P, Cv]     post_layernorm(all tokens): the cross-attention memory
    vision.pooler_output              [B, Cv]        post_layernorm applied again to row 0 (unused by BLIP-2)
    qformer.query.embedding_output    [B, Q, Cq]     qformer.layernorm(query_tokens)
    qformer.query.layer.{i}           [B, Q, Cq]     Q-Former layer i output, query face with image
    qformer.query.last_hidden_state   [B, Q, Cq]
    itc.image_embeds                  [B, Q, D]      normalize(vision_projection(query output)), per query
    itc.text.embeddings               [T, L, Cq]     word + position embeddings (before qformer.layernorm)
    itc.text.layer.{i}                [T, L, Cq]     Q-Former layer i output, text only (query_length 0)
    itc.text.last_hidden_state        [T, L, Cq]
    itc.text_embeds                   [T, D]         normalize(text_projection(row 0))
    itc.text_embeds_all_rows          [T, L, D]      normalize(text_projection(every row)), as
                                                     Blip2TextModelWithProjection returns (pad rows too)
    itc.logits_per_image              [B, T]         max over queries of cosine similarity
    itc.logits_per_text               [T, B]
    itm.pair_image_index, itm.pair_text_index  [N]
    itm.attention_mask                [N, Q + L]     ones(Q) ++ text mask (the checkpoint has no image token)
    itm.embeddings                    [N, Q + L, Cq] [query_tokens ; word + position embeddings]
    itm.layer.{i}                     [N, Q + L, Cq] Q-Former layer i output, joint (bidirectional) regime
    itm.last_hidden_state             [N, Q + L, Cq]
    itm.query_logits                  [N, Q, 2]      itm_head on every query row
    itm.logits                        [N, 2]         mean over query rows (= logits_per_image of the model)
    itm.probability_match             [N]            softmax(logits)[:, 1]

opt-outputs.safetensors: pixel_values, vision.last_hidden_state, qformer.query.last_hidden_state,
language_projection [B, Q, Ct], lm.input_ids / lm.attention_mask [B, Q + K] (K = 1 + prompt length, the
image placeholders first, left padding is not used) and lm.logits [B, Q + K, V] of one forward pass.

Every intermediate is taken by calling the submodules exactly as Blip2ForImageTextRetrieval.forward
does (transformers/models/blip_2/modeling_blip_2.py, 5.23.0), with forward hooks on the encoder layers,
and the final results are checked against the model's own forward before anything is written; the saved
directory is then reloaded (also as Blip2TextModelWithProjection / Blip2VisionModelWithProjection) and must
reproduce the goldens.
Attention is the eager implementation (fp32, additive dtype-min mask) so the math is the literal one.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import PIL
import safetensors
import tokenizers
import torch
import transformers
from PIL import Image
from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers, processors
from tokenizers.models import WordPiece
from transformers import (
    BertTokenizerFast,
    Blip2Config,
    Blip2ForConditionalGeneration,
    Blip2ForImageTextRetrieval,
    Blip2QFormerConfig,
    Blip2TextModelWithProjection,
    Blip2VisionConfig,
    Blip2VisionModelWithProjection,
    BlipImageProcessorPil,
    OPTConfig,
)

PINNED = {
    "transformers": "5.23.0",
    "torch": "2.13.0+cpu",
    "tokenizers": "0.23.3",
    "safetensors": "0.8.0",
    "pillow": "13.0.0",
}
SEED = 20240611
ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "Tests" / "Fixtures" / "blip2"

# Texts for the Q-Former text face: different lengths (padding), upper case and accents (normalizer),
# punctuation (pre-tokenizer), a word split into pieces and a word outside the vocabulary ([UNK]).
TEXTS = [
    "A dog on the beach.",
    "two CATS sleeping, café",
    "a red square xyzzy",
]

# Tiny uncased WordPiece vocabulary. Ids 0..4 are the BERT specials (not at BERT's 100..103: the ids are
# whatever vocab.txt says, and a test should not assume 101 for [CLS]).
VOCAB = (
    ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    + list(".,!?'-")
    + list("abcdefghijklmnopqrstuvwxyz")
    + ["a", "dog", "on", "the", "beach", "two", "cat", "sleep", "red", "square", "photo", "of", "with",
       "in", "and", "sitting", "woman", "man", "caf"]
    + ["##s", "##ing", "##e", "##ed", "##er", "##y", "##a", "##t", "##o"]
)
# Dedupe while keeping order ("a" appears both as a letter and a word).
VOCAB = list(dict.fromkeys(VOCAB))
DEC_TOKEN = "[DEC]"  # the real ITM tokenizer appends [DEC] after the BERT vocab; so does this one


@dataclass(frozen=True)
class FixtureConfig:
    """One tiny BLIP-2 shape. Widths, depths, heads and query counts all differ between configurations,
    and no width is a multiple of another by accident, so a transposed or mis-split weight cannot pass."""

    name: str
    image_size: int
    patch_size: int
    vision_hidden: int
    vision_heads: int
    vision_intermediate: int
    vision_layers: int
    vision_eps: float
    qformer_hidden: int
    qformer_heads: int
    qformer_intermediate: int
    qformer_layers: int
    cross_attention_frequency: int
    num_query_tokens: int
    image_text_hidden: int
    max_positions: int
    opt_hidden: int
    opt_heads: int
    opt_ffn: int
    opt_layers: int
    opt_vocab: int


CONFIGS = [
    FixtureConfig(
        name="tiny-a", image_size=32, patch_size=8, vision_hidden=32, vision_heads=4, vision_intermediate=48,
        vision_layers=2, vision_eps=1e-6, qformer_hidden=24, qformer_heads=3, qformer_intermediate=40,
        qformer_layers=2, cross_attention_frequency=1, num_query_tokens=8, image_text_hidden=16,
        max_positions=32, opt_hidden=40, opt_heads=4, opt_ffn=56, opt_layers=2, opt_vocab=96,
    ),
    FixtureConfig(
        name="tiny-b", image_size=48, patch_size=16, vision_hidden=40, vision_heads=5, vision_intermediate=56,
        vision_layers=3, vision_eps=1e-5, qformer_hidden=32, qformer_heads=2, qformer_intermediate=44,
        qformer_layers=3, cross_attention_frequency=2, num_query_tokens=6, image_text_hidden=12,
        max_positions=24, opt_hidden=36, opt_heads=3, opt_ffn=52, opt_layers=2, opt_vocab=80,
    ),
]

# OPT ids of the tiny generation models: the published blip2-opt-2.7b uses pad 1, bos 2, eos 50118 ("\n")
# and puts <image> after the BPE vocabulary; here eos is likewise not 2, and <image> is the last row.
OPT_PAD, OPT_BOS, OPT_EOS = 1, 2, 9
OPT_PROMPTS = [[17, 33, 5], [40, 7, 61]]  # arbitrary ids < every opt_vocab, one prompt per image


def check_versions(allow_other: bool) -> dict[str, str]:
    found = {
        "transformers": transformers.__version__,
        "torch": torch.__version__,
        "tokenizers": tokenizers.__version__,
        "safetensors": safetensors.__version__,
        "pillow": PIL.__version__,
    }
    for name, version in found.items():
        print(f"{name} {version}")
    print(f"python {platform.python_version()} numpy {np.__version__}")
    wrong = {k: v for k, v in found.items() if v != PINNED[k]}
    if wrong and not allow_other:
        sys.exit(f"version mismatch {wrong}, pinned {PINNED}; pass --allow-other-versions to continue anyway")
    found["python"] = platform.python_version()
    found["numpy"] = np.__version__
    return found


def make_images() -> list[Image.Image]:
    """Two deterministic non-square RGB images (landscape 40x28, portrait 26x38): smooth gradients plus a
    hard-edged disc and stripes, so the bicubic resize sees both flat and high-contrast regions."""
    rng = np.random.default_rng(SEED)
    images = []
    for width, height in [(40, 28), (26, 38)]:
        y, x = np.mgrid[0:height, 0:width].astype(np.float64)
        r = 255 * x / (width - 1)
        g = 255 * y / (height - 1)
        b = 128 + 100 * np.sin(x / 3.0) * np.cos(y / 4.0)
        disc = (x - width * 0.6) ** 2 + (y - height * 0.4) ** 2 < (min(width, height) * 0.25) ** 2
        r[disc], g[disc], b[disc] = 250, 20, 30
        stripes = (x.astype(int) // 3) % 2 == 0
        band = y > height * 0.75
        g[band & stripes] = 0
        noise = rng.integers(-12, 13, size=(height, width, 3))
        rgb = np.stack([r, g, b], axis=-1) + noise
        images.append(Image.fromarray(np.clip(np.rint(rgb), 0, 255).astype(np.uint8), mode="RGB"))
    return images


def make_tokenizer() -> BertTokenizerFast:
    """A tiny BERT uncased WordPiece built with the `tokenizers` library (no download)."""
    vocab = {token: index for index, token in enumerate(VOCAB)}
    core = Tokenizer(WordPiece(vocab, unk_token="[UNK]", max_input_chars_per_word=100))
    core.normalizer = normalizers.BertNormalizer(
        clean_text=True, handle_chinese_chars=True, strip_accents=None, lowercase=True
    )
    core.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    core.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])],
    )
    core.decoder = decoders.WordPiece(prefix="##")
    tokenizer = BertTokenizerFast(
        tokenizer_object=core,
        do_lower_case=True,
        unk_token="[UNK]",
        sep_token="[SEP]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        mask_token="[MASK]",
        model_max_length=512,
    )
    tokenizer.add_special_tokens({"bos_token": DEC_TOKEN})
    return tokenizer


# Parameters that are tables or added vectors (the patch convolution is a matrix product: fan-in rule).
EMBEDDING_LEAVES = {"class_embedding", "position_embedding", "query_tokens"}
EMBEDDING_TABLES = ("word_embeddings.weight", "position_embeddings.weight", "embed_tokens.weight",
                    "embed_positions.weight")


def seeded_fill(model: torch.nn.Module, seed: int) -> None:
    """Overwrite every parameter from one seeded generator, in sorted name order: norm weights around 1
    (never exactly 1), biases and embeddings non-zero, matrices scaled by 1/sqrt(fan_in) so activations
    stay O(1) through the tiny stacks. The K third of the vision qkv.bias is non-zero too: HF uses the
    stored bias as is (it is zero in the released weights), and a port must not assume zero."""
    generator = torch.Generator().manual_seed(seed)
    params = dict(model.named_parameters())  # tied parameters (OPT lm_head) appear once
    with torch.no_grad():
        for name in sorted(params):
            p = params[name]
            noise = torch.randn(p.shape, generator=generator, dtype=torch.float64)
            leaf = name.rsplit(".", 1)[-1]
            if p.dim() == 1 and "norm" in name.lower() and leaf == "weight":
                value = 1.0 + 0.2 * noise
            elif leaf == "bias":
                value = 0.1 * noise
            elif p.dim() == 1 or leaf in EMBEDDING_LEAVES or name.endswith(EMBEDDING_TABLES):
                value = 0.5 * noise  # looked up or added, not multiplied: no fan-in to scale by
            else:
                fan_in = math.prod(p.shape[1:])
                value = noise / math.sqrt(fan_in)
            p.copy_(value.to(p.dtype))


def blip2_config(c: FixtureConfig, vocab_size: int, retrieval: bool) -> Blip2Config:
    vision = Blip2VisionConfig(
        hidden_size=c.vision_hidden, intermediate_size=c.vision_intermediate, num_hidden_layers=c.vision_layers,
        num_attention_heads=c.vision_heads, image_size=c.image_size, patch_size=c.patch_size,
        layer_norm_eps=c.vision_eps,
    )
    qformer = Blip2QFormerConfig(
        vocab_size=vocab_size, hidden_size=c.qformer_hidden, num_hidden_layers=c.qformer_layers,
        num_attention_heads=c.qformer_heads, intermediate_size=c.qformer_intermediate,
        max_position_embeddings=c.max_positions, cross_attention_frequency=c.cross_attention_frequency,
        use_qformer_text_input=retrieval,
    )
    if retrieval:
        # The published blip2-itm-vit-g has text_config {} (a dummy default OPT, ignored) and no image token.
        text = OPTConfig()
        extra = {}
    else:
        text = OPTConfig(
            vocab_size=c.opt_vocab, hidden_size=c.opt_hidden, num_hidden_layers=c.opt_layers,
            ffn_dim=c.opt_ffn, num_attention_heads=c.opt_heads, max_position_embeddings=64,
            word_embed_proj_dim=c.opt_hidden, pad_token_id=OPT_PAD, bos_token_id=OPT_BOS,
            eos_token_id=OPT_EOS,
        )
        extra = {"image_token_index": c.opt_vocab - 1}
    config = Blip2Config(
        vision_config=vision.to_dict(), qformer_config=qformer.to_dict(), text_config=text.to_dict(),
        num_query_tokens=c.num_query_tokens, image_text_hidden_size=c.image_text_hidden, **extra,
    )
    config.architectures = ["Blip2ForImageTextRetrieval" if retrieval else "Blip2ForConditionalGeneration"]
    return config


class LayerRecorder:
    """Forward hooks that keep each listed module's output of the next call(s), in call order."""

    def __init__(self, modules: list[torch.nn.Module]):
        self.outputs: list[torch.Tensor] = []
        self.handles = [m.register_forward_hook(self._hook) for m in modules]

    def _hook(self, module, args, output):
        self.outputs.append((output[0] if isinstance(output, tuple) else output).detach().clone())

    def take(self) -> list[torch.Tensor]:
        taken, self.outputs = self.outputs, []
        return taken

    def close(self) -> None:
        for handle in self.handles:
            handle.remove()


def exact(name: str, ours: torch.Tensor, theirs: torch.Tensor) -> None:
    """Our step-by-step call order must reproduce the model's own forward bit for bit."""
    if not torch.equal(ours, theirs):
        diff = (ours - theirs).abs().max().item()
        sys.exit(f"{name}: step-by-step result differs from model forward (max |diff| {diff})")


def retrieval_fixture(c: FixtureConfig, images, tokenizer, versions) -> int:
    out_dir = OUT / c.name
    model_dir = out_dir / "model"
    config = blip2_config(c, vocab_size=len(tokenizer), retrieval=True)
    config._attn_implementation = "eager"
    model = Blip2ForImageTextRetrieval(config).eval()
    seeded_fill(model, SEED + 1)

    processor = BlipImageProcessorPil(size={"height": c.image_size, "width": c.image_size})
    pixel_values = processor(images=images, return_tensors="pt")["pixel_values"]
    batch = tokenizer(TEXTS, padding=True, return_tensors="pt", return_token_type_ids=False)
    input_ids, text_mask = batch["input_ids"], batch["attention_mask"]
    n_img, n_txt = pixel_values.shape[0], input_ids.shape[0]
    q = c.num_query_tokens
    t: dict[str, torch.Tensor] = {"pixel_values": pixel_values, "input_ids": input_ids,
                                  "attention_mask": text_mask}

    vision_rec = LayerRecorder([model.vision_model.embeddings, *model.vision_model.encoder.layers])
    qformer_rec = LayerRecorder([model.qformer.layernorm, *model.qformer.encoder.layer])
    with torch.no_grad():
        # Vision tower, as forward calls it.
        vision = model.vision_model(pixel_values=pixel_values, return_dict=True)
        recorded = vision_rec.take()
        t["vision.embeddings"] = recorded[0]
        for i, h in enumerate(recorded[1:]):
            t[f"vision.layer.{i}"] = h
        image_embeds = vision.last_hidden_state
        t["vision.last_hidden_state"] = image_embeds
        t["vision.pooler_output"] = vision.pooler_output
        image_atts = torch.ones(image_embeds.shape[:-1], dtype=torch.long)

        # ITC image side: the query face of the Q-Former with cross-attention to the image.
        query_tokens = model.query_tokens.expand(n_img, -1, -1)
        query_out = model.qformer(query_embeds=query_tokens, encoder_hidden_states=image_embeds,
                                  encoder_attention_mask=image_atts, return_dict=True).last_hidden_state
        recorded = qformer_rec.take()
        t["qformer.query.embedding_output"] = recorded[0]
        for i, h in enumerate(recorded[1:]):
            t[f"qformer.query.layer.{i}"] = h
        t["qformer.query.last_hidden_state"] = query_out
        image_feats = torch.nn.functional.normalize(model.vision_projection(query_out), dim=-1)
        t["itc.image_embeds"] = image_feats

        # ITC text side: text only, query_length 0, padded keys masked, no cross-attention.
        text_emb = model.embeddings(input_ids=input_ids)
        t["itc.text.embeddings"] = text_emb
        text_out = model.qformer(query_embeds=text_emb, query_length=0, attention_mask=text_mask,
                                 return_dict=True).last_hidden_state
        recorded = qformer_rec.take()
        for i, h in enumerate(recorded[1:]):
            t[f"itc.text.layer.{i}"] = h
        t["itc.text.last_hidden_state"] = text_out
        text_feats = torch.nn.functional.normalize(model.text_projection(text_out[:, 0, :]), dim=-1)
        t["itc.text_embeds"] = text_feats
        # Blip2TextModelWithProjection returns every row projected and normalised (row 0 = the ITC one).
        t["itc.text_embeds_all_rows"] = torch.nn.functional.normalize(model.text_projection(text_out), dim=-1)
        sim = torch.matmul(image_feats, text_feats.t()).max(dim=1).values  # [B, T]
        t["itc.logits_per_image"] = sim
        t["itc.logits_per_text"] = sim.t().contiguous()

        itc = model(pixel_values=pixel_values, input_ids=input_ids, attention_mask=text_mask,
                    use_image_text_matching_head=False, return_dict=True)
        exact("itc.logits_per_image", sim, itc.logits_per_image)
        exact("itc.text_embeds", text_feats, itc.text_embeds)
        exact("itc.image_embeds", image_feats, itc.image_embeds)

        # ITM: every image/text pair, image-major. The model needs equal image and text batch sizes.
        pair_image = torch.arange(n_img).repeat_interleave(n_txt)
        pair_text = torch.arange(n_txt).repeat(n_img)
        pair_pixels, pair_ids, pair_mask = pixel_values[pair_image], input_ids[pair_text], text_mask[pair_text]
        pair_image_embeds = image_embeds[pair_image]
        n_pairs = pair_ids.shape[0]
        joint_mask = torch.cat([torch.ones(n_pairs, q, dtype=pair_mask.dtype), pair_mask], dim=1)
        qformer_rec.take()  # drop what the model forward above recorded
        joint_emb = model.embeddings(input_ids=pair_ids, query_embeds=model.query_tokens.expand(n_pairs, -1, -1))
        joint_out = model.qformer(query_embeds=joint_emb, query_length=q, attention_mask=joint_mask,
                                  encoder_hidden_states=pair_image_embeds,
                                  encoder_attention_mask=torch.ones(pair_image_embeds.shape[:-1], dtype=torch.long),
                                  return_dict=True).last_hidden_state
        recorded = qformer_rec.take()
        for i, h in enumerate(recorded[1:]):
            t[f"itm.layer.{i}"] = h
        query_logits = model.itm_head(joint_out[:, :q, :])
        itm_logits = query_logits.mean(dim=1)
        t["itm.pair_image_index"] = pair_image
        t["itm.pair_text_index"] = pair_text
        t["itm.attention_mask"] = joint_mask
        t["itm.embeddings"] = joint_emb
        t["itm.last_hidden_state"] = joint_out
        t["itm.query_logits"] = query_logits
        t["itm.logits"] = itm_logits
        t["itm.probability_match"] = torch.softmax(itm_logits, dim=-1)[:, 1]

        itm = model(pixel_values=pair_pixels, input_ids=pair_ids, attention_mask=pair_mask,
                    use_image_text_matching_head=True, return_dict=True)
        # The pair batch recomputes the vision tower on repeated pixels; batch-size-dependent BLAS
        # blocking may change the last bits there, so this check is allclose, the others exact.
        if not torch.allclose(itm_logits, itm.logits_per_image, rtol=1e-5, atol=1e-6):
            sys.exit("itm.logits: step-by-step result differs from model forward")
    vision_rec.close()
    qformer_rec.close()

    expected_layers = {"vision.layer": c.vision_layers, "qformer.query.layer": c.qformer_layers,
                       "itc.text.layer": c.qformer_layers, "itm.layer": c.qformer_layers}
    for prefix, count in expected_layers.items():
        found = sum(1 for k in t if k.startswith(prefix + "."))
        if found != count:
            sys.exit(f"{prefix}: recorded {found} layers, expected {count}")

    if model_dir.exists():
        shutil.rmtree(model_dir)
    model.save_pretrained(model_dir)
    processor.save_pretrained(model_dir)
    tokenizer.save_pretrained(model_dir)
    # The published ITM checkpoint ships the slow-tokenizer vocab.txt; v5 only writes tokenizer.json, so
    # write the same vocabulary in that form too ([DEC] stays an added token, as in the real one).
    (model_dir / "vocab.txt").write_text("".join(token + "\n" for token in VOCAB), encoding="utf-8")
    metadata = fixture_metadata(versions, c, extra={"texts": json.dumps(TEXTS)})
    write_outputs(out_dir / "outputs.safetensors", t, metadata)
    print_summary(c.name, t)
    return retrieval_round_trip(model_dir, pixel_values, input_ids, text_mask, t)


def retrieval_round_trip(model_dir, pixel_values, input_ids, text_mask, t) -> int:
    """Reload the saved directory with from_pretrained and check it reproduces the goldens: proves the
    committed checkpoint (not just the in-memory model) is what the outputs describe."""
    reloaded = Blip2ForImageTextRetrieval.from_pretrained(model_dir, attn_implementation="eager").eval()
    with torch.no_grad():
        itc = reloaded(pixel_values=pixel_values, input_ids=input_ids, attention_mask=text_mask,
                       use_image_text_matching_head=False, return_dict=True)
    exact("reloaded itc.logits_per_image", t["itc.logits_per_image"], itc.logits_per_image)
    # The companion classes read the same directory (ignoring the other face's weights) and must agree.
    text_model = Blip2TextModelWithProjection.from_pretrained(model_dir, attn_implementation="eager").eval()
    vision_model = Blip2VisionModelWithProjection.from_pretrained(model_dir, attn_implementation="eager").eval()
    with torch.no_grad():
        text_out = text_model(input_ids=input_ids, attention_mask=text_mask).text_embeds
        vision_out = vision_model(pixel_values=pixel_values).image_embeds
    if not torch.allclose(text_out, t["itc.text_embeds_all_rows"], rtol=1e-5, atol=1e-6):
        sys.exit("Blip2TextModelWithProjection disagrees with itc.text_embeds_all_rows")
    if not torch.allclose(vision_out, t["itc.image_embeds"], rtol=1e-5, atol=1e-6):
        sys.exit("Blip2VisionModelWithProjection disagrees with itc.image_embeds")
    return sum(p.numel() for p in reloaded.parameters())


def generation_fixture(c: FixtureConfig, images, versions) -> int:
    out_dir = OUT / c.name
    model_dir = out_dir / "opt-model"
    config = blip2_config(c, vocab_size=len(VOCAB), retrieval=False)
    config._attn_implementation = "eager"
    config.text_config._attn_implementation = "eager"
    model = Blip2ForConditionalGeneration(config).eval()
    seeded_fill(model, SEED + 2)
    processor = BlipImageProcessorPil(size={"height": c.image_size, "width": c.image_size})
    pixel_values = processor(images=images, return_tensors="pt")["pixel_values"]
    q = c.num_query_tokens
    image_token = config.image_token_index
    ids = torch.tensor([[image_token] * q + [OPT_BOS] + prompt for prompt in OPT_PROMPTS])
    mask = torch.ones_like(ids)
    t: dict[str, torch.Tensor] = {"pixel_values": pixel_values}
    with torch.no_grad():
        vision = model.vision_model(pixel_values=pixel_values, return_dict=True)
        image_embeds = vision.last_hidden_state
        query_tokens = model.query_tokens.expand(image_embeds.shape[0], -1, -1)
        query_out = model.qformer(query_embeds=query_tokens, encoder_hidden_states=image_embeds,
                                  encoder_attention_mask=torch.ones(image_embeds.shape[:-1], dtype=torch.long),
                                  return_dict=True).last_hidden_state
        projected = model.language_projection(query_out)
        features = model.get_image_features(pixel_values=pixel_values, return_dict=True)
        exact("language_projection", projected, features.pooler_output)
        logits = model(pixel_values=pixel_values, input_ids=ids, attention_mask=mask, return_dict=True).logits
    t["vision.last_hidden_state"] = image_embeds
    t["qformer.query.last_hidden_state"] = query_out
    t["language_projection"] = projected
    t["lm.input_ids"] = ids
    t["lm.attention_mask"] = mask
    t["lm.logits"] = logits
    if model_dir.exists():
        shutil.rmtree(model_dir)
    model.save_pretrained(model_dir)
    processor.save_pretrained(model_dir)
    write_outputs(out_dir / "opt-outputs.safetensors", t, fixture_metadata(versions, c, extra={}))
    print_summary(c.name + " opt", t)
    return sum(p.numel() for p in model.parameters())


def fixture_metadata(versions: dict[str, str], c: FixtureConfig, extra: dict[str, str]) -> dict[str, str]:
    meta = {f"version.{k}": v for k, v in versions.items()}
    meta.update({"seed": str(SEED), "config": c.name, "generator": "Tests/Reference/make_blip2_fixtures.py",
                 "attn_implementation": "eager"})
    meta.update(extra)
    return meta


def write_outputs(path: Path, tensors: dict[str, torch.Tensor], metadata: dict[str, str]) -> None:
    """Write F32 safetensors with a byte-stable layout: `safetensors.save_file` orders `__metadata__` by a
    Rust hash map, so the same goldens would differ byte-wise on every run. The format is simple: u64 LE
    header length, JSON header (padded with spaces to 8 bytes), then the raw little-endian data in order."""
    header: dict[str, object] = {"__metadata__": dict(sorted(metadata.items()))}
    blobs, offset = [], 0
    for name in sorted(tensors):
        data = tensors[name].detach().to(torch.float32).contiguous().numpy().astype("<f4").tobytes()
        shape = list(tensors[name].shape)
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=True).encode("utf-8")
    text += b" " * (-len(text) % 8)
    path.write_bytes(len(text).to_bytes(8, "little") + text + b"".join(blobs))
    with safetensors.safe_open(str(path), "pt") as check:  # the official reader must agree
        for name in tensors:
            if not torch.equal(check.get_tensor(name), tensors[name].detach().to(torch.float32)):
                sys.exit(f"{path}: {name} does not read back")


def print_summary(label: str, t: dict[str, torch.Tensor]) -> None:
    print(f"[{label}]")
    for key in ("itc.logits_per_image", "itm.probability_match"):
        if key in t:
            print(f"  {key} = {t[key].flatten().tolist()}")
    print(f"  {len(t)} tensors")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--allow-other-versions", action="store_true")
    args = parser.parse_args()
    versions = check_versions(args.allow_other_versions)
    transformers.logging.set_verbosity_error()  # the companion-class load reports list expected extra keys
    torch.manual_seed(SEED)
    torch.set_num_threads(1)  # fixed reduction order for the goldens
    OUT.mkdir(parents=True, exist_ok=True)
    images = make_images()
    image_dir = OUT / "images"
    image_dir.mkdir(exist_ok=True)
    for image, name in zip(images, ["landscape", "portrait"]):
        image.save(image_dir / f"{name}.png", optimize=False, compress_level=9)
    # Reload from the written PNGs so the goldens start from exactly the committed bytes.
    images = [Image.open(image_dir / f"{n}.png").convert("RGB") for n in ["landscape", "portrait"]]
    tokenizer = make_tokenizer()
    for c in CONFIGS:
        n_ret = retrieval_fixture(c, images, tokenizer, versions)
        n_gen = generation_fixture(c, images, versions)
        print(f"  {c.name}: retrieval {n_ret} parameters, generation {n_gen} parameters")
    total = sum(f.stat().st_size for f in OUT.rglob("*") if f.is_file())
    print(f"total fixture size {total} bytes under {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
