"""Draw jndviewer's icon (``jndviewer/assets/icon.png``, 256x256): an image split by a wipe line, the right half
blocky (a coarse JPEG-like quantisation of the left), on a rounded square. Reproducible: no randomness, no fonts.

    .venv/bin/python tools/make_icon.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

SIZE = 256
OUT = Path(__file__).resolve().parents[1] / "jndviewer" / "assets" / "icon.png"


def main() -> None:
    y, x = np.mgrid[0:SIZE, 0:SIZE] / SIZE
    # a smooth "photo": a warm sun over a cool gradient with gentle hills
    sky = np.stack([0.25 + 0.3 * y, 0.45 + 0.3 * y, 0.85 - 0.2 * y], axis=-1)
    sun = np.exp(-(((x - 0.33) ** 2 + (y - 0.35) ** 2) / 0.012))[..., None] * np.array([0.75, 0.55, 0.05])
    hill = (y > 0.62 + 0.08 * np.sin(7 * x)).astype(float)[..., None]
    ground = np.stack([0.2 + 0.2 * x, 0.55 - 0.1 * y, 0.25 + 0 * x], axis=-1)
    picture = np.clip((sky + sun) * (1 - hill) + ground * hill, 0, 1)
    blocks = picture.reshape(SIZE // 32, 32, SIZE // 32, 32, 3).mean(axis=(1, 3))
    blocky = np.repeat(np.repeat(blocks, 32, axis=0), 32, axis=1)
    split = SIZE // 2
    picture[:, split:] = blocky[:, split:]
    rgb = (picture * 255).round().astype(np.uint8)
    icon = Image.fromarray(rgb, "RGB").convert("RGBA")
    draw = ImageDraw.Draw(icon)
    draw.line([(split, 0), (split, SIZE)], fill=(255, 255, 255, 255), width=6)
    mask = Image.new("L", (SIZE, SIZE), 0)
    ImageDraw.Draw(mask).rounded_rectangle([0, 0, SIZE - 1, SIZE - 1], radius=40, fill=255)
    icon.putalpha(mask)
    icon.save(OUT, optimize=True)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
