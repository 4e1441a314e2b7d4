#!/usr/bin/env python3
"""Write the byte-level BPE (OPT / GPT-2) tokenizer fixtures and goldens for TokenizersTests (offline, seeded).

A small byte-level BPE is trained with the `tokenizers` library on the corpus embedded below (256 byte symbols, the
four OPT specials, a few hundred merges) and wrapped the way blip2-opt-* ships it: transformers' GPT2Tokenizer with
bos = eos = unk = "</s>" (id 2), pad "<pad>" (id 1), add_bos_token, and "<image>" added as a special token (as
Blip2Processor adds it). Directories under Tests/Fixtures/tokenizers/:
  opt-bpe/          transformers 5 save_pretrained: tokenizer.json + tokenizer_config.json
  opt-bpe-vocab/    the 4.x slow layout of the published checkpoints: vocab.json + merges.txt +
                    tokenizer_config.json (add_bos_token, added_tokens_decoder, clean_up_tokenization_spaces) +
                    special_tokens_map.json
  opt-bpe-legacy/   vocab.json + merges.txt + added_tokens.json + special_tokens_map.json, and a
                    tokenizer_config.json without added_tokens_decoder (files saved before transformers 4.34)
  opt-bpe-mixed/    a plain `tokenizers` tokenizer.json (ByteLevel pre-tokenizer with add_prefix_space, ByteLevel
                    post-processor with trim_offsets, no added tokens) beside the 4.x tokenizer_config.json: here
                    transformers (which keeps only vocab/merges and rebuilds the rest from GPT2Tokenizer and the
                    config) and Tokenizer.from_file disagree, and both are recorded
  bpe-roberta/      tokenizer.json only: RobertaProcessing, ByteLevel(add_prefix_space), ignore_merges
  bpe-noregex/      tokenizer.json only: ByteLevel with use_regex false
  gpt2-bare/        vocab.json + merges.txt only (GPT2Tokenizer's defaults)
  bpe-options/      tokenizer.json only: a second BPE (Whitespace pre-tokenizer) with continuing_subword_prefix,
                    end_of_word_suffix, unk_token with fuse_unk, and byte_fallback (<0xXX> tokens)

Goldens (goldens-<variant>.json): for every text the Encoding (ids, tokens, type ids, masks, offsets) and the decodes
with and without special tokens, from transformers' AutoTokenizer (what Blip2Processor uses) for the opt-* variants
(all loading routes checked equal before writing) and from tokenizers.Tokenizer.from_file for the plain files
(`-raw` suffix where the two differ).

Run from the repository root:  python3 Tests/Reference/make_bpe_fixtures.py
"""
import json
import os
import random
import shutil
import sys

import tokenizers
import transformers
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import AddedToken, AutoTokenizer, GPT2Tokenizer

SEED = 20261129
random.seed(SEED)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Fixtures", "tokenizers")
VOCAB_SIZE = 900  # 256 bytes + 4 specials + about 640 merges
OPT_SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"]  # ids 0..3, as in facebook/opt

CORPUS = """
Question: what is this? Answer: a photo of a cat sitting on the mat.
Question: which city is this? Answer: Paris, the city of light.
a woman sitting on the beach with her dog. two dogs playing in the snow. a man riding a horse.
a red bus parked on the side of the street. a plate of food with broccoli and rice.
The quick brown fox jumps over the lazy dog. It's what they're doing: we've seen it, I'll say, he'd know.
Don't stop; can't stop! Won't stop?! "Quoted text" and (parentheses) and [brackets] -- dashes... ellipses.
café naïve résumé façade Ñandú jalapeño Zürich Åland smörgåsbord crème brûlée
日本語の文章です。東京は日本の首都です。中国人民。你好，世界。
Привет, мир! Γειά σου κόσμε. مرحبا بالعالم. שלום עולם. नमस्ते दुनिया
emoji: 🐶 🐱 👍 👍🏽 🏖️ 👨‍👩‍👧 🇫🇷 🇯🇵 ❤️ 😀😃😄
numbers 0 1 2 3 12 123 2024 2025 2026 3.14159 1,000,000 $5.00 50% #1 @user
tabs\tand\tnewlines
end of line
  indented line with    several   spaces
x^2 + y^2 = z^2; a+b=c; e-mail user@example.com http://example.com/path?q=1
""".strip()


