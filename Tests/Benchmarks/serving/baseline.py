"""The serving benchmark's baseline: the same checkpoint served the way a user would otherwise serve it.

FastAPI + uvicorn + transformers in one process, with everyone's defaults: one uvicorn worker, plain `def`
handlers (FastAPI runs them on its thread pool, as its documentation advises for blocking code), one request
per model call (no batching across requests, no cache), torch with 2 intra-op threads (this machine's core
count, which is also torch's default here). The two model directories are loaded with `from_pretrained`.

Routes, accepting what the benchmark's load generator sends to Tiaoyu (multipart form fields):
    POST /caption   file field(s) `image`; optional `prompt`, `max_new_tokens` (default: the checkpoint's
                    generation_config, 30 for the default model). Greedy `generate`, as Tiaoyu's default.
    POST /match     file field(s) `image`, text field(s) `text`: ITM probability (softmax of the ITM head,
                    class 1) and ITC score (max over query tokens of the cosine) of every image x text.
    GET  /healthz
The answers have Tiaoyu's JSON shapes (the parts the benchmark compares).

    python3 baseline.py --opt DIR --itm DIR [--host 127.0.0.1] [--port 18491] [--threads 2]
"""

from __future__ import annotations

import argparse
import io

import torch
import uvicorn
from fastapi import FastAPI, File, Form, HTTPException, UploadFile
from PIL import Image
from transformers import Blip2ForConditionalGeneration, Blip2ForImageTextRetrieval, Blip2Processor


def build_app(opt_dir: str, itm_dir: str) -> FastAPI:
    gen = Blip2ForConditionalGeneration.from_pretrained(opt_dir).eval()
    gen_proc = Blip2Processor.from_pretrained(opt_dir)
    ret = Blip2ForImageTextRetrieval.from_pretrained(itm_dir).eval()
    ret_proc = Blip2Processor.from_pretrained(itm_dir)
    default_max_new_tokens = gen.generation_config.max_new_tokens or 30
    eos = gen.generation_config.eos_token_id
    eos_ids = set(eos if isinstance(eos, list) else [eos])
    app = FastAPI()

    def load_images(files: list[UploadFile]) -> list[Image.Image]:
        try:
            return [Image.open(io.BytesIO(f.file.read())).convert("RGB") for f in files]
        except Exception as error:  # a user's server would answer something like this
            raise HTTPException(status_code=422, detail=f"cannot decode image: {error}") from error

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    @app.post("/caption")
    def caption(image: list[UploadFile] = File(...), prompt: str | None = Form(None),
                max_new_tokens: int | None = Form(None)):
        images = load_images(image)
        limit = max_new_tokens or default_max_new_tokens
        data = []
        with torch.inference_mode():
            for index, picture in enumerate(images):
                if prompt is None:
                    inputs = gen_proc(images=picture, return_tensors="pt")
                    out = gen.generate(pixel_values=inputs["pixel_values"], do_sample=False, num_beams=1,
                                       max_new_tokens=limit)
                    # Without a prompt, generate starts from the query-token placeholders and BOS.
                    start = gen.config.num_query_tokens + 1
                else:
                    inputs = gen_proc(images=picture, text=prompt, return_tensors="pt")
                    out = gen.generate(**inputs, do_sample=False, num_beams=1, max_new_tokens=limit)
                    start = inputs["input_ids"].shape[1]
                ids = out[0, start:].tolist()
                text = gen_proc.tokenizer.decode(ids, skip_special_tokens=True).strip()
                reason = "stop" if ids and ids[-1] in eos_ids else "length"
                data.append({"index": index, "captions": [{"text": text, "token_ids": ids, "finish_reason": reason}]})
        return {"object": "caption.list", "model": "blip2-shapes-opt", "data": data}

    @app.post("/match")
    def match(image: list[UploadFile] = File(...), text: list[str] = Form(...)):
        images = load_images(image)
        with torch.inference_mode():
            pixels = ret_proc(images=images, return_tensors="pt")["pixel_values"]
            tokens = ret_proc.tokenizer(text, padding=True, return_tensors="pt")
            # ITC: one call, [images, texts].
            itc = ret(pixel_values=pixels, input_ids=tokens["input_ids"], attention_mask=tokens["attention_mask"],
                      use_image_text_matching_head=False).logits_per_image
            # ITM: one call over every (image, text) pair, as the model's documentation does it.
            n_img, n_txt = len(images), len(text)
            logits = ret(pixel_values=pixels.repeat_interleave(n_txt, 0),
                         input_ids=tokens["input_ids"].repeat(n_img, 1),
                         attention_mask=tokens["attention_mask"].repeat(n_img, 1),
                         use_image_text_matching_head=True).logits_per_image
            itm = logits.softmax(-1)[:, 1].reshape(n_img, n_txt)
        itm_rows, itc_rows = itm.tolist(), itc.tolist()
        results = []
        for i, (itm_row, itc_row) in enumerate(zip(itm_rows, itc_rows)):
            order = sorted(range(n_txt), key=lambda t: (-itm_row[t], t))
            results.append({"image_index": i, "ranking": [{"text_index": t, "itm": itm_row[t], "itc": itc_row[t]}
                                                          for t in order]})
        return {"object": "match", "model": "blip2-shapes-itm", "itm": itm_rows, "itc": itc_rows,
                "results": results}

    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--opt", required=True)
    parser.add_argument("--itm", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18491)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)  # greedy decoding draws nothing; seeded anyway
    uvicorn.run(build_app(args.opt, args.itm), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
