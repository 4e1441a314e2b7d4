#!/usr/bin/env python3
"""Write the WordPiece tokenizer fixtures and goldens for TokenizersTests (offline, deterministic).

A small hand-written BERT vocabulary (English words and subwords, accented and CJK characters, punctuation; no
emoji, so emoji become [UNK]) is wrapped by transformers' BertTokenizer and saved twice per variant:
  <variant>/            tokenizer.json + vocab.txt + tokenizer_config.json  (what save_pretrained writes)
  <variant>-vocab/      the same without tokenizer.json (the slow-checkpoint route, like blip2-itm-vit-g)
Both routes are reloaded and must agree with each other before any golden is written. Goldens come from the
`tokenizers` library (the Rust implementation transformers uses); transformers' decode (which adds
clean_up_tokenization) is recorded beside it.

Run from the repository root:  python3 Tests/Reference/make_tokenizer_fixtures.py
"""
import json
import os
import random
import shutil
import sys
import tempfile

import tokenizers
import transformers
from tokenizers import AddedToken, Tokenizer, normalizers, pre_tokenizers
from transformers import BertTokenizer

random.seed(0)  # nothing is random; the seed is recorded for the house rule
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Fixtures", "tokenizers")

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
PUNCT = list("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~") + ["¿", "«", "»", "—", "…", "、", "。"]
WORDS = (
    "the a an of and to in is it this that cat cats dog dogs sat on mat photo picture man woman playing play "
    "with beach city which question answer what how many un unaff ##aff ##able ##ing ##ed ##s ##er ##est run "
    "##ning cafe caf ##e nandu hello world token ##izer ##ization don t s re ve ll m do not can "
    "mail e x y 2 5 00 1 12 quoted que ##u ##do tia ##oy ##u ##yu very long word "
    "The Paris Hello World HeLLo café ##é é 日 本 語 文 中 国 人 水 ##日"
).split()


def build_vocab():
    vocab = []
    for tok in SPECIALS + PUNCT + list("0123456789") + [chr(c) for c in range(ord("a"), ord("z") + 1)] + \
            [chr(c) for c in range(ord("A"), ord("Z") + 1)] + \
            ["##" + chr(c) for c in range(ord("a"), ord("z") + 1)] + ["##" + d for d in "0123456789"] + WORDS:
        if tok not in vocab:
            vocab.append(tok)
    return {tok: i for i, tok in enumerate(vocab)}


VARIANTS = {
    # Like blip2-itm-vit-g's Q-Former tokenizer: uncased, accents stripped (strip_accents null -> lowercase).
    "bert-uncased": dict(do_lower_case=True, strip_accents=None),
    # Cased, accents kept (strip_accents null -> lowercase = false): exercises the other branch of each flag.
    "bert-cased": dict(do_lower_case=False, strip_accents=None),
}

LONG_100 = "a" * 100
LONG_101 = "a" * 101

SINGLE_TEXTS = {
    "plain": "the cat sat on the mat.",
    "mixed_case": "HeLLo WoRLD, The Paris photo",
    "accents": "café Ñandú naïve résumé",
    "cjk": "日本語の文",
    "cjk_mixed": "hello日本world中国人",
    "emoji": "a dog 🐶 on the beach 🏖️ 👍🏽",
    "emoji_glued": "hi👍 cat😀s",
    "punctuation_runs": "what?!?... (yes) [no] {maybe} --- $5.00 e-mail x^2 `a`~|<>=+ ¿que? «quoted» a—b…",
    "long_word_100": LONG_100,
    "long_word_101": "the " + LONG_101 + " cat",
    "long_accented_word": "é" * 101,
    "empty": "",
    "whitespace_only": " \t\n\r \u00a0\u3000 ",
    "control_chars": "a\u0000b\u0007c\ufffdd\u200be\u00adf\tg\nh\u0085i\u2028j\u200dk",
    "subwords": "unaffable playing running tokenization dogs",
    "unknown_subword": "unaffableq zzz qwertyuiop",
    "contractions": "don't can't we're it's I'll",
    "specials_inline": "[CLS] hello [SEP] [MASK] world [mask] hello[MASK]world [DEC]",
    "added_token": "Tiaoyu and tiaoyus, TIAOYU!",
    "symbols_not_punct": "© ® ™ ± 1° a+b=c",
    "digits": "12 cats and 5 dogs in 2012",
    "combining_only": "e\u0301 \u0301 a\u0308b",
    "multiple_spaces": "   the    cat   ",
    "greek_sigma": "ΑΣ ΟΔΟΣ",
}

