"""PW-JND of one image found by the same search as jndviewer, with ColorVideoVDP deciding each level.

The reference point for benchmarks/eval_pwjnd.py's speed comparison: a level counts as visible when its JOD is below
the fitted threshold (9.0, display standard_fhd). Runs in the cvvdp environment (tools/cvvdp/.venv); imports only
jndviewer's pure-Python search module. Prints one JSON line: level, encodes, seconds (encode + decode + cvvdp).

Usage: tools/cvvdp/.venv/bin/python tools/cvvdp/cvvdp_search.py IMAGE [--size 1920x1080] [--strategy block]
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from jndviewer.core.pwjnd.search import search


def encode(rgb: np.ndarray, codec: str, level: int) -> np.ndarray:
    buffer = io.BytesIO()
    options = {"jpeg": ("JPEG", {}), "webp": ("WEBP", {}), "avif": ("AVIF", {"speed": 6})}[codec]
    Image.fromarray(rgb).save(buffer, options[0], quality=level, **options[1])
    return np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("image", type=Path)
    parser.add_argument("--codec", default="jpeg", choices=("jpeg", "webp", "avif"))
    parser.add_argument("--size", help="resize to WxH first, e.g. 1920x1080")
    parser.add_argument("--display", default="standard_fhd")
    parser.add_argument("--threshold", type=float, default=9.0)
    parser.add_argument("--strategy", default="block")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    import pycvvdp
    import torch

    torch.set_num_threads(args.threads)
    picture = Image.open(args.image).convert("RGB")
    if args.size:
        width, height = (int(v) for v in args.size.split("x"))
        picture = picture.resize((width, height), Image.Resampling.BICUBIC)
    rgb = np.asarray(picture)
    metric = pycvvdp.cvvdp(display_name=args.display, heatmap=None)
    levels = list(range(1, 101))
    started = time.perf_counter()

    def decide(position: int) -> bool:
        jod, _ = metric.predict(encode(rgb, args.codec, levels[position]), rgb, dim_order="HWC")
        return float(jod) < args.threshold

    found = search(len(levels), decide, args.strategy)
    print(json.dumps({"image": str(args.image), "codec": args.codec, "level": levels[found.position],
                      "encodes": len(found.visited), "seconds": time.perf_counter() - started,
                      "width": rgb.shape[1], "height": rgb.shape[0], "strategy": args.strategy}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
