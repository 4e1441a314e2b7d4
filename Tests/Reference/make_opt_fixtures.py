#!/usr/bin/env python3
"""Make the OPT decoder / generation parity fixtures under Tests/Fixtures/opt/.

Regenerate (offline, CPU, a few seconds), from the repository root:

    python3 Tests/Reference/make_opt_fixtures.py

Pins: transformers 5.23.0, torch 2.13.0+cpu, tokenizers 0.23.3, safetensors 0.8.0
(Tests/Reference/requirements.txt); other versions are refused unless `--allow-other-versions` is given.

For each configuration NAME in CONFIGS it writes:

    Tests/Fixtures/opt/NAME/model/            Blip2ForConditionalGeneration (tiny ViT + Q-Former + OPT) via
        config.json, generation_config.json,  save_pretrained (the tied lm_head is omitted, as HF does), and a
        model.safetensors, tokenizer.json,    tiny byte-level BPE tokenizer made offline with `tokenizers`
        tokenizer_config.json
    Tests/Fixtures/opt/NAME/outputs.safetensors

and one standalone OPTForCausalLM whose word_embed_proj_dim differs from hidden_size (project_in/out):

    Tests/Fixtures/opt/tiny-proj/model/       OPTForCausalLM (keys model.decoder.*, lm_head omitted)
    Tests/Fixtures/opt/tiny-proj/outputs.safetensors

and Tests/Fixtures/opt/processors.safetensors: seeded scores [3, 23] and ids [3, 11] with each transformers logits
processor's output on them (repetition_penalty, no_repeat_ngram_2/3, min_new_tokens, temperature, top_k, top_p,
top_p_keep_3).

All tensors are F32 (the Swift reader loads F32/F16/BF16 only): ids, masks and lengths are exact small floats.
B = 2 images, Q = query tokens, T = Q + prompt length (left padded), S = generated steps, V = vocab.

    query_output                 [B, Q, Cq]   Q-Former query output (the Swift decoder's input)
    language_projection          [B, Q, C]    language_projection(query_output)
    CASE.input_ids               [B, T]       [<image>]*Q ++ left-padded (</s> prompt) ids, as Blip2Processor
    CASE.attention_mask          [B, T]
    CASE.sequences               [R, T + S]   generate() output (prompt included, finished rows padded)
    CASE.logits                  [S, R, V]    raw logits of every step (greedy cases only; output_logits)
    CASE.options                 [k]          the generate() options, also in __metadata__ "CASE.options" (JSON)

Cases (the full option sets are in the metadata): caption (no prompt, greedy), prompt (two different prompts,
greedy), beam (num_beams 3), beam_prompt (3 returned), beam_lp (length_penalty 2.0, 2 returned), beam_early /
beam_early_lp (early_stopping True), beam_never (early_stopping "never"), beam_heuristic_lp (its False twin),
beam_negative_lp (length_penalty -1), repetition (repetition_penalty 1.8), ngram (no_repeat_ngram_size 2),
min_new (min_new_tokens 8), beam_ngram (beam + both penalties).

The EOS ids are chosen by running greedy once without EOS and taking tokens that appear early, so that
generation really stops (at different steps for the two rows) in the recorded cases.
Attention is the eager implementation (fp32, additive dtype-min mask), torch.set_num_threads(1).
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import safetensors
import tokenizers
import torch
import transformers
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import (
    Blip2Config,
    Blip2ForConditionalGeneration,
    Blip2QFormerConfig,
    Blip2VisionConfig,
    GenerationConfig,
    OPTConfig,
    OPTForCausalLM,
    PreTrainedTokenizerFast,
)

PINNED = {"transformers": "5.23.0", "torch": "2.13.0+cpu", "tokenizers": "0.23.3", "safetensors": "0.8.0"}
SEED = 20261129
ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "Tests" / "Fixtures" / "opt"
PAD, BOS = 1, 2
MAX_NEW = 12
PROMPTS = ["Question: what is in the photo? Answer:", "a photo of"]
CORPUS = [
    "a photo of a dog on the beach", "Question: what is this? Answer: a cat", "two cats sleeping on a red sofa",
    "the woman is sitting with her dog", "Answer: it is a city street", "a man riding a horse in the field",
]


@dataclass(frozen=True)
class FixtureConfig:
    name: str
    queries: int
    qformer_hidden: int
    hidden: int
    heads: int
    ffn: int
    layers: int
    pre_ln: bool
    extra_vocab: int  # rows after <image>: the resize padding of the real checkpoints (50266..50303)


CONFIGS = [
    FixtureConfig("tiny-pre", queries=8, qformer_hidden=24, hidden=40, heads=4, ffn=56, layers=2, pre_ln=True,
                  extra_vocab=3),
    FixtureConfig("tiny-post", queries=6, qformer_hidden=20, hidden=36, heads=3, ffn=52, layers=3, pre_ln=False,
                  extra_vocab=6),
]


def check_versions(allow_other: bool) -> dict[str, str]:
    found = {"transformers": transformers.__version__, "torch": torch.__version__,
             "tokenizers": tokenizers.__version__, "safetensors": safetensors.__version__}
    wrong = {k: v for k, v in found.items() if v != PINNED[k]}
    if wrong and not allow_other:
        sys.exit(f"version mismatch {wrong}, pinned {PINNED}; pass --allow-other-versions to continue anyway")
    found["python"] = platform.python_version()
    found["numpy"] = np.__version__
    return found


def make_tokenizer() -> PreTrainedTokenizerFast:
    """A tiny GPT-2 style byte-level BPE (OPT's scheme: <s> <pad> </s> <unk> = 0..3, BOS </s> prepended)."""
    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=300, special_tokens=["<s>", "<pad>", "</s>", "<unk>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    core.train_from_iterator(CORPUS, trainer=trainer)
    core.post_processor = processors.TemplateProcessing(single="</s> $A", special_tokens=[("</s>", BOS)])
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, bos_token="</s>", eos_token="</s>",
                                        unk_token="<unk>", pad_token="<pad>", padding_side="left")
    tokenizer.add_special_tokens({"additional_special_tokens": ["<image>"]})
    return tokenizer


def seeded_fill(model: torch.nn.Module, seed: int) -> None:
    """Every parameter from one seeded generator, in sorted name order: norm weights near 1, biases and
    embeddings non-zero, matrices scaled by 2/sqrt(fan_in) and token embeddings kept small, so the layers
    (not the tied embedding echoing the last token) decide the next token and greedy output is not one
    token repeated."""
    generator = torch.Generator().manual_seed(seed)
    params = dict(model.named_parameters())
    with torch.no_grad():
        for name in sorted(params):
            p = params[name]
            noise = torch.randn(p.shape, generator=generator, dtype=torch.float64)
            leaf = name.rsplit(".", 1)[-1]
            if p.dim() == 1 and "norm" in name.lower() and leaf == "weight":
                value = 1.0 + 0.2 * noise
            elif leaf == "bias":
                value = 0.1 * noise
            elif name.endswith("embed_tokens.weight"):
                value = 0.3 * noise
            elif p.dim() == 1 or leaf in ("query_tokens", "class_embedding", "position_embedding") or \
                    name.endswith("embed_positions.weight"):
                value = 0.8 * noise
            else:
                value = 2.0 * noise / math.sqrt(math.prod(p.shape[1:]))
            p.copy_(value.to(p.dtype))


def blip2_config(c: FixtureConfig, vocab: int, image_token: int, eos: list[int]) -> Blip2Config:
    vision = Blip2VisionConfig(hidden_size=16, intermediate_size=24, num_hidden_layers=1, num_attention_heads=2,
                               image_size=16, patch_size=8)
    qformer = Blip2QFormerConfig(vocab_size=16, hidden_size=c.qformer_hidden, num_hidden_layers=1,
                                 num_attention_heads=2, intermediate_size=32, max_position_embeddings=16,
                                 cross_attention_frequency=1, use_qformer_text_input=False)
    text = OPTConfig(vocab_size=vocab, hidden_size=c.hidden, num_hidden_layers=c.layers, ffn_dim=c.ffn,
                     num_attention_heads=c.heads, max_position_embeddings=96, word_embed_proj_dim=c.hidden,
                     do_layer_norm_before=c.pre_ln, pad_token_id=PAD, bos_token_id=BOS, eos_token_id=eos)
    config = Blip2Config(vision_config=vision.to_dict(), qformer_config=qformer.to_dict(),
                         text_config=text.to_dict(), num_query_tokens=c.queries, image_token_index=image_token)
    config._attn_implementation = "eager"
    config.text_config._attn_implementation = "eager"
    return config


def batch_inputs(tokenizer, queries: int, image_token: int, prompts: list[str] | None):
    """What Blip2Processor builds: Q image placeholders before the left-padded tokenized prompt."""
    if prompts is None:
        ids = torch.tensor([[image_token] * queries + [BOS]] * 2)
        return ids, torch.ones_like(ids)
    enc = tokenizer(prompts, padding=True, return_tensors="pt")
    img = torch.full((len(prompts), queries), image_token)
    ids = torch.cat([img, enc["input_ids"]], dim=1)
    mask = torch.cat([torch.ones_like(img), enc["attention_mask"]], dim=1)
    return ids, mask


def run_case(model, pixel_values, ids, mask, options: dict, want_logits: bool):
    with torch.no_grad():
        out = model.generate(pixel_values=pixel_values, input_ids=ids, attention_mask=mask,
                             return_dict_in_generate=True, output_logits=want_logits, **options)
    logits = torch.stack(out.logits, dim=0) if want_logits else None
    return out.sequences, logits


def pick_eos(model, pixel_values, ids, mask) -> list[int]:
    """Two EOS ids that greedy decoding meets early (row 0 first), so stopping is exercised."""
    seqs, _ = run_case(model, pixel_values, ids, mask, {"max_new_tokens": MAX_NEW, "do_sample": False,
                                                        "eos_token_id": None, "pad_token_id": PAD}, False)
    new = seqs[:, ids.shape[1]:].tolist()
    eos = []
    # row 0: a token first met at step >= 2 that row 1 does not produce early
    i = next((i for i in range(2, MAX_NEW) if new[0][i] not in new[0][:i] and new[0][i] not in new[1][:6]), None)
    if i is not None:
        eos.append(new[0][i])
    # row 1: a later first occurrence, absent from row 0 before its stop
    stop0 = new[0][: (i or 0) + 1]
    j = next((j for j in range(5, MAX_NEW) if new[1][j] not in new[1][:j] and new[1][j] not in stop0
              and new[1][j] not in eos), None)
    if j is not None:
        eos.append(new[1][j])
    return eos or [BOS]


def blip2_fixture(c: FixtureConfig, versions) -> None:
    tokenizer = make_tokenizer()
    image_token = tokenizer.convert_tokens_to_ids("<image>")
    vocab = len(tokenizer) + c.extra_vocab
    if vocab % 8 == 0:
        vocab += 1
    config = blip2_config(c, vocab, image_token, eos=[BOS])
    model = Blip2ForConditionalGeneration(config).eval()
    seeded_fill(model, SEED + len(c.name) + c.layers)
    generator = torch.Generator().manual_seed(SEED)
    pixel_values = torch.randn((2, 3, 16, 16), generator=generator)
    cap_ids, cap_mask = batch_inputs(tokenizer, c.queries, image_token, None)
    eos = pick_eos(model, pixel_values, cap_ids, cap_mask)
    model.config.text_config.eos_token_id = eos
    model.language_model.config.eos_token_id = eos
    model.generation_config = GenerationConfig(bos_token_id=BOS, eos_token_id=eos, pad_token_id=PAD,
                                               max_new_tokens=MAX_NEW)
    model.language_model.generation_config = model.generation_config

    t: dict[str, torch.Tensor] = {"pixel_values": pixel_values}
    with torch.no_grad():
        vision = model.vision_model(pixel_values=pixel_values, return_dict=True).last_hidden_state
        query_tokens = model.query_tokens.expand(2, -1, -1)
        query_out = model.qformer(query_embeds=query_tokens, encoder_hidden_states=vision,
                                  encoder_attention_mask=torch.ones(vision.shape[:-1], dtype=torch.long),
                                  return_dict=True).last_hidden_state
        t["query_output"] = query_out
        t["language_projection"] = model.language_projection(query_out)
    prompt_ids, prompt_mask = batch_inputs(tokenizer, c.queries, image_token, PROMPTS)
    base = {"max_new_tokens": MAX_NEW, "do_sample": False, "eos_token_id": eos, "pad_token_id": PAD}
    cases = {
        "caption": (False, {}, True),
        "prompt": (True, {}, True),
        "beam": (False, {"num_beams": 3}, False),
        "beam_prompt": (True, {"num_beams": 3, "num_return_sequences": 3}, False),
        "beam_lp": (False, {"num_beams": 3, "length_penalty": 2.0, "num_return_sequences": 2}, False),
        # early_stopping variants, at settings where transformers' output differs from early_stopping=False
        # (found by trying num_beams 2-4 and length_penalty -1..2 on these models)
        "beam_early": (False, {"num_beams": 3, "early_stopping": True}, False),
        "beam_early_lp": (True, {"num_beams": 3, "length_penalty": 2.0, "early_stopping": True}, False),
        "beam_never": (True, {"num_beams": 3, "length_penalty": 2.0, "early_stopping": "never"}, False),
        "beam_heuristic_lp": (True, {"num_beams": 3, "length_penalty": 2.0, "early_stopping": False}, False),
        "beam_negative_lp": (False, {"num_beams": 3, "length_penalty": -1.0, "early_stopping": "never"}, False),
        "repetition": (True, {"repetition_penalty": 1.8}, True),
        "ngram": (False, {"no_repeat_ngram_size": 2}, True),
        "min_new": (False, {"min_new_tokens": 8}, True),
        "beam_ngram": (True, {"num_beams": 3, "no_repeat_ngram_size": 2, "repetition_penalty": 1.3}, False),
    }
    meta_cases = {}
    for name, (with_prompt, extra, want_logits) in cases.items():
        ids, mask = (prompt_ids, prompt_mask) if with_prompt else (cap_ids, cap_mask)
        options = {**base, **extra}
        seqs, logits = run_case(model, pixel_values, ids, mask, options, want_logits)
        t[f"{name}.input_ids"] = ids
        t[f"{name}.attention_mask"] = mask
        t[f"{name}.sequences"] = seqs
        if logits is not None:
            t[f"{name}.logits"] = logits
        meta_cases[name] = options
        print(f"  {name}: {seqs[:, ids.shape[1]:].tolist()}")

    # The first-step logits of the stitched prompt batch through the plain forward (no generate).
    with torch.no_grad():
        t["prompt.forward_logits"] = model(pixel_values=pixel_values, input_ids=prompt_ids,
                                           attention_mask=prompt_mask).logits
    if not torch.allclose(t["prompt.forward_logits"][:, -1], t["prompt.logits"][0], atol=1e-5):
        sys.exit("forward and generate disagree on the first step")

    out_dir = OUT / c.name
    model_dir = out_dir / "model"
    if model_dir.exists():
        shutil.rmtree(model_dir)
    model.save_pretrained(model_dir)
    tokenizer.save_pretrained(model_dir)
    with safetensors.safe_open(str(model_dir / "model.safetensors"), "pt") as f:
        if "language_model.lm_head.weight" in f.keys():
            sys.exit("expected the tied lm_head to be omitted from the checkpoint")
    meta = metadata(versions, c.name)
    meta["eos_token_id"] = json.dumps(eos)
    meta["image_token_index"] = str(image_token)
    meta["cases"] = json.dumps(meta_cases, sort_keys=True)
    write_outputs(out_dir / "outputs.safetensors", t, meta)
    check_reload(model_dir, pixel_values, prompt_ids, prompt_mask, t["prompt.forward_logits"])


def check_reload(model_dir, pixel_values, ids, mask, logits) -> None:
    reloaded = Blip2ForConditionalGeneration.from_pretrained(model_dir, attn_implementation="eager").eval()
    with torch.no_grad():
        again = reloaded(pixel_values=pixel_values, input_ids=ids, attention_mask=mask).logits
    if not torch.equal(again, logits):
        sys.exit(f"{model_dir}: the saved checkpoint does not reproduce the goldens")


def projection_fixture(versions) -> None:
    """Standalone OPT with word_embed_proj_dim != hidden_size (OPT-350m style: project_in/out, post-LN)."""
    config = OPTConfig(vocab_size=53, hidden_size=24, word_embed_proj_dim=16, num_hidden_layers=2, ffn_dim=40,
                       num_attention_heads=3, max_position_embeddings=40, do_layer_norm_before=False,
                       pad_token_id=PAD, bos_token_id=BOS, eos_token_id=BOS)
    config._attn_implementation = "eager"
    model = OPTForCausalLM(config).eval()
    seeded_fill(model, SEED + 7)
    generator = torch.Generator().manual_seed(SEED + 8)
    ids = torch.randint(4, 53, (2, 7), generator=generator)
    ids[:, 0] = BOS
    ids[1, :2] = PAD
    ids[1, 2] = BOS
    mask = (ids != PAD).long()
    t: dict[str, torch.Tensor] = {"input_ids": ids, "attention_mask": mask}
    with torch.no_grad():
        t["logits"] = model(input_ids=ids, attention_mask=mask).logits
        out = model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=6, do_sample=False,
                             eos_token_id=None, pad_token_id=PAD, return_dict_in_generate=True, output_logits=True)
    t["greedy.sequences"] = out.sequences
    t["greedy.logits"] = torch.stack(out.logits, dim=0)
    out_dir = OUT / "tiny-proj"
    model_dir = out_dir / "model"
    if model_dir.exists():
        shutil.rmtree(model_dir)
    model.save_pretrained(model_dir)
    write_outputs(out_dir / "outputs.safetensors", t, metadata(versions, "tiny-proj"))
    print(f"  tiny-proj greedy: {out.sequences.tolist()}")