def corpus_lines():
    lines = CORPUS.split("\n")
    return [line.replace("\\t", "\t") for line in lines] * 8


# name -> text. Unicode escapes keep invisible characters readable.
TEXTS = {
    "question_answer": "Question: what is this? Answer:",
    "question_city": "Question: which city is this? Answer:",
    "caption": "a woman sitting on the beach with her dog",
    "accents": "café naïve résumé Ñandú e\u0301 a\u0308",
    "cjk": "日本語の文章です。你好，世界",
    "emoji": "a dog 🐶 on the beach 🏖️ 👍🏽",
    "emoji_zwj_flags": "family 👨\u200d👩\u200d👧\u200d👦 flags 🇫🇷🇯🇵🏳️\u200d🌈 keycap 1\ufe0f\u20e3",
    "leading_spaces": "   leading spaces",
    "trailing_spaces": "trailing spaces   ",
    "multiple_spaces": "multiple    spaces  between   words",
    "single_space": " ",
    "spaces_only": "     ",
    "newlines_tabs": "line one\nline two\n\n\tindented\r\nwindows\n",
    "newline_only": "\n",
    "unicode_spaces": "a\u00a0b\u3000c\u2009d\u200be\u2028f",
    "contractions": "it's we're they've I'll he'd I'm don't IT'S We'Re",
    "contractions_glued": "'s're've'll'd'm't's 's 'x",
    "digits": "0 12 123 2026 3.14159 1,000,000 ١٢٣ ½ ²",
    "punctuation_runs": "what?!?... --- (yes) [no] {maybe} $5.00 50% #1 @user x^2 ``a`` ~|<>=+",
    "image_inside": "<image><image>Question: what is <image> this?<image>",
    "image_glued": "a<image>b <image> c",
    "specials_inline": "</s> hello <pad> world <s> <unk> </s></s>",
    "endoftext": "a<|endoftext|>b <|endoftext|>",  # GPT2Tokenizer's default special (gpt2-bare only)
    "empty": "",
    "long_word": "supercalifragilisticexpialidocious" * 4,
    "long_run": "a" * 120,
    "long_cjk": "語" * 40,
    "mixed_scripts": "Привет, мир! Γειά σου. مرحبا. שלום. नमस्ते",
    "controls": "a\u0000b\u0007c\u007fd\ufffde\U0010fffdf",
    "url": "e-mail user@example.com http://example.com/path?q=1",
}

WITHOUT_SPECIALS = {"question_answer", "leading_spaces", "single_space", "image_inside", "specials_inline",
                    "empty"}

PAIRS = {
    "pair_basic": ("Question: which city is this?", "Answer: Paris"),
    "pair_spaces": ("  a  ", " b"),
    "pair_empty_second": ("hello world", ""),
}

TRUNCATIONS = {
    # name: (text, pair, max_length, strategy, direction)
    "trunc_right": ("Question: what is this? Answer: a woman sitting on the beach", None, 6, "longest_first", "right"),
    "trunc_left": ("Question: what is this? Answer: a woman sitting on the beach", None, 6, "longest_first", "left"),
    "trunc_pair": ("Question: which city is this?", "Answer: Paris, the city of light.", 9, "longest_first", "right"),
    "trunc_only_second": ("Question: which city?", "Answer: Paris, the city of light.", 12, "only_second", "right"),
}

BATCHES = {
    "batch_longest_right": ["Question: what is this? Answer:", "a cat", "", "日本語 🐶"],
    "batch_longest_left": ["a cat", "two dogs playing in the snow"],
}

RANDOM_PIECES = [
    "a", "b", "the", "cat", "dog", " ", "  ", "   ", "\t", "\n", "\r\n", "\u00a0", "\u3000", "'s", "'re", "'",
    "s", "re", "ll", "Question", ":", "?", "!", ".", "...", "-", "0", "12", "2026", "\u00e9", "e\u0301", "\u0301",
    "日", "本", "語", "。", "🐶", "👍🏽", "👨\u200d👩\u200d👧", "🇫🇷", "<image>", "</s>", "<pad>", "<s>", "x" * 40,
    "Привет", "\u0000", "\ufffd", "\U0010fffd", "½", "١",
]