PAIRS = {
    # name: (first, second, add_special_tokens)
    "pair_basic": ("which city is this?", "paris, the city of light.", True),
    "pair_empty_second": ("hello world", "", True),
    "pair_without_specials": ("the cat", "a dog", False),
}

TRUNCATION_CASES = {
    # name: (text, pair, max_length, strategy, direction)
    "trunc_single_right": ("the cat sat on the mat with a dog playing on the beach", None, 8, "longest_first", "right"),
    "trunc_single_left": ("the cat sat on the mat with a dog playing on the beach", None, 8, "longest_first", "left"),
    "trunc_pair_longest_first": ("which city is this photo of the beach?", "paris.", 10, "longest_first", "right"),
    "trunc_pair_both_long": ("the cat sat on the mat with a dog", "a man playing with a dog on the beach", 11,
                             "longest_first", "right"),
    "trunc_pair_only_second": ("which city?", "the cat sat on the mat with a dog", 9, "only_second", "right"),
    "trunc_pair_only_first": ("the cat sat on the mat with a dog", "which city?", 9, "only_first", "right"),
    "trunc_shorter_than_specials": ("the cat sat", None, 1, "longest_first", "right"),
    "trunc_word_split": ("unaffable tokenization", None, 5, "longest_first", "right"),
}

BATCH_CASES = {
    # name: (texts, padding dict for enable_padding, truncation max_length or None)
    "batch_longest_right": (["the cat", "a man playing with a dog on the beach", ""], dict(), None),
    "batch_longest_left": (["the cat", "a man playing with a dog"], dict(direction="left"), None),
    "batch_fixed_length": (["the cat", "a dog"], dict(length=12), None),
    "batch_multiple_of": (["the cat sat", "a dog"], dict(pad_to_multiple_of=8), None),
    "batch_truncate_and_pad": (["the cat sat on the mat with a dog playing", "a dog"], dict(), 7),
}


def encoding_dict(enc):
    return {
        "ids": enc.ids,
        "tokens": enc.tokens,
        "type_ids": enc.type_ids,
        "attention_mask": enc.attention_mask,
        "special_tokens_mask": enc.special_tokens_mask,
        "offsets": [list(o) for o in enc.offsets],
    }


def with_decodes(tok, hf, hf_slow, out):
    ids = out["ids"]
    out["decoded"] = tok.decode(ids, skip_special_tokens=False)
    out["decoded_skip_special"] = tok.decode(ids, skip_special_tokens=True)
    out["hf_decoded"] = hf.decode(ids, skip_special_tokens=False)
    out["hf_decoded_skip_special"] = hf.decode(ids, skip_special_tokens=True)
    # The slow-checkpoint route carries clean_up_tokenization_spaces=true, so transformers cleans its decode.
    out["hf_vocab_decoded"] = hf_slow.decode(ids, skip_special_tokens=False)
    out["hf_vocab_decoded_skip_special"] = hf_slow.decode(ids, skip_special_tokens=True)
    return out


def check_same(a, b, what):
    if a != b:
        sys.exit(f"loading routes disagree on {what}:\n  {a}\n  {b}")


