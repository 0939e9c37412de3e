"""Decode ladders of jndviewer's model-backed codecs (``autoencoder``, ``learned``) to PNG for reference labelling.

ColorVideoVDP runs in its own environment (tools/cvvdp/.venv) that cannot import jndviewer's codecs, so this script
(run in the project's environment) writes every level's decoded image and its encoded size; ``tools/cvvdp/
jod_curves.py --decoded-root DIR`` then scores them exactly like the Pillow codecs. Layout, per image path relative
to ``--image-root`` (``bsds500/test/100007.jpg`` -> ``bsds500/test/100007``)::

    DIR/<codec>/<relative path without suffix>/<level>.png     the decoded RGB image
    DIR/<codec>/<relative path without suffix>/bytes.json     {"<level>": encoded size in bytes}

Resumable: an image whose bytes.json lists every level is skipped; bytes.json is written last, atomically.
Usage (from the repository root):
  .venv/bin/python tools/decode_ladder.py $(cat tools/cvvdp/heif_train_images.txt) --codecs autoencoder,learned \
      -o runs/ladders
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import Image

from jndviewer.core.batch import collect_images
from jndviewer.core.codecs import create_codec
from jndviewer.core.errors import JndViewerError
from jndviewer.core.image import load

SHARED_ROOT = Path(__file__).resolve().parents[2] / "shared" / "data" / "images"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("inputs", nargs="+", help="image files or folders")
    parser.add_argument("-o", "--output", type=Path, required=True)
    parser.add_argument("--codecs", default="autoencoder,learned")
    parser.add_argument("--image-root", type=Path, default=SHARED_ROOT)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    images = collect_images(args.inputs)
    root = args.image_root.resolve()
    outside = [str(path) for path in images if not path.resolve().is_relative_to(root)]
    if outside:
        parser.error(f"{outside[0]} is not under --image-root {root}; the labels name images relative to it")
    started = time.perf_counter()
    failed = 0
    for index, path in enumerate(images, 1):
        relative = path.resolve().relative_to(root).with_suffix("")
        try:
            decode_image(path, relative, args.codecs.split(","), args.output)
        except JndViewerError as err:
            failed += 1
            print(f"{path}: {err}", file=sys.stderr, flush=True)
            continue
        elapsed = time.perf_counter() - started
        print(f"[{index}/{len(images)}] {relative} ({elapsed / index:.1f} s per image)", file=sys.stderr, flush=True)
    if failed:
        print(f"{failed} of {len(images)} images failed (see above).", file=sys.stderr)
    return 1 if failed else 0


def decode_image(path: Path, relative: Path, codecs: list[str], output: Path) -> None:
    """Every level of each codec for one image, skipping codecs already done (JndViewerError: it cannot be read)."""
    rgb = None
    for name in codecs:
        codec = create_codec(name)
        levels = codec.levels()
        folder = output / name / relative
        sizes_file = folder / "bytes.json"
        if sizes_file.exists() and len(json.loads(sizes_file.read_text())) == len(levels):
            continue
        rgb = load(path).rgb8() if rgb is None else rgb
        folder.mkdir(parents=True, exist_ok=True)
        sizes = {}
        for level in levels:
            encoded = codec.encode(rgb, level)
            Image.fromarray(encoded.decoded).save(folder / f"{level}.png")
            sizes[str(level)] = len(encoded.data)
        temporary = sizes_file.with_name("bytes.json.tmp")
        temporary.write_text(json.dumps(sizes))
        os.replace(temporary, sizes_file)


if __name__ == "__main__":
    raise SystemExit(main())
