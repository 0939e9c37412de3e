"""Write the shipped default study set: eight 320x240 crops of eight Kodak images, and its JSON (run once; the
output in ``jndviewer/assets/study/`` is committed).

The crops span the content that changes where JPEG distortion becomes visible: a flat sky gradient, fine foliage, a
face, text and sharp edges, water, knitted fabric, architecture and a mixed scene. kodim23 is left out: it is the
bundled sample image. Boxes are ``(x, y, width, height)`` in the original 768x512 / 512x768 image and stay at least
8 pixels inside it (some Kodak scans have a dark border). The PNGs are written with Pillow ``optimize=True`` so the
folder stays under 2 MB.

Usage: .venv/bin/python tools/make_default_study_set.py [--kodak ../shared/data/images/kodak] [--sheet FILE.png]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PIL import Image, ImageDraw

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from jndviewer.core.study.model import StudyItem  # noqa: E402
from jndviewer.core.study.sets import StudySet, save_study_set  # noqa: E402

#: (item id, Kodak image, crop box (x, y, width, height), what it is there for)
CROPS: tuple[tuple[str, str, tuple[int, int, int, int], str], ...] = (
    ("kodim20-sky", "kodim20", (176, 16, 320, 240), "flat sky gradient with a propeller blade"),
    ("kodim13-foliage", "kodim13", (8, 72, 320, 240), "fine texture: conifers, bushes and a stony bank"),
    ("kodim04-face", "kodim04", (120, 290, 320, 240), "face and skin: eyes, lips, smooth cheeks"),
    ("kodim10-sail-numbers", "kodim10", (96, 8, 320, 240), "high-contrast edges: sail numbers on a smooth sail"),
    ("kodim16-water", "kodim16", (224, 256, 320, 240), "water: low-contrast ripples of a calm lake"),
    ("kodim15-knit", "kodim15", (140, 264, 320, 240), "fabric: a knitted sweater"),
    ("kodim08-facades", "kodim08", (440, 232, 320, 240), "architecture: windows, shutters and painted lettering"),
    ("kodim21-lighthouse", "kodim21", (200, 100, 320, 240), "mixed: sky, lighthouse, roofs and rocks"),
)
TARGET = REPO / "jndviewer" / "assets" / "study"
DESCRIPTION = (
    "Eight 320x240 crops of eight Kodak images (flat sky, foliage, face, sail numbers, water, knitted fabric, "
    "architecture, a mixed scene), JPEG quality 1-100."
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kodak", type=Path, default=REPO.parent / "shared" / "data" / "images" / "kodak")
    parser.add_argument("--sheet", type=Path, default=None, help="also write a contact sheet of the crops here")
    args = parser.parse_args()
    TARGET.mkdir(parents=True, exist_ok=True)
    items, crops, origins = [], [], {}
    for item_id, source, (x, y, width, height), content in CROPS:
        with Image.open(args.kodak / f"{source}.png") as picture:
            rgb = picture.convert("RGB")
        if min(x, y) < 8 or x + width > rgb.width - 8 or y + height > rgb.height - 8:
            raise SystemExit(f"{item_id}: the box lies within 8 pixels of the edge of {source}.")
        crop = rgb.crop((x, y, x + width, y + height))
        name = f"{item_id}.png"
        crop.save(TARGET / name, optimize=True)
        crops.append((item_id, crop))
        items.append(StudyItem(item_id, f"package:{name}", "jpeg", tuple(range(1, 101)), "higher", source, None))
        origins[item_id] = {"image": f"kodak/{source}.png", "box": [x, y, width, height], "content": content}
        print(f"wrote {TARGET / name} ({(TARGET / name).stat().st_size / 1024:.0f} KiB) from {source} "
              f"box ({x}, {y}, {width}, {height})")
    # The items are the cropped files (no crop of their own); each item's "origin" records where it was cut from.
    save_study_set(StudySet("default", tuple(items), DESCRIPTION, origins), TARGET / "default.json")
    total = sum(path.stat().st_size for path in TARGET.iterdir())
    print(f"wrote {TARGET / 'default.json'}; folder total {total / 1e6:.2f} MB")
    if args.sheet is not None:
        sheet = Image.new("RGB", (4 * 330, 2 * 260), "white")
        for index, (item_id, crop) in enumerate(crops):
            left, top = (index % 4) * 330, (index // 4) * 260
            sheet.paste(crop, (left, top + 16))
            ImageDraw.Draw(sheet).text((left + 2, top + 2), item_id, fill="black")
        sheet.save(args.sheet)
        print(f"wrote {args.sheet}")


if __name__ == "__main__":
    main()