def write_slow_checkpoint(directory, vocab, tok, flags, legacy=False):
    """Write the files a slow-BertTokenizer checkpoint (transformers 4.x) has, as blip2-itm-vit-g does.

    transformers 5 no longer writes vocab.txt for a vocabulary built in memory, so the files are written here in the
    4.x layout: vocab.txt (one token a line, line number = id), tokenizer_config.json with added_tokens_decoder,
    special_tokens_map.json and added_tokens.json (the tokens past the WordPiece vocabulary).
    With `legacy`, tokenizer_config.json has no added_tokens_decoder (files saved before transformers 4.34, which
    blip2-itm-vit-g may be): the added tokens are known from added_tokens.json and special_tokens_map.json only.
    """
    os.makedirs(directory)
    with open(os.path.join(directory, "vocab.txt"), "w", encoding="utf-8") as f:
        for token, _ in sorted(vocab.items(), key=lambda kv: kv[1]):
            f.write(token + "\n")
    decoder = {}
    for idx, added in sorted(tok.added_tokens_decoder.items()):
        decoder[str(idx)] = {"content": added.content, "lstrip": added.lstrip, "normalized": added.normalized,
                             "rstrip": added.rstrip, "single_word": added.single_word, "special": added.special}
    config = {
        **({} if legacy else {"added_tokens_decoder": decoder}),
        "bos_token": "[DEC]", "clean_up_tokenization_spaces": True, "cls_token": "[CLS]",
        "do_basic_tokenize": True, "do_lower_case": flags["do_lower_case"], "mask_token": "[MASK]",
        "model_max_length": 512, "never_split": None, "pad_token": "[PAD]", "sep_token": "[SEP]",
        "strip_accents": flags["strip_accents"], "tokenize_chinese_chars": True,
        "tokenizer_class": "BertTokenizer", "unk_token": "[UNK]",
    }
    special_map = {"bos_token": "[DEC]", "cls_token": "[CLS]", "mask_token": "[MASK]", "pad_token": "[PAD]",
                   "sep_token": "[SEP]", "unk_token": "[UNK]"}
    added = {a.content: i for i, a in tok.added_tokens_decoder.items() if i >= len(vocab)}
    for fname, obj in (("tokenizer_config.json", config), ("special_tokens_map.json", special_map),
                       ("added_tokens.json", added)):
        with open(os.path.join(directory, fname), "w", encoding="utf-8") as f:
            json.dump(obj, f, ensure_ascii=False, indent=2)
            f.write("\n")


