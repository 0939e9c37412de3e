"""``jndviewer map``: one image's pixel-wise JND map (and its components) as a colour-mapped PNG or raw float32.

A map is the job a user runs first and often alone, so its process is kept short: on the CPU, Chou & Li 1995, Yang
et al. 2005 and Wu et al. 2017 are computed by their NumPy forms (:mod:`jndviewer.core.jnd.numpy_models`) and torch
is never imported (it took about 0.8 s of a 1.1 s map). ``--engine torch`` (or a GPU, Wu et al. 2013, or an image
large enough that torch's threads win) uses the torch models. Measured with ``benchmarks/bench_map_startup.py``.
"""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path
from typing import Any

from jndviewer.cli_options import pixel_count, positive_float
from jndviewer.core.errors import JndViewerError

#: How a map is computed: ``auto`` picks the NumPy form where it is the faster one-shot (see :func:`choose_engine`).
ENGINES: tuple[str, ...] = ("auto", "numpy", "torch")
#: The ``--device`` values the NumPy engine serves ("" is auto, as for :func:`~jndviewer.core.device.select_device`).
NUMPY_DEVICES = ("", "auto", "cpu")


def add_map_parser(commands: Any) -> None:
    """The ``map`` subcommand's parser, on the ``add_subparsers`` object of the main parser."""
    from jndviewer.core.catalog import DEFAULT_JND_MODEL, JND_MODEL_NAMES

    map_parser = commands.add_parser(
        "map",
        help="compute a pixel-wise JND map",
        description="Compute the pixel-wise JND map of an image and write it as a colour-mapped PNG with a colour "
        "bar (gray levels) or as raw float32 data (.npy, .tif).",
    )
    map_parser.add_argument("image", type=Path, help="input image (PNG, JPEG, WebP, TIFF, BMP, AVIF, HEIF)")
    map_parser.add_argument(
        "--model", default=DEFAULT_JND_MODEL, choices=JND_MODEL_NAMES, help="JND model (default %(default)s)"
    )
    map_parser.add_argument(
        "--device", default="auto", help="auto (CUDA when present, for the torch engine), cpu, cuda, cuda:N or mps"
    )
    map_parser.add_argument(
        "--engine",
        default="auto",
        choices=ENGINES,
        help="numpy: chou1995, yang2005 and wu2017 on the CPU without importing torch (the same maps to float32 "
        "rounding); torch: the torch models (CPU, CUDA, MPS); auto (default): numpy on the CPU up to the image size "
        "where torch's threads win, else torch",
    )
    map_parser.add_argument(
        "--border",
        default="replicate",
        choices=("replicate", "zero"),
        help="replicate (default) or zero (the public reference code's zero padding and border masks)",
    )
    map_parser.add_argument(
        "-o",
        "--output",
        type=Path,
        help="output .png, .npy, .tif or .tiff (default IMAGE.MODEL.png in the current folder)",
    )
    map_parser.add_argument("--components", action="store_true", help="also write every component of the model")
    map_parser.add_argument("--vmax", type=positive_float,
                            help="upper end of the PNG colour scale (default: 99.9th percentile)")
    map_parser.add_argument("--max-pixels", type=pixel_count, help="refuse larger images (default 120 MP; 2e8 works)")


