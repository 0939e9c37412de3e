"""``jndviewer [IMAGE] [--codec C] [--level L]``: open the explorer (the command line without a subcommand)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from jndviewer.core.errors import JndViewerError

#: How ``jndviewer --help`` says to open the explorer.
EXPLORER_USAGE = ("Without a command, jndviewer opens the explorer: jndviewer [IMAGE] [--codec CODEC|folder:PATH] "
                  "[--level LEVEL] (default: the bundled sample image, the last codec used).")


def explorer_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="jndviewer", description=EXPLORER_USAGE)
    parser.add_argument("image", nargs="?", type=Path, help="an image (default: the bundled sample)")
    parser.add_argument("--codec", help="the codec to open with, e.g. webp, or folder:PATH for a ladder folder "
                                        "(jndviewer codecs lists them)")
    parser.add_argument("--level", type=int, help="the level to show first")
    return parser


def check_explorer_request(image: Path | None, codec: str | None, level: int | None) -> None:
    """Refuse, in one sentence and before a window opens, what the explorer could not show."""
    if image is not None and not image.exists():
        raise JndViewerError(f"There is no file {image} (and {image.name!r} is not a jndviewer command; "
                             f"jndviewer --help lists them).")
    if codec is None:
        if level is not None:
            raise JndViewerError("--level needs --codec, so that the level means something.")
        return
    from jndviewer.core.codecs import FOLDER_PREFIX, create_codec

    available_codec = create_codec(codec)  # one sentence for an unknown codec or a bad folder
    if level is not None and level not in available_codec.levels():
        levels = available_codec.levels()
        raise JndViewerError(f"The {codec} codec has no level {level}; its levels run from {levels[0]} to "
                             f"{levels[-1]}.")
    if codec.startswith(FOLDER_PREFIX) and image is None and available_codec.source_path is None:
        raise JndViewerError(f"The folder ladder {codec.removeprefix(FOLDER_PREFIX)} has no source image that could "
                             f"be found; pass the source image as IMAGE.")


def run_explorer(argv: Sequence[str]) -> int:
    """Parse the explorer's command line, check it, and run the explorer."""
    args = explorer_parser().parse_args(list(argv))
    check_explorer_request(args.image, args.codec, args.level)
    image = args.image
    if image is None and args.codec and args.codec.startswith("folder:"):
        from jndviewer.core.codecs import create_codec

        image = create_codec(args.codec).source_path
    from jndviewer.app.main import run_app

    return run_app(image, codec=args.codec, level=args.level)