def make_variant(name, flags):
    vocab = build_vocab()
    base = BertTokenizer(vocab=vocab, **flags)
    # blip2-itm-vit-g adds [DEC] as bos_token (a special token past the WordPiece vocab); "tiaoyu" is an ordinary
    # added token (normalized, so it matches after lowercasing in the uncased variant).
    base.add_special_tokens({"bos_token": "[DEC]"})
    base.add_tokens(["tiaoyu"])
    full_dir = os.path.join(OUT, name)
    vocab_dir = os.path.join(OUT, name + "-vocab")
    for d in (full_dir, vocab_dir):
        shutil.rmtree(d, ignore_errors=True)
    base.save_pretrained(full_dir)
    write_slow_checkpoint(vocab_dir, vocab, base, flags)
    legacy_dir = os.path.join(OUT, name + "-legacy")
    shutil.rmtree(legacy_dir, ignore_errors=True)
    write_slow_checkpoint(legacy_dir, vocab, base, flags, legacy=True)

    rust = Tokenizer.from_file(os.path.join(full_dir, "tokenizer.json"))
    hf_full = BertTokenizer.from_pretrained(full_dir)
    hf_vocab = BertTokenizer.from_pretrained(vocab_dir)
    rust_from_vocab = hf_vocab.backend_tokenizer
    rust_from_legacy = BertTokenizer.from_pretrained(legacy_dir).backend_tokenizer

    goldens = {"single": [], "pair": [], "truncation": [], "batch": []}
    for case, text in SINGLE_TEXTS.items():
        for add in (True, False):
            out = encoding_dict(rust.encode(text, add_special_tokens=add))
            check_same(out, encoding_dict(rust_from_vocab.encode(text, add_special_tokens=add)), case)
            check_same(out, encoding_dict(rust_from_legacy.encode(text, add_special_tokens=add)), case + " (legacy)")
            check_same(out["ids"], hf_full(text, add_special_tokens=add)["input_ids"], case + " (transformers)")
            goldens["single"].append(with_decodes(rust, hf_full, hf_vocab, {"name": case, "text": text,
                                                                 "add_special_tokens": add, **out}))
    for case, (a, b, add) in PAIRS.items():
        out = encoding_dict(rust.encode(a, b, add_special_tokens=add))
        check_same(out, encoding_dict(rust_from_vocab.encode(a, b, add_special_tokens=add)), case)
        check_same(out, encoding_dict(rust_from_legacy.encode(a, b, add_special_tokens=add)), case + " (legacy)")
        if b:  # transformers treats an empty second text as no pair at all; `tokenizers` keeps the pair
            hf = hf_full(a, b, add_special_tokens=add)
            check_same(out["ids"], hf["input_ids"], case + " (transformers)")
            check_same(out["type_ids"], hf["token_type_ids"], case + " (transformers type ids)")
        goldens["pair"].append(with_decodes(rust, hf_full, hf_vocab, {"name": case, "text": a, "pair": b,
                                                                     "add_special_tokens": add, **out}))
    for case, (a, b, max_length, strategy, direction) in TRUNCATION_CASES.items():
        outs = []
        for t in (rust, rust_from_vocab):
            t.enable_truncation(max_length, strategy=strategy, direction=direction)
            outs.append(encoding_dict(t.encode(a, b)))
            t.no_truncation()
        check_same(outs[0], outs[1], case)
        if strategy == "longest_first" and direction == "right" and max_length > 3:
            hf = hf_full(a, b, truncation=True, max_length=max_length)
            check_same(outs[0]["ids"], hf["input_ids"], case + " (transformers)")
        goldens["truncation"].append(with_decodes(rust, hf_full, hf_vocab, {
            "name": case, "text": a, "pair": b, "max_length": max_length, "strategy": strategy,
            "direction": direction, **outs[0]}))
    for case, (texts, padding, trunc) in BATCH_CASES.items():
        outs = []
        for t in (rust, rust_from_vocab):
            t.enable_padding(pad_id=0, pad_token="[PAD]", **padding)
            if trunc is not None:
                t.enable_truncation(trunc)
            outs.append([encoding_dict(e) for e in t.encode_batch(texts)])
            t.no_padding()
            t.no_truncation()
        check_same(outs[0], outs[1], case)
        if not padding or "length" in padding:
            kwargs = dict(padding="max_length", max_length=padding["length"]) if padding else dict(padding=True)
            if trunc is not None:
                kwargs.update(truncation=True, max_length=trunc)
            hf = hf_full(texts, **kwargs)
            check_same([o["ids"] for o in outs[0]], hf["input_ids"], case + " (transformers)")
            check_same([o["attention_mask"] for o in outs[0]], hf["attention_mask"], case + " (transformers mask)")
        goldens["batch"].append({
            "name": case, "texts": texts, "padding": {
                "direction": padding.get("direction", "right"), "length": padding.get("length"),
                "pad_to_multiple_of": padding.get("pad_to_multiple_of"), "pad_id": 0, "pad_type_id": 0,
                "pad_token": "[PAD]"},
            "truncation_max_length": trunc,
            "encodings": [with_decodes(rust, hf_full, hf_vocab, o) for o in outs[0]]})

    with open(os.path.join(OUT, f"goldens-random-{name}.json"), "w", encoding="utf-8") as f:
        random_cases = random_goldens(rust, hf_full, hf_vocab)
        for case in random_cases:
            check_same(case["ids"], encoding_dict(rust_from_vocab.encode(case["text"], case["pair"]))["ids"],
                       case["name"])
        json.dump({"variant": name, "versions": {"tokenizers": tokenizers.__version__}, "seed": 1234,
                   "goldens": {"single": random_cases, "pair": [], "truncation": [], "batch": []}},
                  f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")

    return {
        "variant": name,
        "flags": flags,
        "versions": {"tokenizers": tokenizers.__version__, "transformers": transformers.__version__,
                     "python": sys.version.split()[0]},
        "seed": 0,
        "goldens": goldens,
    }


def to_ranges(codepoints):
    ranges = []
    for cp in codepoints:
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    return ranges


def character_classes():
    """How the library classifies every code point (the Rust crate's Unicode tables are older than Python's and
    Swift's, so this is measured, not derived): punctuation split by BertPreTokenizer, characters dropped or turned
    into a space by BertNormalizer's clean_text, CJK characters it surrounds with spaces."""
    pre = pre_tokenizers.BertPreTokenizer()
    clean = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=False, strip_accents=False,
                                       lowercase=False)
    chinese = normalizers.BertNormalizer(clean_text=False, handle_chinese_chars=True, strip_accents=False,
                                         lowercase=False)
    punct, dropped, spaced, cjk = [], [], [], []
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue  # not representable in a str the library accepts (nor in a Swift String)
        c = chr(cp)
        if len(pre.pre_tokenize_str("a" + c + "b")) == 3:
            punct.append(cp)
        cleaned = clean.normalize_str("a" + c + "b")
        if cleaned == "ab":
            dropped.append(cp)
        elif cleaned == "a b" and c != " ":
            spaced.append(cp)
        if chinese.normalize_str(c) == " " + c + " ":
            cjk.append(cp)
    return {"versions": {"tokenizers": tokenizers.__version__}, "punctuation": to_ranges(punct),
            "clean_text_dropped": to_ranges(dropped), "clean_text_to_space": to_ranges(spaced),
            "chinese": to_ranges(cjk)}