def random_texts(count=48):
    rng = random.Random(SEED)
    return ["".join(rng.choice(RANDOM_PIECES) for _ in range(rng.randint(0, 16))) for _ in range(count)]


def encoding_dict(enc):
    return {
        "ids": enc.ids,
        "tokens": enc.tokens,
        "type_ids": enc.type_ids,
        "attention_mask": enc.attention_mask,
        "special_tokens_mask": enc.special_tokens_mask,
        "offsets": [list(o) for o in enc.offsets],
    }


def check_same(a, b, what):
    if a != b:
        sys.exit(f"disagreement on {what}:\n  {str(a)[:2000]}\n  {str(b)[:2000]}")


def train_byte_level():
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(vocab_size=VOCAB_SIZE, special_tokens=OPT_SPECIALS, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(corpus_lines(), trainer)
    return tok


OPTION_WORDS = ("the cat sat on mat question what is this answer dog beach woman sitting city which with her "
                "photo of a it's we're can't 2026 12 café naïve").split()


def build_options():
    """A non-byte-level BPE exercising the model options GPT-2 does not use: continuing_subword_prefix "##",
    end_of_word_suffix "</w>", unk_token with fuse_unk, and byte_fallback (<0xXX> tokens). The `tokenizers`
    trainer is not deterministic with these options, so the vocabulary and merges are built here: every word of
    OPTION_WORDS is merged left to right, one merge per step, in order of first use."""
    vocab = {"<unk>": 0}
    for b in range(256):
        vocab[f"<0x{b:02X}>"] = len(vocab)
    alphabet = sorted(set("".join(OPTION_WORDS)) | set("abcdefghijklmnopqrstuvwxyz0123456789?:!.,-"))
    for c in alphabet:
        for form in (c, "##" + c, c + "</w>", "##" + c + "</w>"):
            vocab.setdefault(form, len(vocab))
    merges = []
    for word in OPTION_WORDS:
        symbols = [c if i == 0 else "##" + c for i, c in enumerate(word)]
        symbols[-1] += "</w>"
        while len(symbols) > 1:
            a, b = symbols[0], symbols[1]
            merged = a + b[2:]
            if (a, b) not in merges:
                merges.append((a, b))
                vocab.setdefault(merged, len(vocab))
            symbols = [merged] + symbols[2:]
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, unk_token="<unk>", fuse_unk=True,
                               continuing_subword_prefix="##", end_of_word_suffix="</w>", byte_fallback=True))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.decoder = decoders.Sequence([decoders.ByteFallback(), decoders.BPEDecoder(suffix="</w>")])
    return tok


def tokenizer_config_4x(vocab_size, legacy=False):
    """tokenizer_config.json as transformers 4.x saved it for blip2-opt-* (GPT2Tokenizer, add_bos_token)."""
    def entry(content):
        return {"content": content, "lstrip": False, "normalized": False, "rstrip": False, "single_word": False,
                "special": True}
    config = {
        "add_bos_token": True, "add_prefix_space": False,
        "added_tokens_decoder": {"1": entry("<pad>"), "2": entry("</s>"), str(vocab_size): entry("<image>")},
        "bos_token": "</s>", "clean_up_tokenization_spaces": True, "eos_token": "</s>", "errors": "replace",
        "model_max_length": 1000000000000000019884624838656, "pad_token": "<pad>",
        "processor_class": "Blip2Processor", "tokenizer_class": "GPT2Tokenizer", "unk_token": "</s>",
    }
    if legacy:
        del config["added_tokens_decoder"]
        config["additional_special_tokens"] = ["<image>"]
    return config


def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=2)
        f.write("\n")


def fresh(name):
    path = os.path.join(OUT, name)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def hf_encode(hf, text, pair=None, add=True):
    """transformers' Encoding (its backend with the post-processor it built), checked against its __call__."""
    enc = encoding_dict(hf.backend_tokenizer.encode(text, pair, add_special_tokens=add))
    ids = hf(text, pair, add_special_tokens=add)["input_ids"] if pair else hf(text, add_special_tokens=add)[
        "input_ids"]
    if pair != "":
        check_same(enc["ids"], ids, f"transformers call vs backend on {text!r}")
    return enc


