#!/usr/bin/env python3
"""ColorVideoVDP (cvvdp) JOD curves of Pillow-encoded images, in the format of the shared labels.

Runs only in the separate environment tools/cvvdp/.venv (see README.md there); jndviewer never imports it.

Each output row is one (image, codec, level, display):

    image,codec,level,bytes,display,jod

`image` is the path relative to --image-root, `bytes` the size of the encoded file and `jod` the cvvdp score
(4 decimals) of the Pillow-decoded image against the source. The encoders are Pillow's defaults, exactly as for
/work/shared/data/labels/cvvdp/jod_curves.csv:

    JPEG  img.save(buf, 'JPEG', quality=q)            (libjpeg-turbo, 4:2:0)
    WebP  img.save(buf, 'WEBP', quality=q)
    AVIF  img.save(buf, 'AVIF', quality=q, speed=6)   (libavif, 4:2:0)
    HEIF  pillow_heif.from_bytes('RGB', size, rgb).save(buf, quality=q)   (x265 HEVC intra through pillow-heif 1.9.0,
          exactly as jndviewer's `heif` codec encodes and decodes it; the closest installable relative of BPG)

jndviewer's model-backed codecs (`autoencoder`, 9 degradation levels, 1 = least; `learned`, 8 rate points, 1 = lowest
rate) cannot run here: tools/decode_ladder.py decodes them in the project's environment and --decoded-root DIR points
at its output (DIR/<codec>/<image path without suffix>/<level>.png and bytes.json).

--between-labels LABELS.csv scores, instead of --levels' grid, only the levels of the grid step that holds each label
of LABELS.csv (read on that grid): what reading every level gives near the labels, at a fraction of the cost.

Compute mode (default) is resumable: rows already in OUT are skipped, new rows are appended and flushed after each
image. Check mode (--check N) recomputes N seeded random rows of the shared CSV and compares them.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import sys
import time
from collections.abc import Iterable, Sequence
from importlib import metadata
from pathlib import Path

import numpy as np
from PIL import Image

SHARED_ROOT = Path("/work/shared/data/images")
SHARED_CSV = Path("/work/shared/data/labels/cvvdp/jod_curves.csv")
FIELDS = ("image", "codec", "level", "bytes", "display", "jod")
CODECS = ("jpeg", "webp", "avif", "heif", "autoencoder", "learned")
PREDECODED = ("autoencoder", "learned")  # decoded by tools/decode_ladder.py in the project's environment
DISPLAYS = ("standard_fhd", "standard_4k")
DEFAULT_LEVELS: dict[str, list[int]] = {
    "jpeg": [*range(1, 100, 2), 100],
    "webp": [*range(1, 100, 2), 100],
    "avif": [*range(1, 98, 4), 100],
    "heif": [*range(1, 98, 4), 100],
    "autoencoder": list(range(1, 10)),
    "learned": list(range(1, 9)),
}
IMAGE_EXTS = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".ppm", ".pgm", ".webp"}
EXPECTED_VERSIONS = {"cvvdp": "0.5.7", "pillow": "13.0.0"}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def check_versions() -> None:
    for pkg, want in EXPECTED_VERSIONS.items():
        try:
            have = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            have = "missing"
        if have != want:
            log(f"warning: {pkg} {have} installed, the shared labels used {want}; results may differ")


# --------------------------------------------------------------------------- encoding


def encode(img: Image.Image, codec: str, level: int) -> bytes:
    """Encode with Pillow's default settings, as for the shared labels."""
    buf = io.BytesIO()
    if codec == "jpeg":
        img.save(buf, "JPEG", quality=level)
    elif codec == "webp":
        img.save(buf, "WEBP", quality=level)
    elif codec == "avif":
        img.save(buf, "AVIF", quality=level, speed=6)
    elif codec == "heif":
        import pillow_heif

        rgb = np.asarray(img.convert("RGB"))
        pillow_heif.from_bytes(mode="RGB", size=(rgb.shape[1], rgb.shape[0]), data=rgb.tobytes()).save(
            buf, quality=level
        )
    else:
        raise ValueError(f"unknown codec {codec!r}")
    return buf.getvalue()


def predecoded(root: Path, name: str, codec: str, level: int) -> tuple[int, np.ndarray]:
    """(encoded size, decoded RGB) of one level written by tools/decode_ladder.py."""
    folder = root / codec / str(Path(name).with_suffix(""))
    sizes = json.loads((folder / "bytes.json").read_text())
    with Image.open(folder / f"{level}.png") as im:
        return int(sizes[str(level)]), np.asarray(im.convert("RGB"))