GENERIC_TEXTS = {
    "added_strip": "a <mask> b a   <mask>b <image>  cat x<image>\t<mask>",
    "added_single_word": "cats cat scat mat ma Cat",
    "added_raw_case": "Dogs dog DOG",
    "plain": "the cat sat on the mat.",
    "spaces": "  Hello   world  ",
    "compat": "\ufb01ne \u2460 \uff21\uff22 caf\u00e9 e\u0301 na\u00efve",
    "punct_dash": "e-mail -- what?! a-b-c",
    "apostrophes": "don't ''quoted'' it's",
    "cjk_emoji": "日本 語 🐶 dog",
    "empty": "",
    "specials_inline": "hello [SEP] world",
}


RANDOM_ALPHABET = [
    "a", "b", "the", "cat", "un", "aff", "able", " ", "  ", "\t", "\n", "\r\n", "\u0000", "\u0007", "\u200b",
    "\ufffd", "\u00e9", "e\u0301", "\u0301", "\u00d1", "\u0130", "\u00df", "\u03a3", "\u65e5", "\u672c", "\u306e",
    "\U0001f600", "\U0001f44d\U0001f3fd", "!", "?", ".", "'", "-", "##", "[CLS]", "[MASK]", "[DEC]", "tiaoyu",
    "Tiaoyu", "\u2e52", "\u166d", "\U0010fffd", "\ue000", "\ufb01", "\u2460", "\u2581", "\u00a0", "\u3000",
    "HeLLo", "caf\u00e9", "z" * 60,
]


def random_goldens(rust, hf_full, hf_vocab, count=80):
    """Seeded random texts from awkward pieces (marks, controls, CJK, emoji, specials, long runs), single and pair."""
    rng = random.Random(1234)
    cases = []
    for index in range(count):
        def text():
            return "".join(rng.choice(RANDOM_ALPHABET) for _ in range(rng.randint(0, 14)))
        first = text()
        second = text() if index % 3 == 0 else None
        out = encoding_dict(rust.encode(first, second))
        cases.append(with_decodes(rust, hf_full, hf_vocab, {"name": f"random_{index}", "text": first,
                                                             "pair": second, "add_special_tokens": True, **out}))
    return cases


SPLIT_TEXTS = ["-a-b--c-", "a--b", "---", "", "abc", "a-"]