def goldens_for(encode, decode, batch_encode, pad, singles_only=False, truncate=None):
    """Goldens of one tokenizer: encode(text, pair, add) -> dict, decode(ids, skip) -> str."""
    def with_decodes(case):
        case["decoded"] = decode(case["ids"], False)
        case["decoded_skip_special"] = decode(case["ids"], True)
        return case
    out = {"single": [], "pair": [], "truncation": [], "batch": [], "random": []}
    for name, text in TEXTS.items():
        # Without special tokens only where the text starts or ends the sequence in an interesting way.
        for add in (True, False) if name in WITHOUT_SPECIALS else (True,):
            out["single"].append(with_decodes({"name": name, "text": text, "add_special_tokens": add,
                                               **encode(text, None, add)}))
    if singles_only:
        return out
    for name, (a, b) in PAIRS.items():
        out["pair"].append(with_decodes({"name": name, "text": a, "pair": b, "add_special_tokens": True,
                                         **encode(a, b, True)}))
    for name, (a, b, max_length, strategy, direction) in TRUNCATIONS.items():
        try:
            enc = truncate(a, b, max_length, strategy, direction)
        except Exception as error:  # only_second with a first text longer than max_length: refused, not recorded
            if "too short" not in str(error):
                raise
            continue
        out["truncation"].append(with_decodes({"name": name, "text": a, "pair": b, "max_length": max_length,
                                               "strategy": strategy, "direction": direction, **enc}))
    for index, text in enumerate(random_texts()):
        out["random"].append(with_decodes({"name": f"random_{index}", "text": text, "add_special_tokens": True,
                                           **encode(text, None, True)}))
    for name, texts in BATCHES.items():
        direction = "left" if name.endswith("left") else "right"
        out["batch"].append({"name": name, "texts": texts,
                             "padding": {"direction": direction, "length": None, "pad_to_multiple_of": None,
                                         "pad_id": pad[1], "pad_type_id": 0, "pad_token": pad[0]},
                             "truncation_max_length": None,
                             "encodings": [with_decodes(e) for e in batch_encode(texts, direction)]})
    return out


def rust_goldens(rust, pad, singles_only=False):
    def batch(texts, direction):
        rust.enable_padding(pad_id=pad[1], pad_token=pad[0], direction=direction)
        encs = [encoding_dict(e) for e in rust.encode_batch(texts)]
        rust.no_padding()
        return encs
    def truncate(text, pair, max_length, strategy, direction):
        rust.enable_truncation(max_length, strategy=strategy, direction=direction)
        try:
            return encoding_dict(rust.encode(text, pair))
        finally:
            rust.no_truncation()
    return goldens_for(lambda t, p, a: encoding_dict(rust.encode(t, p, add_special_tokens=a)),
                       lambda ids, skip: rust.decode(ids, skip_special_tokens=skip), batch, pad, singles_only,
                       truncate)


def hf_goldens(hf, singles_only=False):
    def batch(texts, direction):
        hf.padding_side = direction
        backend = hf.backend_tokenizer
        backend.enable_padding(pad_id=hf.pad_token_id, pad_token=hf.pad_token, direction=direction)
        encs = [encoding_dict(e) for e in backend.encode_batch(texts)]
        backend.no_padding()
        call = hf(texts, padding=True)
        check_same([e["ids"] for e in encs], call["input_ids"], "transformers batch ids")
        check_same([e["attention_mask"] for e in encs], call["attention_mask"], "transformers batch mask")
        hf.padding_side = "right"
        return encs
    def truncate(text, pair, max_length, strategy, direction):
        backend = hf.backend_tokenizer
        backend.enable_truncation(max_length, strategy=strategy, direction=direction)
        enc = encoding_dict(backend.encode(text, pair))
        backend.no_truncation()
        if strategy == "longest_first" and direction == "right":
            call = hf(text, pair, truncation=True, max_length=max_length) if pair else hf(
                text, truncation=True, max_length=max_length)
            check_same(enc["ids"], call["input_ids"], f"transformers truncation of {text!r}")
        return enc
    return goldens_for(lambda t, p, a: hf_encode(hf, t, p, a),
                       lambda ids, skip: hf.decode(ids, skip_special_tokens=skip), batch,
                       (hf.pad_token, hf.pad_token_id), singles_only, truncate)