def processor_fixture(versions) -> None:
    """Each logits processor / warper on its own, on seeded scores with ties and a shared token history."""
    from transformers.generation.logits_process import (
        MinNewTokensLengthLogitsProcessor, NoRepeatNGramLogitsProcessor, RepetitionPenaltyLogitsProcessor,
        TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper)
    generator = torch.Generator().manual_seed(SEED + 9)
    scores = torch.randn((3, 23), generator=generator) * 2
    scores[1, 4] = scores[1, 9]  # a tie, for top-k's "ties with the k-th survive"
    ids = torch.randint(0, 23, (3, 11), generator=generator)
    ids[0, -3:] = ids[0, 2:5]     # a repeated trigram start, so 3-grams ban something
    t = {"scores": scores, "input_ids": ids,
         "repetition_penalty": RepetitionPenaltyLogitsProcessor(1.7)(ids, scores.clone()),
         "no_repeat_ngram_2": NoRepeatNGramLogitsProcessor(2)(ids, scores.clone()),
         "no_repeat_ngram_3": NoRepeatNGramLogitsProcessor(3)(ids, scores.clone()),
         "min_new_tokens": MinNewTokensLengthLogitsProcessor(6, 8, [3, 7])(ids, scores.clone()),
         "temperature": TemperatureLogitsWarper(0.7)(ids, scores.clone()),
         "top_k": TopKLogitsWarper(5)(ids, scores.clone()),
         "top_p": TopPLogitsWarper(0.8)(ids, scores.clone()),
         "top_p_keep_3": TopPLogitsWarper(0.1, min_tokens_to_keep=3)(ids, scores.clone())}
    write_outputs(OUT / "processors.safetensors", t, metadata(versions, "processors"))