def split_behaviors():
    """What pre_tokenizers.Split does with each delimiter behavior, inverted or not, on awkward strings."""
    out = []
    for behavior in ["removed", "isolated", "merged_with_previous", "merged_with_next", "contiguous"]:
        for invert in (False, True):
            for text in SPLIT_TEXTS:
                pieces = pre_tokenizers.Split("-", behavior=behavior, invert=invert).pre_tokenize_str(text)
                out.append({"behavior": behavior, "invert": invert, "text": text,
                            "pieces": [p for p, _ in pieces], "offsets": [list(o) for _, o in pieces]})
    return out


def make_generic_variants(vocab):
    """Tokenizers built from generic stages (no BERT normalizer/pre-tokenizer), saved as tokenizer.json only.

    They cover the Sequence/NFKC/NFKD/NFC/Lowercase/StripAccents/Replace/Strip/Prepend normalizers, the
    WhitespaceSplit/Whitespace/Punctuation/Split/Metaspace pre-tokenizers, BertProcessing and TemplateProcessing,
    and the Metaspace/Replace/Strip/Fuse/WordPiece decoders, which byte-level BPE and Unigram will reuse.
    """
    from tokenizers import Regex, decoders, processors
    from tokenizers.models import WordPiece

    meta_vocab = dict(vocab)
    for word in ["\u2581the", "\u2581cat", "\u2581hello", "\u2581world", "\u2581dog", "\u2581", "\u2581a", "##\u2581"]:
        meta_vocab.setdefault(word, len(meta_vocab))

    variants = {}
    t = Tokenizer(WordPiece(vocab, unk_token="[UNK]", max_input_chars_per_word=100))
    t.normalizer = normalizers.Sequence([
        normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " "), normalizers.Strip(), normalizers.Lowercase(),
        normalizers.NFD(), normalizers.StripAccents(), normalizers.Replace("''", '"')])
    t.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Punctuation(behavior="isolated"),
        pre_tokenizers.Split("-", behavior="merged_with_next")])
    t.post_processor = processors.BertProcessing(("[SEP]", vocab["[SEP]"]), ("[CLS]", vocab["[CLS]"]))
    t.decoder = decoders.WordPiece(prefix="##", cleanup=False)
    t.add_special_tokens(["[SEP]", "[CLS]"])
    variants["generic-split"] = t

    t = Tokenizer(WordPiece(vocab, unk_token="[UNK]"))
    t.normalizer = normalizers.Sequence([normalizers.NFKD(), normalizers.StripAccents(), normalizers.Lowercase()])
    t.pre_tokenizer = pre_tokenizers.Whitespace()
    t.post_processor = processors.TemplateProcessing(
        single="$A:0 [SEP]:0", pair="$A:0 [SEP]:0 $B:1 [SEP]:1", special_tokens=[("[SEP]", vocab["[SEP]"])])
    t.decoder = decoders.Sequence([decoders.WordPiece(prefix="##", cleanup=True), decoders.Fuse()])
    t.add_special_tokens(["[SEP]"])
    variants["generic-whitespace"] = t

    t = Tokenizer(WordPiece(meta_vocab, unk_token="[UNK]"))
    t.normalizer = normalizers.Sequence([normalizers.NFC(), normalizers.Lowercase(), normalizers.Prepend("\u2581"),
                                         normalizers.Replace(" ", "\u2581")])
    t.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="never", split=True)
    t.post_processor = processors.TemplateProcessing(
        single="[CLS]:0 $A:0", pair="[CLS]:0 $A:0 $B:1", special_tokens=[("[CLS]", vocab["[CLS]"])])
    t.decoder = decoders.Sequence([decoders.Replace("\u2581", " "), decoders.Strip(" ", 1, 0)])
    variants["generic-metaspace"] = t

    t = Tokenizer(WordPiece(meta_vocab, unk_token="[UNK]"))
    t.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    t.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always")
    variants["generic-metaspace-always"] = t

    # Added-token options: lstrip/rstrip swallow whitespace (and keep it in the token string), single_word only
    # matches whole words, normalized tokens match after normalization, raw ones before.
    t = Tokenizer(WordPiece(vocab, unk_token="[UNK]"))
    t.normalizer = normalizers.BertNormalizer(lowercase=True)
    t.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    t.add_special_tokens([AddedToken("<mask>", lstrip=True, special=True, normalized=False),
                          AddedToken("<image>", rstrip=True, special=True, normalized=False)])
    t.add_tokens([AddedToken("cat", single_word=True, normalized=True),
                  AddedToken("Dog", normalized=False), AddedToken("ma", single_word=True, normalized=True)])
    variants["generic-added"] = t

    for name, tok in variants.items():
        directory = os.path.join(OUT, name)
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory)
        tok.save(os.path.join(directory, "tokenizer.json"))
        reloaded = Tokenizer.from_file(os.path.join(directory, "tokenizer.json"))
        single = []
        for case, text in GENERIC_TEXTS.items():
            out = encoding_dict(reloaded.encode(text))
            out["decoded"] = reloaded.decode(out["ids"], skip_special_tokens=False)
            out["decoded_skip_special"] = reloaded.decode(out["ids"], skip_special_tokens=True)
            single.append({"name": case, "text": text, "add_special_tokens": True, **out})
        pair = encoding_dict(reloaded.encode("the cat", "a dog"))
        pair["decoded"] = reloaded.decode(pair["ids"], skip_special_tokens=False)
        pair["decoded_skip_special"] = reloaded.decode(pair["ids"], skip_special_tokens=True)
        data = {"variant": name, "versions": {"tokenizers": tokenizers.__version__}, "seed": 0,
                "goldens": {"single": single, "pair": [{"name": "pair", "text": "the cat", "pair": "a dog", **pair}],
                            "truncation": [], "batch": []}}
        with open(os.path.join(OUT, f"goldens-{name}.json"), "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False, indent=1)
            f.write("\n")
        print(f"wrote {name}: single={len(single)}")


HANGUL_SYLLABLES = range(0xAC00, 0xD7A4)


def bert_normalizer_maps():
    """Every code point the BertNormalizer's lowercase step, and separately its strip_accents step (NFD, then drop
    nonspacing marks as the Rust crate's Unicode 8.0 tables know them), changes: [code point, output] pairs.
    Hangul syllables (which only decompose algorithmically into jamo) are left out to keep the file small."""
    lower = normalizers.BertNormalizer(clean_text=False, handle_chinese_chars=False, strip_accents=False,
                                       lowercase=True)
    strip = normalizers.BertNormalizer(clean_text=False, handle_chinese_chars=False, strip_accents=True,
                                       lowercase=False)
    maps = {"lowercase": [], "strip_accents": []}
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF or cp in HANGUL_SYLLABLES:
            continue
        c = chr(cp)
        for key, normalizer in (("lowercase", lower), ("strip_accents", strip)):
            out = normalizer.normalize_str(c)
            if out != c:
                maps[key].append([cp, out])
    return {"versions": {"tokenizers": tokenizers.__version__}, **maps}


def main():
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "bert-normalizer-maps.json"), "w", encoding="utf-8") as f:
        json.dump(bert_normalizer_maps(), f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    with open(os.path.join(OUT, "split-behaviors.json"), "w", encoding="utf-8") as f:
        json.dump({"versions": {"tokenizers": tokenizers.__version__}, "cases": split_behaviors()}, f, indent=1)
        f.write("\n")
    with open(os.path.join(OUT, "bert-character-classes.json"), "w", encoding="utf-8") as f:
        json.dump(character_classes(), f)
        f.write("\n")
    for name, flags in VARIANTS.items():
        data = make_variant(name, flags)
        with open(os.path.join(OUT, f"goldens-{name}.json"), "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False, indent=1)
            f.write("\n")
        print(f"wrote {name}: " + ", ".join(f"{k}={len(v)}" for k, v in data["goldens"].items()))
    make_generic_variants(build_vocab())


if __name__ == "__main__":
    main()