def dump(name, goldens, extra):
    payload = {"variant": name, "seed": SEED,
               "versions": {"tokenizers": tokenizers.__version__, "transformers": transformers.__version__,
                            "python": sys.version.split()[0]},
               **extra, "goldens": goldens}
    with open(os.path.join(OUT, f"goldens-{name}.json"), "w", encoding="utf-8") as f:
        json.dump(payload, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")


def to_ranges(codepoints):
    ranges = []
    for cp in codepoints:
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    return ranges


def character_classes():
    """How the GPT-2 pattern of the ByteLevel pre-tokenizer classifies every code point (\\p{L}, \\p{N}, \\s), measured
    through the library (its regex engine's Unicode tables need not match Swift's): c is a letter when "a" + c is one
    piece, a number when "1" + c is, and whitespace when it is neither and "!" + c is two pieces."""
    pre = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    letters, numbers, spaces = [], [], []
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue  # not representable in a str the library accepts (nor in a Swift String)
        c = chr(cp)
        if len(pre.pre_tokenize_str("a" + c)) == 1:
            letters.append(cp)
        elif len(pre.pre_tokenize_str("1" + c)) == 1:
            numbers.append(cp)
        elif len(pre.pre_tokenize_str("!" + c)) == 2:
            spaces.append(cp)
    return {"versions": {"tokenizers": tokenizers.__version__}, "letters": to_ranges(letters),
            "numbers": to_ranges(numbers), "whitespace": to_ranges(spaces)}


def main():
    trained = train_byte_level()
    vocab_size = trained.get_vocab_size()
    scratch = fresh("opt-bpe-vocab")
    trained.model.save(scratch)  # vocab.json + merges.txt
    vocab_file = os.path.join(scratch, "vocab.json")
    merges_file = os.path.join(scratch, "merges.txt")

    # What Blip2Processor sees: GPT2Tokenizer with OPT's specials, add_bos_token, and <image>.
    hf = GPT2Tokenizer(vocab=vocab_file, merges=merges_file, bos_token="</s>", eos_token="</s>", unk_token="</s>",
                       pad_token="<pad>", add_bos_token=True, errors="replace")
    hf.add_tokens([AddedToken("<image>", normalized=False, special=True)], special_tokens=True)
    check_same(hf.convert_tokens_to_ids("<image>"), vocab_size, "<image> id")
    hf.save_pretrained(fresh("opt-bpe"))

    write_json(os.path.join(scratch, "tokenizer_config.json"), tokenizer_config_4x(vocab_size))
    special_map = {"bos_token": "</s>", "eos_token": "</s>", "pad_token": "<pad>", "unk_token": "</s>"}
    write_json(os.path.join(scratch, "special_tokens_map.json"), special_map)

    legacy = fresh("opt-bpe-legacy")
    for f in ("vocab.json", "merges.txt"):
        shutil.copy(os.path.join(scratch, f), legacy)
    write_json(os.path.join(legacy, "tokenizer_config.json"), tokenizer_config_4x(vocab_size, legacy=True))
    write_json(os.path.join(legacy, "special_tokens_map.json"),
               {**special_map, "additional_special_tokens": ["<image>"]})
    write_json(os.path.join(legacy, "added_tokens.json"), {"<image>": vocab_size})

    mixed = fresh("opt-bpe-mixed")
    plain = Tokenizer.from_str(trained.to_str())
    plain.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True, trim_offsets=True)
    plain.post_processor = processors.ByteLevel(trim_offsets=True)
    plain.decoder = decoders.ByteLevel()
    plain.save(os.path.join(mixed, "tokenizer.json"), pretty=False)
    write_json(os.path.join(mixed, "tokenizer_config.json"), tokenizer_config_4x(vocab_size))

    routes = {name: AutoTokenizer.from_pretrained(os.path.join(OUT, name))
              for name in ("opt-bpe", "opt-bpe-vocab", "opt-bpe-legacy", "opt-bpe-mixed")}
    for name, tok in routes.items():
        check_same(type(tok).__name__, "GPT2Tokenizer", f"{name} class")
    reference = hf_goldens(routes["opt-bpe"])
    for name in ("opt-bpe-vocab", "opt-bpe-legacy"):
        # tokenizer.json and vocab.json + merges.txt: same encodings and decodes (transformers 5.23 ignores
        # clean_up_tokenization_spaces=true of the 4.x configs for BPE).
        check_same(hf_goldens(routes[name]), reference, f"{name} goldens vs opt-bpe")
    # With a tokenizer.json, transformers drops add_bos_token from the config and keeps the file's
    # post-processor (here ByteLevel: no BOS, trimmed offsets), but rebuilds the pre-tokenizer
    # (add_prefix_space from the config) and decoder from GPT2Tokenizer, and takes <image> from the config.
    dump("opt-bpe-mixed", hf_goldens(routes["opt-bpe-mixed"]), {"image_token_id": vocab_size})
    # The tokenizer.json of opt-bpe read by the `tokenizers` library alone agrees with transformers.
    raw_opt = rust_goldens(Tokenizer.from_file(os.path.join(OUT, "opt-bpe", "tokenizer.json")), ("<pad>", 1))
    check_same(raw_opt, reference, "opt-bpe from_file vs transformers")
    dump("opt-bpe", reference, {"image_token_id": vocab_size,
                                "clean_up_note": "transformers 5.23 ignores clean_up_tokenization_spaces for BPE"})

    raw_mixed = rust_goldens(Tokenizer.from_file(os.path.join(mixed, "tokenizer.json")), ("<pad>", 1))
    dump("opt-bpe-mixed-raw", raw_mixed, {})

    roberta = Tokenizer.from_str(trained.to_str())
    model = json.loads(roberta.to_str())
    model["model"]["ignore_merges"] = True
    roberta = Tokenizer.from_str(json.dumps(model))
    roberta.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True, trim_offsets=True)
    roberta.post_processor = processors.RobertaProcessing(("</s>", 2), ("<s>", 0), trim_offsets=True,
                                                          add_prefix_space=True)
    roberta.decoder = decoders.ByteLevel()
    roberta.add_special_tokens([AddedToken("<image>", normalized=False, special=True)])
    roberta.save(os.path.join(fresh("bpe-roberta"), "tokenizer.json"), pretty=False)
    dump("bpe-roberta", rust_goldens(roberta, ("<pad>", 1)), {})

    # No regex split: each added-token-free stretch of text is one word.
    noregex = Tokenizer.from_str(trained.to_str())
    noregex.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    noregex.decoder = decoders.ByteLevel()
    noregex.save(os.path.join(fresh("bpe-noregex"), "tokenizer.json"), pretty=False)
    dump("bpe-noregex", rust_goldens(noregex, ("<pad>", 1), singles_only=True), {})

    # vocab.json + merges.txt and nothing else: GPT2Tokenizer's defaults (<|endoftext|> as unk/bos/eos, no BOS
    # added, no pad). AutoTokenizer cannot tell the class without a config, so the class is named.
    bare = fresh("gpt2-bare")
    for f in ("vocab.json", "merges.txt"):
        shutil.copy(os.path.join(scratch, f), bare)
    dump("gpt2-bare", hf_goldens(GPT2Tokenizer.from_pretrained(bare), singles_only=True), {})

    options = build_options()
    options.save(os.path.join(fresh("bpe-options"), "tokenizer.json"), pretty=False)
    dump("bpe-options", rust_goldens(options, ("<unk>", 0)), {})
    with open(os.path.join(OUT, "gpt2-character-classes.json"), "w", encoding="utf-8") as f:
        json.dump(character_classes(), f, separators=(",", ":"))
        f.write("\n")
    print("vocab", vocab_size, "merges", len(json.loads(trained.to_str())["model"]["merges"]))


if __name__ == "__main__":
    main()
