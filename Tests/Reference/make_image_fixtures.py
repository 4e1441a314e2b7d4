#!/usr/bin/env python3
"""Image-pipeline fixtures for ImagePipelineTests.

Creates small test images with PIL (plus a minimal hand-written PNG encoder for the 16-bit and gray+alpha cases
that PIL cannot write), runs transformers' BlipImageProcessorPil (the PIL backend, which is what
AutoImageProcessor picks when torchvision is absent) on them and writes, per case:
  - the encoded image file (images/<name>.jpg|png),
  - PIL's decoded RGB (after EXIF transpose and transformers' convert_to_rgb), uint8 HWC, for small images,
  - the uint8 RGB after Pillow BICUBIC resize to the target size (HWC),
  - the float32 pixel values (CHW) that the processor returns.
All arrays are concatenated into images/arrays.bin (little-endian); images/index.json says where each one lies.
Offline, seeded and deterministic. Run from the repository root:
    python3 Tests/Reference/make_image_fixtures.py
"""
import ctypes
import ctypes.util
import io
import json
import os
import struct
import sys
import zlib

import numpy as np
import PIL
import transformers
from PIL import Image, ImageOps, PngImagePlugin
from transformers import AutoImageProcessor
from transformers.image_transforms import convert_to_rgb

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Fixtures", "images")
# Only images up to this many pixels get their full decoded RGB stored (keeps the fixtures small).
MAX_DECODED_PIXELS = 8_000
rng = np.random.default_rng(20240611)

# BLIP-2's checkpoint preprocessor_config.json (Salesforce/blip2-opt-2.7b), size as published.
PREPROCESSOR_CONFIG = {
    "do_convert_rgb": True,
    "do_normalize": True,
    "do_rescale": True,
    "do_resize": True,
    "image_mean": [0.48145466, 0.4578275, 0.40821073],
    "image_processor_type": "BlipImageProcessor",
    "image_std": [0.26862954, 0.26130258, 0.27577711],
    "processor_class": "Blip2Processor",
    "resample": 3,
    "rescale_factor": 0.00392156862745098,
    "size": {"height": 224, "width": 224},
}


