"""Is SG-JND's shift on Kodak a pixel-scale effect? Predict each Kodak image at full size and downscaled.

SG-JND was trained on BSDS500's 481x321 images; Kodak's are 768x512. This predicts the JPEG PW-JND of every Kodak
image at full size and resized (Lanczos) so that its long side is ``--long-side`` pixels, and prints both means
next to the mean of the held-out proxy labels (which belong to the full-size images).

Usage: .venv/bin/python benchmarks/sgjnd_scale_check.py [--long-side 481]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.entry import run_script  # noqa: E402
from jndviewer.core.codecs import create_codec  # noqa: E402
from jndviewer.core.pwjnd.labels import read_labels  # noqa: E402
from jndviewer.core.pwjnd.sgjnd import SGJNDPredictor  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--long-side", type=int, default=481)
    parser.add_argument("--shared", default=str(REPO.parent / "shared"))
    parser.add_argument("--labels", default=str(REPO / "resources" / "labels" / "pwjnd_reference_kodak.csv"))
    args = parser.parse_args()
    labels = sorted((lb for lb in read_labels(args.labels) if lb.codec == "jpeg" and lb.display == "standard_fhd"),
                    key=lambda lb: lb.image)  # fmt: skip
    predictor, codec = SGJNDPredictor(), create_codec("jpeg")
    full, small = [], []
    for label in labels:
        image = Image.open(Path(args.shared) / "data" / "images" / label.image).convert("RGB")
        scale = args.long_side / max(image.size)
        resized = image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS)
        full.append(predictor.predict(np.asarray(image), codec).level)
        small.append(predictor.predict(np.asarray(resized), codec).level)
    truth = np.array([lb.pwjnd_level for lb in labels])
    print(f"{len(labels)} Kodak images, JPEG: label mean {truth.mean():.1f}; SG-JND at full size mean "
          f"{np.mean(full):.1f} (MAE {np.abs(np.array(full) - truth).mean():.2f}); long side {args.long_side} px mean "
          f"{np.mean(small):.1f} (MAE against the full-size labels {np.abs(np.array(small) - truth).mean():.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_script(main))