def choose_engine(engine: str, model: str, device: str, pixels: int) -> str:
    """``numpy`` or ``torch`` for one map of ``pixels`` pixels; one sentence where ``--engine numpy`` cannot serve.

    ``auto`` takes the NumPy form for a model that has one, on ``--device auto`` or ``cpu``, up to the model's
    :data:`~jndviewer.core.jnd.numpy_models.ONE_SHOT_NUMPY_UP_TO` pixels. On ``--device auto`` that also means a
    machine with a GPU computes a small map on the CPU: the GPU needs torch, whose import alone (about 0.85 s on the
    2-core machine) takes longer than the whole NumPy map; ``--device cuda`` or ``--engine torch`` choose the GPU.
    """
    from jndviewer.core.jnd.numpy_models import NUMPY_MODELS, ONE_SHOT_NUMPY_UP_TO

    on_cpu = device.strip().lower() in NUMPY_DEVICES
    if engine == "torch":
        return "torch"
    if engine == "numpy":
        if model not in NUMPY_MODELS:
            raise JndViewerError(
                f"{model} has no NumPy form ({', '.join(NUMPY_MODELS)} have one); use --engine torch or auto."
            )
        if not on_cpu:
            if not re.fullmatch(r"cuda(:\d+)?|mps", device.strip().lower()):
                raise JndViewerError(f"'{device}' is not a device jndviewer knows; use auto, cpu, cuda, cuda:N or mps.")
            raise JndViewerError(f"The NumPy engine computes on the CPU, not on {device}; use --engine torch there.")
        return "numpy"
    fits = pixels <= ONE_SHOT_NUMPY_UP_TO.get(model, -1)
    return "numpy" if on_cpu and fits else "torch"


def _torch_map(args: argparse.Namespace, image: Any) -> tuple[Any, dict[str, Any], str, str, float]:
    """The map by the torch model: threshold and components as arrays, the model's title, the device, seconds."""
    import atexit
    import gc

    import torch

    from jndviewer.core.device import describe_device, select_device
    from jndviewer.core.image import luma_tensor
    from jndviewer.core.jnd import compiled, create_model

    device = select_device(args.device)
    model = create_model(args.model, border=args.border)
    luma = luma_tensor(image, device=device)
    start = time.perf_counter()
    with compiled.for_one_map(args.model, image.width * image.height):
        jnd = model(luma)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elapsed = time.perf_counter() - start
    # At the process's exit, with the heap frozen, the shutdown's garbage collections skip the objects that
    # importing torch made (about 0.2 s of a one-shot map). Registered once, however often map runs in-process.
    atexit.unregister(gc.freeze)
    atexit.register(gc.freeze)
    components = {name: value[0, 0].cpu().numpy() for name, value in jnd.components.items()}
    return jnd.threshold[0, 0].cpu().numpy(), components, model.title, describe_device(device), elapsed


def _numpy_map(args: argparse.Namespace, image: Any) -> tuple[Any, dict[str, Any], str, str, float]:
    """The map by the model's NumPy form, as :func:`_torch_map` returns it."""
    from jndviewer.core.jnd.numpy_models import TITLES, compute_map

    luma = image.luma()
    start = time.perf_counter()
    threshold, components = compute_map(args.model, luma, border=args.border)
    return threshold, components, TITLES[args.model], "cpu (NumPy)", time.perf_counter() - start


def run_map(args: argparse.Namespace) -> int:
    from jndviewer.core.image import load
    from jndviewer.core.render import save_map

    image = load(args.image, max_pixels=args.max_pixels)
    engine = choose_engine(args.engine, args.model, args.device, image.width * image.height)
    compute = _numpy_map if engine == "numpy" else _torch_map
    threshold, components, title, where, elapsed = compute(args, image)
    output = args.output or Path(f"{args.image.stem}.{args.model}.png")
    written = [save_map(threshold, output, vmax=args.vmax, title=f"{args.image.name}  ·  {title}  ·  JND threshold")]
    if args.components:
        for name, values in components.items():
            path = output.with_name(f"{output.stem}.{name}{output.suffix}")
            label = "gray levels" if name != "pattern_complexity" else "orientation bins"
            if name in ("edge_weight", "edge_protection"):
                label = "weight"
            written.append(save_map(values, path, title=f"{args.image.name}  ·  {title}  ·  {name}", label=label))
    print(
        f"{args.image.name}: {image.width}x{image.height}, {args.model} on {where} "
        f"in {elapsed * 1000:.0f} ms; JND mean {threshold.mean():.2f}, min {threshold.min():.2f}, "
        f"max {threshold.max():.2f} gray levels"
    )
    for path in written:
        print(f"wrote {path}")
    return 0