def decode(data: bytes, codec: str = "") -> np.ndarray:
    if codec == "heif":  # as jndviewer's heif codec decodes it
        import pillow_heif

        decoded = pillow_heif.open_heif(io.BytesIO(data), convert_hdr_to_8bit=True)
        return np.ascontiguousarray(np.asarray(decoded[0])[..., :3])
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB"))


def load_source(path: Path) -> Image.Image:
    with Image.open(path) as im:
        im.load()
        return im if im.mode == "RGB" else im.convert("RGB")


# --------------------------------------------------------------------------- metric


class Metric:
    """One cvvdp model per display, on the CPU (as for the shared labels) unless told otherwise."""

    def __init__(self, displays: Sequence[str], device: str = "cpu", threads: int = 1) -> None:
        import pycvvdp
        import torch

        torch.set_num_threads(threads)
        self._torch = torch
        dev = torch.device(device)
        self.models = {d: pycvvdp.cvvdp(display_name=d, heatmap=None, device=dev, quiet=True) for d in displays}
        self.evals = 0
        self.seconds = 0.0

    def jod(self, display: str, test: np.ndarray, ref: np.ndarray) -> float:
        t0 = time.perf_counter()
        with self._torch.no_grad():
            q, _stats = self.models[display].predict(test, ref, dim_order="HWC")
        self.seconds += time.perf_counter() - t0
        self.evals += 1
        return float(q)


# --------------------------------------------------------------------------- arguments


def parse_list(text: str, allowed: Sequence[str], what: str) -> list[str]:
    items = [s.strip() for s in text.split(",") if s.strip()]
    bad = [s for s in items if s not in allowed]
    if bad or not items:
        raise argparse.ArgumentTypeError(f"bad {what} {bad or text!r}; choose from {','.join(allowed)}")
    return list(dict.fromkeys(items))


def parse_levels(specs: Iterable[str]) -> dict[str, list[int]]:
    """`codec=1,3,5` or `codec=1-99/2,100` (ranges inclusive, step after the slash)."""
    levels = {c: list(v) for c, v in DEFAULT_LEVELS.items()}
    for spec in specs:
        codec, sep, body = spec.partition("=")
        codec = codec.strip()
        if not sep or codec not in CODECS:
            raise SystemExit(f"--levels: expected CODEC=LIST with CODEC in {','.join(CODECS)}, got {spec!r}")
        out: list[int] = []
        for part in body.split(","):
            part = part.strip()
            if not part:
                continue
            rng, _, step = part.partition("/")
            lo, dash, hi = rng.partition("-")
            try:
                if dash:
                    out.extend(range(int(lo), int(hi) + 1, int(step or 1)))
                else:
                    out.append(int(rng))
            except ValueError:
                raise SystemExit(f"--levels: cannot read {part!r} in {spec!r}") from None
        if not out or any(not 0 <= q <= 100 for q in out):
            raise SystemExit(f"--levels: levels must be 0..100, got {spec!r}")
        levels[codec] = sorted(set(out))
    return levels


def collect_images(paths: Sequence[str]) -> list[Path]:
    found: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found.extend(sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in IMAGE_EXTS))
        elif p.is_file():
            found.append(p)
        else:
            raise SystemExit(f"no such file or folder: {p}")
    return list(dict.fromkeys(f.resolve() for f in found))