def metadata(versions: dict[str, str], name: str) -> dict[str, str]:
    meta = {f"version.{k}": v for k, v in versions.items()}
    meta.update({"seed": str(SEED), "config": name, "generator": "Tests/Reference/make_opt_fixtures.py",
                 "attn_implementation": "eager"})
    return meta


def write_outputs(path: Path, tensors: dict[str, torch.Tensor], metadata: dict[str, str]) -> None:
    """F32 safetensors with a byte-stable layout (sorted names and metadata), checked with the official reader."""
    header: dict[str, object] = {"__metadata__": dict(sorted(metadata.items()))}
    blobs, offset = [], 0
    for name in sorted(tensors):
        data = tensors[name].detach().to(torch.float32).contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=True).encode("utf-8")
    text += b" " * (-len(text) % 8)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(len(text).to_bytes(8, "little") + text + b"".join(blobs))
    with safetensors.safe_open(str(path), "pt") as check:
        for name in tensors:
            if not torch.equal(check.get_tensor(name), tensors[name].detach().to(torch.float32)):
                sys.exit(f"{path}: {name} does not read back")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--allow-other-versions", action="store_true")
    args = parser.parse_args()
    versions = check_versions(args.allow_other_versions)
    transformers.logging.set_verbosity_error()
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    for c in CONFIGS:
        print(f"[{c.name}]")
        blip2_fixture(c, versions)
    projection_fixture(versions)
    processor_fixture(versions)
    total = sum(f.stat().st_size for f in OUT.rglob("*") if f.is_file())
    print(f"total fixture size {total} bytes under {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
