"""Rate-distortion table of the learned codec on Kodak, next to JPEG 4:2:0 at the same bit rate.

For every Kodak image and rate point: the real bitstream's size (bpp), PSNR and MS-SSIM on RGB; JPEG 4:2:0 (Pillow,
libjpeg-turbo, QF 1..100) is encoded at every QF and its PSNR / MS-SSIM are interpolated linearly in bpp at the
learned codec's bpp for the same image (no extrapolation: below QF 1's rate the comparison is left out). Means over
the images are printed as a Markdown table for jndviewer/assets/models/MODEL_CARD.md; ``--json`` writes the
per-image values and the reference values of the bundled sample image (kodim23) that the tests check the shipped
weights against.

Usage: .venv/bin/python benchmarks/rd_learned_codec.py [--weights W.pt]
       [--json jndviewer/assets/models/learned_codec.rd.json]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
from pytorch_msssim import ms_ssim

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.entry import run_script  # noqa: E402
from jndviewer.core.assets import model_file, sample_image  # noqa: E402
from jndviewer.core.codecs import create_codec  # noqa: E402
from jndviewer.core.codecs.learned import LearnedCodec  # noqa: E402
from jndviewer.core.image import load  # noqa: E402
from jndviewer.core.metrics import psnr  # noqa: E402


def msssim_rgb(reference: np.ndarray, decoded: np.ndarray) -> float:
    a = torch.from_numpy(reference.astype(np.float64)).permute(2, 0, 1)[None]
    b = torch.from_numpy(decoded.astype(np.float64)).permute(2, 0, 1)[None]
    return float(ms_ssim(a, b, data_range=255.0))


def interpolate(x: float, xs: np.ndarray, ys: np.ndarray) -> float:
    order = np.argsort(xs)
    xs, ys = xs[order], ys[order]
    if x < xs[0] or x > xs[-1]:
        return math.nan
    return float(np.interp(x, xs, ys))


def jpeg_msssim_at(bpp: float, jpeg_bpp: np.ndarray, rgb: np.ndarray, decoded: list[np.ndarray],
                   known: dict[int, float]) -> float:
    """JPEG's MS-SSIM interpolated at ``bpp``, computing it only for the two QFs that bracket it (cached in known)."""
    if bpp < jpeg_bpp.min() or bpp > jpeg_bpp.max():
        return math.nan
    above = int(np.searchsorted(jpeg_bpp, bpp))  # JPEG sizes rise with QF
    for index in {max(above - 1, 0), min(above, len(jpeg_bpp) - 1)}:
        if index not in known:
            known[index] = msssim_rgb(rgb, decoded[index])
    indices = sorted(known)
    return interpolate(bpp, jpeg_bpp[indices], np.array([known[k] for k in indices]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", default=str(model_file("learned_codec.pt")))
    parser.add_argument("--shared", default=str(REPO.parent / "shared"))
    parser.add_argument("--images", type=int, default=24)
    parser.add_argument("--json", help="write per-image results and the sample-image reference values here")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    kodak = Path(args.shared) / "data" / "images" / "kodak"
    files = sorted(kodak.glob("kodim*.png"))[: args.images]
    if not files:
        print(f"no Kodak images under {kodak}", file=sys.stderr)
        return 1
    learned = LearnedCodec(args.weights)
    jpeg = create_codec("jpeg")
    print(f"command: {' '.join(sys.argv)}")
    print(f"weights: {args.weights}; images: {len(files)} Kodak; torch {torch.__version__}, {args.threads} threads")
    rows: dict[int, list[dict]] = {level: [] for level in learned.levels()}
    per_image = []
    started = time.perf_counter()
    for path in files:
        rgb = load(path).rgb8()
        pixels = rgb.shape[0] * rgb.shape[1]
        jpeg_bpp, jpeg_psnr, jpeg_decoded = [], [], []
        for quality in jpeg.levels():
            encoded = jpeg.encode(rgb, quality)
            jpeg_bpp.append(8 * encoded.nbytes / pixels)
            jpeg_psnr.append(psnr(rgb, encoded.decoded))
            jpeg_decoded.append(encoded.decoded)
        jb, jp = np.array(jpeg_bpp), np.array(jpeg_psnr)
        jpeg_msssim: dict[int, float] = {}  # MS-SSIM only where it is interpolated

        image_rows = []
        for level in learned.levels():
            encoded = learned.encode(rgb, level)
            bpp = 8 * encoded.nbytes / pixels
            row = {
                "image": path.name, "level": level, "bpp": bpp, "psnr": psnr(rgb, encoded.decoded),
                "msssim": msssim_rgb(rgb, encoded.decoded), "jpeg_psnr": interpolate(bpp, jb, jp),
                "jpeg_msssim": jpeg_msssim_at(bpp, jb, rgb, jpeg_decoded, jpeg_msssim),
            }
            rows[level].append(row)
            image_rows.append(row)
        per_image.append(image_rows)
        print(f"  {path.name}: " + ", ".join(f"{r['bpp']:.3f} bpp {r['psnr']:.2f} dB" for r in image_rows), flush=True)
    print(f"\n{len(files)} images in {time.perf_counter() - started:.0f} s\n")
    print("| rate point | bpp | PSNR (dB) | MS-SSIM | JPEG 4:2:0 PSNR at same bpp | ΔPSNR | JPEG MS-SSIM | compared |")
    print("|---|---|---|---|---|---|---|---|")
    summary = []
    for level, items in rows.items():
        bpp = float(np.mean([r["bpp"] for r in items]))
        value = float(np.mean([r["psnr"] for r in items]))
        ms = float(np.mean([r["msssim"] for r in items]))
        compared = [r for r in items if not math.isnan(r["jpeg_psnr"])]
        jpeg_value = float(np.mean([r["jpeg_psnr"] for r in compared])) if compared else math.nan
        own_compared = float(np.mean([r["psnr"] for r in compared])) if compared else math.nan
        jpeg_ms = float(np.mean([r["jpeg_msssim"] for r in compared])) if compared else math.nan
        delta = own_compared - jpeg_value
        summary.append({"level": level, "bpp": bpp, "psnr": value, "msssim": ms, "jpeg_psnr": jpeg_value,
                        "delta_psnr": delta, "jpeg_msssim": jpeg_ms, "compared": len(compared)})
        print(f"| {level} | {bpp:.3f} | {value:.2f} | {ms:.4f} | {jpeg_value:.2f} | {delta:+.2f} | {jpeg_ms:.4f} | "
              f"{len(compared)}/{len(items)} |")
    print("\nΔPSNR compares the learned codec with JPEG on the images where JPEG reaches that bpp (QF >= 1).")
    if args.json:
        sample = load(sample_image()).rgb8()
        reference = {}
        for level in learned.levels():
            encoded = learned.encode(sample, level)
            reference[str(level)] = {"nbytes": encoded.nbytes, "psnr": psnr(sample, encoded.decoded)}
        Path(args.json).write_text(json.dumps({"summary": summary, "sample_image": reference,
                                               "per_image": per_image}, indent=1))
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_script(main))