def relative_name(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        raise SystemExit(f"{path} is not under --image-root {root}") from None


# --------------------------------------------------------------------------- compute mode


QUALITY_CODECS = ("jpeg", "webp", "avif", "heif")  # levels are quality factors 1-100, higher is better


def levels_between_labels(path: Path, grid: dict[str, list[int]], codecs: Sequence[str],
                          displays: Sequence[str]) -> dict[tuple[str, str, int], set[str]]:
    """The levels off the grid where labels read on it could lie: for each label of PATH (the CSV of
    tools/make_reference_labels.py) of a quality codec, those strictly between its level and the next grid level
    below, or every level below the grid's worst for a label there (the crossing lies in that step; the label's task
    does not matter, the union is read). Keyed (image, codec, level), with the displays to score there. A label off
    the grid, or of another codec, stops the run with one sentence."""
    wanted: dict[tuple[str, str, int], set[str]] = {}
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            codec, display = row["codec"], row["display"]
            if codec not in codecs or display not in displays:
                continue
            if codec not in QUALITY_CODECS:
                raise SystemExit(f"--between-labels reads quality ladders only ({', '.join(QUALITY_CODECS)}); "
                                 f"{path} has {codec} labels: pass --codecs.")
            level = int(row["pwjnd_level"])
            if level not in grid[codec]:
                raise SystemExit(f"{path}: the {codec} label of {row['image']} ({level}) is not on the grid "
                                 f"--levels gives; --between-labels needs labels read on that grid.")
            below = [g for g in grid[codec] if g < level]
            for between in range(below[-1] + 1 if below else 1, level):
                wanted.setdefault((row["image"], codec, between), set()).add(display)
    return wanted


def read_done(out: Path) -> set[tuple[str, str, int, str]]:
    """Keys of the rows already in OUT; drops a trailing partial line left by a killed run."""
    if not out.exists() or out.stat().st_size == 0:
        return set()
    raw = out.read_bytes()
    if not raw.endswith(b"\n"):
        cut = raw.rfind(b"\n") + 1
        log(f"{out}: dropping a partial last line ({len(raw) - cut} bytes) left by an interrupted run")
        with out.open("r+b") as f:
            f.truncate(cut)
    done: set[tuple[str, str, int, str]] = set()
    with out.open(newline="") as f:
        reader = csv.DictReader(f)
        if tuple(reader.fieldnames or ()) != FIELDS:
            raise SystemExit(f"{out}: header {reader.fieldnames} is not {','.join(FIELDS)}")
        for row in reader:
            done.add((row["image"], row["codec"], int(row["level"]), row["display"]))
    return done


def compute(args: argparse.Namespace) -> int:
    root = Path(args.image_root).resolve()
    images = collect_images(args.inputs)
    if not images:
        raise SystemExit("no images given")
    names = [relative_name(p, root) for p in images]
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    done = read_done(out)
    if args.between_labels:
        near = levels_between_labels(Path(args.between_labels), args.levels, args.codecs, args.displays)
        if not {name for name, _, _ in near} & set(names):
            raise SystemExit(f"no label of {args.between_labels} is for these images (names relative to "
                             f"--image-root {root}), codecs and displays")
        wanted = {name: [(c, q, [d for d in args.displays if d in near.get((name, c, q), ())])
                         for c in args.codecs for q in range(1, 101) if (name, c, q) in near] for name in names}
    else:
        wanted = {name: [(c, q, list(args.displays)) for c in args.codecs for q in args.levels[c]] for name in names}
    rows_total = sum(len(ds) for todo in wanted.values() for _, _, ds in todo)
    todo_total = sum(1 for name, todo in wanted.items() for c, q, ds in todo for d in ds if (name, c, q, d) not in done)
    log(f"{len(images)} images, {rows_total} rows; {rows_total - todo_total} already in {out}, {todo_total} to compute")
    if todo_total == 0:
        return 0

    metric = Metric(args.displays, device=args.device, threads=args.threads)
    new_file = not out.exists() or out.stat().st_size == 0
    t_start = time.perf_counter()
    written = 0
    with out.open("a", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        if new_file:
            writer.writerow(FIELDS)
            f.flush()
        for i, (path, name) in enumerate(zip(images, names, strict=True), 1):
            missing = [(c, q, [d for d in ds if (name, c, q, d) not in done]) for c, q, ds in wanted[name]]
            missing = [m for m in missing if m[2]]
            if not missing:
                continue
            t0 = time.perf_counter()
            src = load_source(path)
            ref = np.asarray(src)
            rows = []
            for codec, level, displays in missing:
                if codec in PREDECODED:
                    size, test = predecoded(Path(args.decoded_root), name, codec, level)
                else:
                    data = encode(src, codec, level)
                    size, test = len(data), decode(data, codec)
                for d in displays:
                    rows.append((name, codec, level, size, d, f"{metric.jod(d, test, ref):.4f}"))
            # one write per image keeps OUT whole-image consistent; read_done repairs a torn last line
            buf = io.StringIO()
            csv.writer(buf, lineterminator="\n").writerows(rows)
            f.write(buf.getvalue())
            f.flush()
            os.fsync(f.fileno())
            written += len(rows)
            elapsed = time.perf_counter() - t_start
            eta = elapsed / written * (todo_total - written)
            log(
                f"[{i}/{len(images)}] {name}: {len(rows)} rows in {time.perf_counter() - t0:.1f} s "
                f"({metric.seconds / metric.evals:.3f} s/eval); {written}/{todo_total} done, "
                f"elapsed {elapsed / 60:.1f} min, ETA {eta / 60:.1f} min"
            )
    log(f"finished: {written} rows appended to {out} in {(time.perf_counter() - t_start) / 60:.1f} min")
    return 0


# --------------------------------------------------------------------------- check mode


def sample_rows(rows: list[dict[str, str]], n: int, seed: int) -> list[dict[str, str]]:
    """Seeded sample, stratified over (codec, display) so that every combination appears when n >= their count."""
    rng = random.Random(seed)
    strata: dict[tuple[str, str], list[dict[str, str]]] = {}
    for r in rows:
        strata.setdefault((r["codec"], r["display"]), []).append(r)
    pools = {k: rng.sample(v, len(v)) for k, v in sorted(strata.items())}
    keys = sorted(pools)
    picked: list[dict[str, str]] = []
    while len(picked) < n and any(pools.values()):
        for k in keys:
            if pools[k] and len(picked) < n:
                picked.append(pools[k].pop())
    return picked


def check(args: argparse.Namespace) -> int:
    root = Path(args.image_root)
    with open(args.shared, newline="") as f:
        rows = list(csv.DictReader(f))
    picked = sample_rows(rows, args.check, args.seed)
    metric = Metric(sorted({r["display"] for r in picked}), device=args.device, threads=args.threads)
    header = f"{'image':<28} {'codec':<5} {'level':>5} {'display':<12} {'bytes':>8} {'recomp':>8} "
    header += f"{'jod':>7} {'recomp':>7} {'Δjod':>8}"
    print(f"# {len(picked)} rows of {args.shared} (seed {args.seed}), images under {root}")
    print(header)
    print("-" * len(header))
    cache: dict[tuple[str, str, int], tuple[int, np.ndarray, np.ndarray]] = {}
    max_d = 0.0
    bytes_bad = 0
    for r in picked:
        key = (r["image"], r["codec"], int(r["level"]))
        if key not in cache:
            src = load_source(root / r["image"])
            data = encode(src, r["codec"], key[2])
            cache = {key: (len(data), decode(data, r["codec"]), np.asarray(src))}
        nbytes, test, ref = cache[key]
        jod = round(metric.jod(r["display"], test, ref), 4)
        d = jod - float(r["jod"])
        max_d = max(max_d, abs(d))
        same = nbytes == int(r["bytes"])
        bytes_bad += not same
        print(
            f"{r['image']:<28} {r['codec']:<5} {key[2]:>5} {r['display']:<12} {r['bytes']:>8} "
            f"{nbytes:>8}{'' if same else '!'} {float(r['jod']):>7.4f} {jod:>7.4f} {d:>+8.4f}",
            flush=True,
        )
    ok = bytes_bad == 0 and max_d <= args.tol
    print(f"max |Δjod| = {max_d:.4f} (tolerance {args.tol}); byte mismatches: {bytes_bad}/{len(picked)}")
    print(f"cvvdp: {metric.seconds / max(metric.evals, 1):.3f} s per evaluation over {metric.evals} evaluations")
    print("CHECK PASSED" if ok else "CHECK FAILED")
    return 0 if ok else 1


# --------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="levels: --levels jpeg=1-99/2,100 --levels avif=1-97/4,100 (defaults: the shared label sets)",
    )
    ap.add_argument("inputs", nargs="*", help="image files or folders (searched recursively)")
    ap.add_argument("-o", "--output", help="output CSV (appended to; rows already there are skipped)")
    ap.add_argument("--codecs", type=lambda s: parse_list(s, CODECS, "codec"), default=None,
                    help="default: all (with --between-labels: the quality codecs)")
    ap.add_argument("--displays", type=lambda s: parse_list(s, DISPLAYS, "display"), default=list(DISPLAYS))
    ap.add_argument("--levels", action="append", default=[], metavar="CODEC=LIST", help="repeatable")
    ap.add_argument("--between-labels", metavar="LABELS.csv",
                    help="instead of --levels' grid, only the levels between each label of LABELS.csv (read on that "
                         "grid) and the grid level below it: where the label lies at every level")
    ap.add_argument("--image-root", default=str(SHARED_ROOT), help="image paths are written relative to this")
    ap.add_argument("--decoded-root", help="output of tools/decode_ladder.py (needed for autoencoder, learned)")
    ap.add_argument("--check", type=int, metavar="N", help="recompute N seeded random rows of --shared and compare")
    ap.add_argument("--shared", default=str(SHARED_CSV), help="shared CSV for --check")
    ap.add_argument("--seed", type=int, default=0, help="sampling seed for --check")
    ap.add_argument("--tol", type=float, default=0.01, help="largest |Δjod| that --check accepts")
    ap.add_argument("--device", default="cpu", help="torch device (the shared labels were made on the CPU)")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    args = ap.parse_args(argv)
    args.levels = parse_levels(args.levels)
    check_versions()
    if args.check is not None:
        if args.check < 1:
            ap.error("--check needs N >= 1")
        return check(args)
    if not args.inputs or not args.output:
        ap.error("give image files or folders and -o OUT.csv (or --check N)")
    if args.codecs is None:  # --between-labels reads the labels' quality ladders, not the model ladders
        args.codecs = list(QUALITY_CODECS if args.between_labels else CODECS)
    if set(args.codecs) & set(PREDECODED) and not args.decoded_root:
        ap.error(f"{', '.join(PREDECODED)} need --decoded-root (the output of tools/decode_ladder.py)")
    return compute(args)


if __name__ == "__main__":
    sys.exit(main())
