#!/usr/bin/env python3
"""Perceptual scores of folders of restored images: ColorVideoVDP JOD against the references, and BRISQUE.

Runs only in tools/cvvdp/.venv (see README.md here); benchmarks/adaptation.py calls it. For every test folder and
every reference image with the same file stem in it, one row ``folder,image,display,jod,brisque``:

- ``jod``: cvvdp 0.5.7 (``pycvvdp.cvvdp(display_name=D).predict(test, ref, dim_order='HWC')``), 10 = no visible
  difference from the reference, for each ``--displays`` D;
- ``brisque``: the no-reference BRISQUE index (Mittal et al., IEEE TIP 2012) of the test image alone, lower =
  more natural-looking, from the ``brisque`` package 0.2.0, whose LIVE-trained SVR model ships inside its wheel (no
  download). Its ``scale_features`` fails under NumPy 2 on one-element arrays; :class:`Brisque` flattens them first.

Resumable: rows already in the output are skipped, each image's rows are appended and fsynced as they are made.
Usage: .venv/bin/python score_folders.py --reference /work/shared/data/images/kodak -o scores.csv FOLDER [FOLDER ...]
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

FIELDS = ("folder", "image", "display", "jod", "brisque")
SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".ppm"}


def rgb(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def brisque_model():
    from brisque import BRISQUE

    class Brisque(BRISQUE):
        def scale_features(self, features):  # NumPy 2: float() of a one-element array is an error
            return super().scale_features([float(np.asarray(f).reshape(-1)[0]) for f in features])

    return Brisque(url=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--reference", type=Path, required=True, help="folder of the reference images")
    parser.add_argument("-o", "--output", type=Path, required=True)
    parser.add_argument("--displays", default="standard_fhd")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    import pycvvdp
    import torch

    torch.set_num_threads(args.threads)
    references = {p.stem: p for p in sorted(args.reference.iterdir()) if p.suffix.lower() in SUFFIXES}
    displays = args.displays.split(",")
    done: set[tuple[str, str, str]] = set()
    if args.output.exists():
        with args.output.open(newline="") as handle:
            done = {(r["folder"], r["image"], r["display"]) for r in csv.DictReader(handle)}
    new = not args.output.exists()
    metrics = {d: pycvvdp.cvvdp(display_name=d, heatmap=None, device=torch.device("cpu"), quiet=True)
               for d in displays}
    quality = brisque_model()
    started = time.perf_counter()
    with args.output.open("a", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        if new:
            writer.writerow(FIELDS)
        for folder in args.folders:
            for path in sorted(p for p in folder.iterdir() if p.stem in references):
                todo = [d for d in displays if (folder.name, path.stem, d) not in done]
                if not todo:
                    continue
                test, ref = rgb(path), rgb(references[path.stem])
                if test.shape != ref.shape:  # a restorer's output may lose a last odd row or column
                    ref = ref[:test.shape[0], :test.shape[1]]
                nr = float(quality.score(test))
                for display in todo:
                    with torch.no_grad():
                        jod, _ = metrics[display].predict(test, ref, dim_order="HWC")
                    writer.writerow((folder.name, path.stem, display, f"{float(jod):.4f}", f"{nr:.3f}"))
                handle.flush()
                os.fsync(handle.fileno())
                print(f"{folder.name}/{path.name} ({time.perf_counter() - started:.0f} s)", file=sys.stderr,
                      flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