def smooth_rgb(h, w, channels=3):
    """A smooth pattern with some texture: compresses well, but exercises every resize tap."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    planes = []
    for c in range(channels):
        base = 127.5 + 90 * np.sin(x / (3.0 + c) + y / (5.0 + 2 * c) + c)
        planes.append(base + rng.integers(-25, 26, size=(h, w)))
    arr = np.stack(planes, -1)
    # A few hard edges and saturated pixels to hit clamping in the cubic overshoot.
    arr[h // 3: h // 3 + max(1, h // 8), :, :] = 255
    arr[:, w // 2: w // 2 + max(1, w // 9), 0] = 0
    return np.clip(arr, 0, 255).astype(np.uint8)


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def write_png(arr, bit_depth, color_type, extra_chunks=()):
    """Minimal PNG encoder (filter 0, no interlace) for layouts PIL cannot write (16-bit RGB/RGBA/LA)."""
    h, w = arr.shape[:2]
    if bit_depth == 16:
        rows = arr.astype(">u2").reshape(h, -1).view(np.uint8).reshape(h, -1)
    else:
        rows = arr.astype(np.uint8).reshape(h, -1)
    raw = b"".join(b"\x00" + rows[i].tobytes() for i in range(h))
    ihdr = struct.pack(">IIBBBBB", w, h, bit_depth, color_type, 0, 0, 0)
    body = png_chunk(b"IHDR", ihdr)
    for kind, data in extra_chunks:
        body += png_chunk(kind, data)
    body += png_chunk(b"IDAT", zlib.compress(raw, 9)) + png_chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


def write_png_packed(samples, bit_depth, color_type, extra_chunks=()):
    """PNG with 1/2/4-bit gray samples (PIL writes those only via mode "1"), packed MSB first, filter 0."""
    h, w = samples.shape
    per_byte = 8 // bit_depth
    rows = []
    for y in range(h):
        row = bytearray((w + per_byte - 1) // per_byte)
        for x in range(w):
            row[x // per_byte] |= int(samples[y, x]) << (8 - bit_depth * (x % per_byte + 1))
        rows.append(b"\x00" + bytes(row))
    ihdr = struct.pack(">IIBBBBB", w, h, bit_depth, color_type, 0, 0, 0)
    body = png_chunk(b"IHDR", ihdr)
    for kind, data in extra_chunks:
        body += png_chunk(kind, data)
    body += png_chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + png_chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


def turbojpeg_ycck(cmyk, quality=90):
    """A YCCK JPEG (what libjpeg writes for CMYK input), made by calling the system libturbojpeg through ctypes
    because PIL only writes plain CMYK JPEGs."""
    lib = ctypes.CDLL(ctypes.util.find_library("turbojpeg") or "libturbojpeg.so.0")
    lib.tjInitCompress.restype = ctypes.c_void_p
    handle = lib.tjInitCompress()
    h, w, _ = cmyk.shape
    src = np.ascontiguousarray(cmyk, dtype=np.uint8)
    out = ctypes.POINTER(ctypes.c_ubyte)()
    size = ctypes.c_ulong(0)
    tjpf_cmyk, tjsamp_420 = 11, 2
    rc = lib.tjCompress2(ctypes.c_void_p(handle), src.ctypes.data_as(ctypes.POINTER(ctypes.c_ubyte)), w, 0, h,
                         tjpf_cmyk, ctypes.byref(out), ctypes.byref(size), tjsamp_420, quality, 0)
    assert rc == 0, "tjCompress2 failed"
    data = ctypes.string_at(out, size.value)
    lib.tjFree(out)
    lib.tjDestroy(ctypes.c_void_p(handle))
    return data


def save(img, fmt, **kw):
    b = io.BytesIO()
    img.save(b, fmt, **kw)
    return b.getvalue()


def exif_bytes(orientation):
    ex = Image.Exif()
    ex[0x0112] = orientation
    return ex.tobytes()


def sweep_pixels(number, w, h):
    """Synthetic RGB input for resize sweep case `number`; ImagePipelineTests rebuilds it with the same formula."""
    y, x, c = np.mgrid[0:h, 0:w, 0:3]
    return ((x * 37 + y * 91 + c * 53 + (x * y % 7) * 29 + number * 13) % 256).astype(np.uint8)


def cases():
    """(name, extension, encoded bytes, target (h, w))."""
    out = []
    a = smooth_rgb(61, 97)
    out.append(("jpeg_baseline_420", "jpg", save(Image.fromarray(a), "JPEG", quality=85), (40, 56)))
    a = smooth_rgb(120, 80)
    out.append(("jpeg_progressive", "jpg", save(Image.fromarray(a), "JPEG", quality=80, progressive=True), (32, 48)))
    a = smooth_rgb(33, 257)
    out.append(("jpeg_444", "jpg", save(Image.fromarray(a), "JPEG", quality=95, subsampling=0), (24, 28)))
    a = smooth_rgb(22, 30)
    out.append(("jpeg_422", "jpg", save(Image.fromarray(a), "JPEG", quality=88, subsampling=1), (24, 28)))
    a = smooth_rgb(33, 50)[..., 0]
    out.append(("jpeg_gray", "jpg", save(Image.fromarray(a, "L"), "JPEG", quality=90), (48, 40)))
    a = smooth_rgb(30, 41, channels=4)
    out.append(("jpeg_cmyk_adobe", "jpg", save(Image.fromarray(a, "CMYK"), "JPEG", quality=90), (24, 28)))
    a = smooth_rgb(80, 100)
    out.append(("png_rgb_large", "png", save(Image.fromarray(a), "PNG"), (224, 224)))
    a = smooth_rgb(70, 45, channels=4)
    a[..., 3] = np.tile(np.linspace(0, 255, 45).astype(np.uint8), (70, 1))
    a[:5, :, 3] = 0
    out.append(("png_rgba", "png", save(Image.fromarray(a, "RGBA"), "PNG"), (40, 32)))
    pal = smooth_rgb(40, 64).reshape(-1, 3)[:200]
    idx = rng.integers(0, 200, size=(40, 64)).astype(np.uint8)
    p = Image.fromarray(idx, "P")
    p.putpalette(pal.flatten().tolist())
    out.append(("png_palette", "png", save(p, "PNG"), (24, 40)))
    trns = bytes(int(v) for v in np.linspace(0, 255, 200).astype(np.uint8))
    out.append(("png_palette_trns", "png", save(p, "PNG", transparency=trns), (24, 28)))
    a = smooth_rgb(100, 1)[..., 1]
    out.append(("png_gray_1xN", "png", save(Image.fromarray(a, "L"), "PNG"), (24, 28)))
    a = smooth_rgb(1, 150)
    out.append(("png_rgb_Nx1", "png", save(Image.fromarray(a), "PNG"), (24, 28)))
    a = smooth_rgb(17, 23)[..., 2]
    g = Image.fromarray(a, "L")
    out.append(("png_gray_trns", "png", save(g, "PNG", transparency=int(a[0, 0])), (24, 28)))
    a = (smooth_rgb(21, 19)[..., 0] > 128)
    out.append(("png_gray_1bit", "png", save(Image.fromarray(a).convert("1"), "PNG"), (24, 28)))
    g16 = (smooth_rgb(25, 31)[..., 0].astype(np.uint16) * 3)  # values 0..765: PIL clips I;16 at 255
    out.append(("png_gray16", "png", write_png(g16, 16, 0), (24, 28)))
    rgb16 = smooth_rgb(27, 35).astype(np.uint16) * 257 + rng.integers(0, 257, size=(27, 35, 3)).astype(np.uint16)
    out.append(("png_rgb16", "png", write_png(rgb16, 16, 2), (24, 28)))
    rgba16 = smooth_rgb(22, 26, channels=4).astype(np.uint16) * 257
    out.append(("png_rgba16", "png", write_png(rgba16, 16, 6), (24, 28)))
    la = smooth_rgb(19, 29, channels=2)
    out.append(("png_gray_alpha", "png", write_png(la, 8, 4), (24, 28)))
    out.append(("png_gray_alpha16", "png", write_png(la.astype(np.uint16) * 257 + 5, 16, 4), (24, 28)))
    ramp = np.zeros((8, 256, 4), dtype=np.uint8)  # every byte value under 8 alpha levels (0 ... 252)
    ramp[..., 0] = np.arange(256)
    ramp[..., 1] = 255 - np.arange(256)
    ramp[..., 2] = (np.arange(256) * 7) % 256
    ramp[..., 3] = (np.arange(8) * 36)[:, None]
    out.append(("png_alpha_ramp", "png", save(Image.fromarray(ramp, "RGBA"), "PNG"), (8, 8)))
    a = smooth_rgb(37, 53)
    out.append(("png_rgb_bilinear", "png", save(Image.fromarray(a), "PNG"), (20, 30), 2))
    # tRNS colour keys, where PIL's rules are its own: 2/4-bit gray compares the scaled sample with the raw key,
    # 16-bit gray ("I;16") and 16-bit RGB compare 8-bit values with the key's low byte.
    g2 = (np.arange(23 * 9).reshape(9, 23) * 7) % 4
    out.append(("png_gray2_trns", "png", write_png_packed(g2, 2, 0, [(b"tRNS", struct.pack(">H", 2))]), (24, 28)))
    g2z = (np.arange(23 * 9).reshape(9, 23) * 5) % 4
    out.append(("png_gray2_trns0", "png", write_png_packed(g2z, 2, 0, [(b"tRNS", struct.pack(">H", 0))]),
                (24, 28)))
    g4 = (np.arange(21 * 11).reshape(11, 21) * 3) % 16
    out.append(("png_gray4_trns", "png", write_png_packed(g4, 4, 0, [(b"tRNS", struct.pack(">H", 5))]), (24, 28)))
    g16t = (smooth_rgb(13, 17)[..., 0].astype(np.uint16) + 200) % 400
    g16t[0, :6] = [300, 44, 100, 556, 255, 256]
    out.append(("png_gray16_trns", "png", write_png(g16t, 16, 0, [(b"tRNS", struct.pack(">H", 300))]), (24, 28)))
    rgb8t = smooth_rgb(15, 19)
    rgb8t[2:5, 3:9] = (10, 20, 30)
    out.append(("png_rgb_trns", "png", write_png(rgb8t, 8, 2, [(b"tRNS", struct.pack(">HHH", 10, 20, 30))]),
                (24, 28)))
    rgb16t = smooth_rgb(15, 19).astype(np.uint16) * 257
    rgb16t[2:5, 3:9] = (256, 512, 768)  # MSB (1, 2, 3)
    rgb16t[7:9, :] = (1, 2, 3)  # MSB (0, 0, 0)
    rgb16t[10, :] = (0, 0, 0)
    out.append(("png_rgb16_trns", "png", write_png(rgb16t, 16, 2, [(b"tRNS", struct.pack(">HHH", 256, 512, 768))]),
                (24, 28)))
    a = smooth_rgb(26, 31, channels=4)
    out.append(("jpeg_ycck", "jpg", turbojpeg_ycck(a), (24, 28)))
    # Pillow 13 runs the vertical pass first iff the height drops by more than twice the width's drop
    # (python-pillow/Pillow#9549): one case on each side of that boundary.
    a = smooth_rgb(50, 30)
    out.append(("png_order_boundary_h_first", "png", save(Image.fromarray(a), "PNG"), (30, 20)))
    a = smooth_rgb(51, 30)
    out.append(("png_order_boundary_v_first", "png", save(Image.fromarray(a), "PNG"), (30, 20)))
    # EXIF orientation: a small asymmetric picture saved with each orientation tag.
    base = Image.fromarray(smooth_rgb(9, 14))
    for o in range(1, 9):
        out.append((f"jpeg_exif_{o}", "jpg", save(base, "JPEG", quality=95, exif=exif_bytes(o)), (16, 24)))
    out.append(("png_exif_6", "png", save(base, "PNG", exif=exif_bytes(6)), (16, 24)))
    # XMP orientation, which Pillow's getexif falls back to when EXIF has no Orientation tag.
    xmp6 = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description tiff:Orientation="6"/></x:xmpmeta>'
    xmp8 = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><tiff:Orientation>8</tiff:Orientation></x:xmpmeta>'
    out.append(("jpeg_xmp_6", "jpg", save(base, "JPEG", quality=95, xmp=xmp6), (16, 24)))
    out.append(("jpeg_exif_3_xmp_6", "jpg", save(base, "JPEG", quality=95, exif=exif_bytes(3), xmp=xmp6), (16, 24)))
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", xmp8.decode())
    out.append(("png_xmp_8", "png", save(base, "PNG", pnginfo=info), (16, 24)))
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "preprocessor_config.json"), "w") as f:
        json.dump(PREPROCESSOR_CONFIG, f, indent=2, sort_keys=True)
        f.write("\n")
    proc = AutoImageProcessor.from_pretrained(OUT)
    assert type(proc).__name__ == "BlipImageProcessorPil", type(proc).__name__
    blob = bytearray()
    index = {
        "versions": {"python": sys.version.split()[0], "transformers": transformers.__version__,
                     "pillow": PIL.__version__, "numpy": np.__version__},
        "processor_class": type(proc).__name__,
        "cases": [],
    }

    def put(arr):
        off = len(blob)
        blob.extend(np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("<")).tobytes())
        return {"offset": off, "count": int(arr.size)}

    for name, ext, data, (th, tw), *rest in cases():
        resample = rest[0] if rest else 3
        fname = f"{name}.{ext}"
        with open(os.path.join(OUT, fname), "wb") as f:
            f.write(data)
        # What transformers.image_utils.load_image does before the processor (EXIF transpose), then the
        # processor's own RGB conversion (alpha composited onto white).
        img = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
        rgb = convert_to_rgb(img, return_numpy=True)
        resized = np.array(Image.fromarray(rgb).resize((tw, th), Image.Resampling(resample)))
        pv = proc(img, size={"height": th, "width": tw}, resample=resample, return_tensors="np")["pixel_values"][0]
        assert pv.dtype == np.float32 and pv.shape == (3, th, tw), (pv.dtype, pv.shape)
        case = {"name": name, "file": fname, "mode": Image.open(io.BytesIO(data)).mode,
                "width": rgb.shape[1], "height": rgb.shape[0], "target": [th, tw], "resample": resample,
                "resized_u8": put(resized.astype(np.uint8)), "pixel_values_f32": put(pv)}
        if rgb.shape[0] * rgb.shape[1] <= MAX_DECODED_PIXELS:
            case["decoded_u8"] = put(rgb.astype(np.uint8))
            # Images with transparency: also plain convert("RGB") (alpha dropped), which is what load_image returns.
            if "A" in img.getbands() or img.info.get("transparency") is not None:
                case["decoded_drop_alpha_u8"] = put(np.array(img.convert("RGB")).astype(np.uint8))
        index["cases"].append(case)
    # Resize sweep: PIL resizes of synthetic RGB inputs that the tests rebuild from the same formula (see
    # sweep_pixels), over random sizes (inputs 1...40 px, outputs 1...24 px), both filters, plus the pass-order
    # boundary and extreme ratios.
    sweep = [(1, 40, 40, 1, 3), (40, 1, 1, 40, 3), (1, 1, 17, 9, 3), (33, 29, 1, 1, 3), (30, 50, 20, 30, 3),
             (30, 51, 20, 30, 3), (30, 51, 20, 30, 2)]
    sweep_rng = np.random.default_rng(77)
    while len(sweep) < 48:
        w, h = (int(v) for v in sweep_rng.integers(1, 41, 2))
        tw, th = (int(v) for v in sweep_rng.integers(1, 25, 2))  # small outputs keep the fixture small
        sweep.append((w, h, tw, th, 3 if len(sweep) % 4 else 2))
    index["resize_sweep"] = []
    for number, (w, h, tw, th, resample) in enumerate(sweep):
        src = sweep_pixels(number, w, h)
        out = np.array(Image.fromarray(src).resize((tw, th), Image.Resampling(resample)))
        index["resize_sweep"].append({"case": number, "width": w, "height": h, "target": [th, tw],
                                      "resample": resample, "resized_u8": put(out.astype(np.uint8))})
    # Exhaustive colour-conversion tables (256 x 256, row = alpha or black, column = value), from PIL itself.
    v, k = np.meshgrid(np.arange(256, dtype=np.uint8), np.arange(256, dtype=np.uint8))
    rgba = np.stack([v, v, v, k], -1)
    white = Image.new("RGBA", (256, 256), (255, 255, 255, 255))
    over_white = np.array(Image.alpha_composite(white, Image.fromarray(rgba, "RGBA")).convert("RGB"))[..., 0]
    cmyk = np.stack([v, v, v, k], -1)
    cmyk_rgb = np.array(Image.frombytes("CMYK", (256, 256), cmyk.tobytes()).convert("RGB"))[..., 0]
    # Stored as 8-bit gray PNGs (they compress ~10x); the tests read them with the pipeline's own gray PNG path.
    for name, table in [("table_over_white.png", over_white), ("table_cmyk_to_rgb.png", cmyk_rgb)]:
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(save(Image.fromarray(table.astype(np.uint8), "L"), "PNG", optimize=True))
    with open(os.path.join(OUT, "arrays.bin"), "wb") as f:
        f.write(bytes(blob))
    with open(os.path.join(OUT, "index.json"), "w") as f:
        # One array entry per line: small, yet diffable.
        f.write("{\n")
        keys = list(index)
        for n, key in enumerate(keys):
            value = index[key]
            if isinstance(value, list):
                body = ",\n".join(json.dumps(item, separators=(",", ":")) for item in value)
                f.write(f'"{key}": [\n{body}\n]')
            else:
                f.write(f'"{key}": {json.dumps(value, separators=(",", ":"))}')
            f.write(",\n" if n + 1 < len(keys) else "\n")
        f.write("}\n")
    print(f"{len(index['cases'])} cases, arrays.bin {len(blob)} bytes")


if __name__ == "__main__":
    main()
