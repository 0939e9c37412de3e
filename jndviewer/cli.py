"""jndviewer's command line: ``jndviewer [IMAGE]`` opens the explorer, ``jndviewer map|models ...`` run jobs.

Every user-caused error (bad file, unknown model, unavailable device) ends the command with one line on stderr and
exit status 2; nothing is written half-way for the file that failed. The exit statuses are defined once, in
``jndviewer.core.errors``; what predict, export and ladder write is handled by ``jndviewer.core.outputs``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from jndviewer import __version__
from jndviewer.cli_explorer import EXPLORER_USAGE, run_explorer
from jndviewer.cli_lessons import add_lessons_parser, run_lessons
from jndviewer.cli_map import add_map_parser, run_map
from jndviewer.cli_options import (
    TRAINING_LABELS,
    level_spec,
    pixel_count,
    positive_float,
    positive_int,
    shared_images_folder,
    training_labels,
)
from jndviewer.cli_study import add_study_parser, run_study
from jndviewer.cli_train import add_train_parser, run_train
from jndviewer.core.errors import EXIT_INTERRUPTED, EXIT_USAGE, JndViewerError

COMMANDS = ("map", "models", "train", "codecs", "ladder", "calibrate", "predict", "export", "study", "lessons",
            "desktop-entry")


class _Parser(argparse.ArgumentParser):
    """A parser whose errors are one line (the usage block before them buried the sentence); every subcommand's
    parser is of this class too (``add_subparsers`` makes its parsers of the parent's class)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _ppd(text: str) -> float:
    """A viewing distance in pixels per degree within the range every predictor takes (checked before any work)."""
    from jndviewer.core.viewing import PPD_RANGE

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of pixels per degree") from None
    low, high = PPD_RANGE
    if not low <= value <= high:  # also nan and inf
        raise argparse.ArgumentTypeError(f"{text} pixels per degree is outside {low:g}-{high:g}")
    return value


def build_parser() -> argparse.ArgumentParser:
    from jndviewer.core.catalog import JND_MODEL_NAMES, POOLINGS, SUBBAND
    from jndviewer.core.pwjnd.registry import PREDICTORS
    from jndviewer.core.pwjnd.search import STRATEGIES
    from jndviewer.core.viewing import DEFAULT_PPD, FLICKER, SIDE_BY_SIDE, TASKS

    parser = _Parser(
        prog="jndviewer",
        description=f"Explore just-noticeable distortion (JND) in images. {EXPLORER_USAGE}",
    )
    parser.add_argument("--version", action="version", version=f"jndviewer {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    add_map_parser(commands)
    commands.add_parser("models", help="list the JND models and their components")
    commands.add_parser("codecs", help="list the codecs, their levels and whether each is available here")

    ladder = commands.add_parser(
        "ladder",
        help="rate-distortion table of one image through one codec",
        description="Encode an image at every level (or --levels) of a codec and write the rate-distortion table: "
        "level, bytes, bpp, PSNR, SSIM, encode+decode ms.",
    )
    ladder.add_argument("image", type=Path)
    ladder.add_argument("--codec", default="jpeg", help="codec name (see 'jndviewer codecs') or folder:PATH")
    ladder.add_argument("--levels", type=level_spec,
                        help="LOW:HIGH[:STEP] or a comma list, e.g. 1:100 or 10,50,90 (default: all)")
    ladder.add_argument("-o", "--output", type=Path, help="table.csv or table.json (default, or -: print CSV)")
    ladder.add_argument("--max-pixels", type=pixel_count, help="refuse larger images (default 120 MP; 2e8 works)")

    add_train_parser(commands)
    predictors = "; ".join(f"{name}: {info.description}" for name, info in PREDICTORS.items())

    def add_predictor_options(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--codec", default="jpeg", help="codec name (see 'jndviewer codecs') or "
                         "folder:PATH[,scheme=bpg][,better=high][,source=FILE][,family=heif]")
        sub.add_argument("--predictor", default="visibility", choices=tuple(PREDICTORS),
                         help=f"{predictors} (default %(default)s)")
        sub.add_argument(
            "--jnd-model", choices=(SUBBAND, *JND_MODEL_NAMES),
            help="subband (band-limited contrast thresholds) or a pixel JND model (default: the calibrated one)",
        )
        sub.add_argument(
            "--ppd", type=_ppd, help=f"viewing condition in pixels per degree, 5-760 (default {DEFAULT_PPD:g}: "
            "24-inch 1080p at 60 cm)",
        )
        sub.add_argument(
            "--task", choices=TASKS, help=f"viewing task: {SIDE_BY_SIDE} (the images next to each other, MCL-JCI's "
            f"protocol; the default) or {FLICKER} (alternating in place 8 times a second, KonJND-1k's; distortion "
            "shows at much better quality)",
        )
        sub.add_argument("--pooling", choices=POOLINGS, help="how the training-free predictor pools its visibility "
                         "map (default: the calibrated one for the task: Minkowski-2 side by side, Minkowski-4 "
                         "flicker, for the subband model)")
        sub.add_argument("--threshold", type=positive_float, help="decision threshold (default: calibrated)")
        sub.add_argument("--strategy", choices=tuple(STRATEGIES),
                         help="search strategy over the levels (default: the predictor's own)")
        sub.add_argument("--weights", type=Path, help="weights file of a trained predictor (default: the shipped one)")
        sub.add_argument("--jobs", type=positive_int, help="predict: images predicted in parallel (default 2, or "
                         "fewer when there are fewer images or cores); export works one image at a time here")
        on_dask = sub.add_mutually_exclusive_group()
        on_dask.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                             help="run on the workers of this Dask scheduler, one task per image (jndviewer[dask])")
        on_dask.add_argument("--dask-local", type=positive_int, metavar="N",
                             help="run on a Dask LocalCluster of N worker processes on 127.0.0.1 (jndviewer[dask])")
        sub.add_argument("--max-pixels", type=pixel_count,
                         help="refuse larger images and folder-ladder files (default 120 MP; 2e8 works)")

    predict = commands.add_parser(
        "predict",
        help="predict the picture-wise JND of images",
        description="Predict the level at which a viewer first notices the codec's distortion, for each image (files "
        "or folders). Resumable: images already in the output are skipped. One error line per bad file; a "
        "'note:' line first when the prediction rests on less than a fit for the codec and viewing condition "
        "(kept in each result as its caveats).",
    )
    predict.add_argument("images", nargs="+", type=Path)
    predict.add_argument("-o", "--output", type=Path, required=True,
                         help="results.json or results.csv (merged, resumable), or - for CSV on stdout (no resume)")
    add_predictor_options(predict)

    export = commands.add_parser(
        "export",
        help="write images at their predicted PW-JND level (for --task at --ppd), with a JSON sidecar",
        description="Encode an image at its predicted PW-JND, keeping EXIF and the ICC profile where the format can "
        "hold them, and write OUTPUT plus OUTPUT.json. Given a folder, write the whole set into the -o folder.",
    )
    export.add_argument("image", type=Path, help="an image, or a folder of images")
    export.add_argument("-o", "--output", type=Path, required=True, help="output file, or folder for a folder input")
    export.add_argument("--decoded", action="store_true",
                        help="write the decoded image at the JND as PNG instead of the codec's file (JND images for "
                        "training sets; needed to see the learned codecs' output outside jndviewer)")
    add_predictor_options(export)

    calibrate = commands.add_parser(
        "calibrate",
        help="fit a PW-JND predictor's decision to reference labels",
        description="Fit a predictor's decision to reference labels and write its calibration. For the training-free "
        "visibility predictor: score every level of each labelled image with every JND model and pooling, fit the "
        "decision thresholds to the labels (smallest mean absolute error) and write the calibration file.",
    )
    calibratable = tuple(name for name, info in PREDICTORS.items() if info.calibrate is not None)
    calibrate.add_argument("--predictor", default="visibility", choices=calibratable,
                           help="the predictor to calibrate (default %(default)s)")
    calibrate.add_argument("--labels", type=Path, help=f"reference-label CSV (default: {TRAINING_LABELS}), or "
                           "study:DB for the answers of a study (written by default to your own calibration file, "
                           "used when JNDVIEWER_CALIBRATION names it)")
    calibrate.add_argument("--images", type=Path, help="folder the label paths are relative to (default: ../shared's)")
    calibrate.add_argument("--codec", default="jpeg")
    calibrate.add_argument("--display", default="standard_fhd", help="standard_fhd (38 ppd) or standard_4k (75 ppd)")
    calibrate.add_argument("--task", default=SIDE_BY_SIDE, choices=TASKS, help="the viewing task of the labels")
    calibrate.add_argument(
        "--models", default="subband,chou1995,yang2005,wu2013,wu2017", help="subband and/or pixel JND models"
    )
    calibrate.add_argument("--model-ppds", default="13.3,19,26.6,38", help="candidate model ppds (analysis scales)")
    calibrate.add_argument("--cache", type=Path, default=Path("runs/calibration"), help="per-image score cache")
    calibrate.add_argument("-o", "--output", type=Path, help="calibration JSON (default: the packaged one)")
    calibrate.add_argument("--threads", type=positive_int, default=1)
    add_study_parser(commands)
    add_lessons_parser(commands)
    commands.add_parser("desktop-entry", help="add jndviewer (with its icon) to this user's applications menu")
    return parser


def _predictor_options(args: argparse.Namespace) -> dict:
    """The predictor options given on the command line (None: not given; the predictor's default)."""
    weights = None if args.weights is None else str(args.weights)
    return {"jnd_model": args.jnd_model, "pooling": args.pooling, "threshold": args.threshold,
            "strategy": args.strategy, "weights": weights}


def _describe_folder(spec: str, codec: Any = None) -> None:
    """Say on stderr what was found in a folder ladder: its scheme, better end, source and calibration family."""
    from jndviewer.core.codecs import FOLDER_PREFIX, create_codec

    if spec.startswith(FOLDER_PREFIX):
        print(f"jndviewer: {(codec or create_codec(spec)).describe()}", file=sys.stderr)


def _say_caveats(predictor: Any, codec: Any) -> None:
    """Say on stderr, before any work, where the predictor's PW-JND for this codec and condition rests on less than a
    fit for them (a borrowed or distant calibration, a weak fit, a codec the network never saw)."""
    for caveat in predictor.caveats_for(codec):
        print(f"jndviewer: note: {caveat}", file=sys.stderr)


def _condition(args: argparse.Namespace) -> Any:
    """The viewing condition given on the command line."""
    from jndviewer.core.viewing import ViewingCondition

    given = {"ppd": args.ppd, "task": args.task}
    return ViewingCondition(**{k: v for k, v in given.items() if v is not None})


def run_predict(args: argparse.Namespace) -> int:
    from jndviewer.core.batch import collect_images
    from jndviewer.core.batch_dask import DaskTarget
    from jndviewer.core.codecs import create_codec
    from jndviewer.core.outputs import predict_to_file
    from jndviewer.core.pwjnd.registry import create_predictor
    from jndviewer.core.result_keys import without_defaults

    images = collect_images(args.images)
    if not images:
        raise JndViewerError("No images were found in the given paths.")
    options, condition = _predictor_options(args), _condition(args)
    predictor = create_predictor(args.predictor, options, condition=condition)
    codec = create_codec(args.codec, max_pixels=args.max_pixels)  # an unknown codec: one sentence before any work
    _describe_folder(args.codec, codec)
    _say_caveats(predictor, codec)
    return predict_to_file(args.output, images, codec_spec=args.codec, predictor=args.predictor,
                           options=without_defaults(args.predictor, predictor, options, condition.task),
                           condition=condition, jobs=args.jobs, max_pixels=args.max_pixels,
                           dask=DaskTarget.from_args(args))


#: File name suffixes that name one format: an exported file may use any of its format's.
SAME_FORMAT = {".jpg": (".jpg", ".jpeg", ".jpe"), ".heic": (".heic", ".heif"), ".jp2": (".jp2", ".j2k", ".jpf")}


def run_export(args: argparse.Namespace) -> int:
    from jndviewer.core.batch import collect_images
    from jndviewer.core.batch_dask import DaskTarget, WorkerRequest
    from jndviewer.core.codecs import create_codec
    from jndviewer.core.outputs import export_images, export_targets
    from jndviewer.core.pwjnd.registry import check_request, create_predictor

    codec = create_codec(args.codec, max_pixels=args.max_pixels)
    _describe_folder(args.codec, codec)
    check_request(args.predictor, _predictor_options(args), _condition(args))
    dask = DaskTarget.from_args(args)  # None: here; one sentence when dask is asked for but not installed
    if args.jobs is not None and dask is None:
        print("jndviewer: note: export works through the images one at a time on this machine; --jobs applies to "
              "predict (--dask-local N, with jndviewer[dask], exports in parallel).", file=sys.stderr)
    folder_mode = args.image.is_dir()
    images = collect_images([args.image])
    if not images:
        raise JndViewerError(f"{args.image} holds no images.")
    suffix = ".png" if args.decoded else codec.suffix
    if not folder_mode and args.decoded and args.output.suffix.lower() != ".png":
        raise JndViewerError(f"--decoded writes a PNG image; name the output {args.output.stem}.png.")
    if not folder_mode and args.output.suffix.lower() != suffix and suffix == ".jndv":
        raise JndViewerError(f"{args.output.name} would hold the {codec.name} codec's bitstream (.jndv) that only "
                             "jndviewer reads; name it .jndv, or add --decoded to write the decoded image as PNG.")
    if str(args.output) == "-":
        raise JndViewerError("export writes image files and their sidecars; give -o a file or folder name, not -.")
    if not folder_mode and not args.decoded and suffix != ".jndv" \
            and args.output.suffix.lower() not in SAME_FORMAT.get(suffix, (suffix,)):
        raise JndViewerError(f"{args.output.name} would hold a {codec.name} file; name it "
                             f"{args.output.stem}{suffix}, or add --decoded to write the decoded image as PNG.")
    targets = export_targets(args.image, args.output, images, suffix, folder_mode)
    predictor = create_predictor(args.predictor, _predictor_options(args), condition=_condition(args))
    _say_caveats(predictor, codec)
    request = WorkerRequest(args.codec, args.predictor, _predictor_options(args), _condition(args), args.decoded)
    return export_images(images, targets, codec, predictor, batch=folder_mode, max_pixels=args.max_pixels,
                         dask=dask, request=request, decoded=args.decoded)


def run_calibrate(args: argparse.Namespace) -> int:
    import torch

    from jndviewer.core.assets import calibration_file
    from jndviewer.core.pwjnd.registry import predictor_info

    torch.set_num_threads(args.threads)
    if args.labels is not None and str(args.labels).startswith("study:"):
        return _calibrate_from_study(args)
    calibrate = predictor_info(args.predictor).calibrate
    if calibrate is None:
        raise JndViewerError(f"The {args.predictor} predictor has nothing to calibrate.")
    calibrate(
        args.labels or training_labels("--labels"), args.images or shared_images_folder("--images"),
        models=tuple(args.models.split(",")), codec=args.codec, display=args.display, task=args.task,
        model_ppds=tuple(float(v) for v in args.model_ppds.split(",")),
        cache=args.cache, output=args.output or calibration_file(), log=lambda line: print(line, flush=True),
    )
    return 0


def _calibrate_from_study(args: argparse.Namespace) -> int:
    """``calibrate --labels study:DB``: the training-free predictor's thresholds fitted to people's answers."""
    from jndviewer.core.assets import CALIBRATION_ENV
    from jndviewer.core.study.calibrate import calibrate_from_study
    from jndviewer.core.study.store import default_database

    database = Path(str(args.labels).removeprefix("study:")).expanduser()
    if not database.is_file():
        raise JndViewerError(f"There is no study database at {database}.")
    output = args.output or default_database().with_name("calibration-study.json")
    calibrate_from_study(database, output, predictor=args.predictor, log=lambda line: print(line, flush=True))
    print(f"To predict with it: {CALIBRATION_ENV}={output} jndviewer ...")
    return 0


def run_codecs() -> int:
    from jndviewer.core.codecs import codec_catalog

    for info in codec_catalog():
        state = "available" if info.available else f"unavailable: {info.reason}"
        print(f"{info.name:12s} {info.title}")
        print(f"{'':12s} {info.level_name} {info.levels}, {info.better} is better; {state}")
    print(f"{'folder:PATH':12s} a folder of pre-compressed files of one image (NAME_QQQ.ext, MCL-JCI, KonJND-1k);")
    print(f"{'':12s} options ,scheme=generic|mcl-jci|jpeg|bpg ,better=high|low ,source=FILE "
          ",family=jpeg|webp|avif|heif")
    return 0


def parse_levels(text: str | None, available: tuple[int, ...]) -> list[int]:
    """Levels from 'LOW:HIGH[:STEP]' or '10,50,90', restricted to what the codec has (one-sentence errors)."""
    if not text:
        return list(available)
    try:
        if ":" in text:
            parts = [int(p) for p in text.split(":")]
            if len(parts) not in (2, 3):
                raise ValueError
            low, high, step = parts[0], parts[1], parts[2] if len(parts) == 3 else 1
            wanted = list(range(low, high + 1, step))
        else:
            wanted = [int(p) for p in text.split(",")]
    except ValueError:
        raise JndViewerError(f"--levels {text!r} is not LOW:HIGH[:STEP] or a comma-separated list.") from None
    missing = [level for level in wanted if level not in available]
    if missing:
        raise JndViewerError(
            f"The codec has no level {missing[0]}; its levels run from {available[0]} to {available[-1]}."
        )
    return wanted


def run_ladder(args: argparse.Namespace) -> int:
    from jndviewer.core.codecs import create_codec
    from jndviewer.core.image import load
    from jndviewer.core.outputs import ladder_to

    image = load(args.image, max_pixels=args.max_pixels)
    codec = create_codec(args.codec, max_pixels=args.max_pixels)  # a folder ladder's files: the same limit
    levels = parse_levels(args.levels, codec.levels())
    return ladder_to(args.output, image, args.image, codec, levels)


def run_models() -> int:
    from jndviewer.core.jnd import MODELS

    for name, cls in MODELS.items():
        print(f"{name:10s} {cls.title}: {cls.citation}")
        print(f"{'':10s} components: {', '.join(cls.component_names)}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        if not argv or (argv[0] not in COMMANDS and argv[0] not in ("-h", "--help", "--version")):
            return run_explorer(argv)  # no command: the explorer (Qt is imported only there)
        args = parser.parse_args(argv)
        if args.command == "map":
            return run_map(args)
        if args.command == "models":
            return run_models()
        if args.command == "codecs":
            return run_codecs()
        if args.command == "ladder":
            return run_ladder(args)
        if args.command == "calibrate":
            return run_calibrate(args)
        if args.command == "predict":
            return run_predict(args)
        if args.command == "export":
            return run_export(args)
        if args.command == "train":
            return run_train(args)
        if args.command == "study":
            return run_study(args)
        if args.command == "lessons":
            return run_lessons(args)
        if args.command == "desktop-entry":
            from jndviewer.desktop import install_desktop_entry

            print("\n".join(f"wrote {path}" for path in install_desktop_entry()))
            return 0
        return run_explorer([])
    except JndViewerError as err:
        print(f"jndviewer: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("jndviewer: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    raise SystemExit(main())
