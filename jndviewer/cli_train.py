"""``jndviewer train``: the learned parts (the learned codec, SG-JND, VP-JNDnet and VP-JNDnet ensembles), trained on
real images; the trainers live in :mod:`jndviewer.core.train`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from jndviewer.cli_options import (
    TRAINING_LABELS,
    TRAINING_LABELS_EVERY_LEVEL,
    distance_experts,
    positive_int,
    shared_images_folder,
    training_labels,
)
from jndviewer.core.errors import JndViewerError
from jndviewer.core.pwjnd.vpjnd.config import AUGMENTS, DIFFERENCES, WEIGHT_HEADS, VPJNDConfig


def add_train_parser(commands: Any) -> None:
    """Register ``train`` and its kinds on the main parser's subcommands."""
    from jndviewer.core.catalog import JND_MODEL_NAMES

    train = commands.add_parser("train", help="train the learned parts (codec, predictors) on real images")
    train_kinds = train.add_subparsers(dest="train_kind", metavar="WHAT", required=True)
    codec = train_kinds.add_parser(
        "codec",
        help="the variable-rate learned codec (bmshj2018-factorized with gains)",
        description="Train the variable-rate learned codec on folders of images (Kodak is refused: it is the held-out "
        "evaluation set). Resumes from RUN/checkpoint.pt when it exists; exports the final weights.",
    )
    codec.add_argument("--data", nargs="+", help="image folders (default: ../shared's BSDS500 and McMaster)")
    codec.add_argument("--run", default="runs/codec", help="folder for the checkpoint and log (default %(default)s)")
    codec.add_argument("--export", type=Path, help="final weights (default: the packaged learned_codec.pt)")
    codec.add_argument("--steps", type=positive_int, default=30_000)
    codec.add_argument("--batch", type=positive_int, default=8)
    codec.add_argument("--crop", type=positive_int, default=128)
    codec.add_argument("--channels", type=positive_int, default=64)
    codec.add_argument("--latent-channels", type=positive_int, default=96)
    codec.add_argument("--threads", type=positive_int, default=1, help="torch CPU threads (default 1)")
    codec.add_argument("--device", default="cpu")
    codec.add_argument("--validate-every", type=positive_int, default=1000)
    codec.add_argument("--export-only", action="store_true", help="export the run's latest checkpoint and stop")
    sgjnd = train_kinds.add_parser(
        "sgjnd",
        help="the SG-JND picture-wise JND network (EfficientNet-Lite0 features, patch quality and weight heads)",
        description="Train SG-JND on picture-wise JND datasets given as KIND:PATH[,option=value...] (kinds: reference, "
        "mcl-jci, konjnd, cnn-jnd). Split by source image; Kodak is never used. Resumes from RUN when it exists.",
    )
    sgjnd.add_argument("--data", nargs="+",
                       help="datasets (KIND:PATH,...; default: the JPEG, WebP and AVIF labels of "
                       f"{TRAINING_LABELS_EVERY_LEVEL} "
                       "for both viewing tasks at both distances)")
    sgjnd.add_argument("--run", default="runs/sgjnd")
    sgjnd.add_argument("--export", type=Path, help="final weights (default: the packaged sgjnd.pt)")
    sgjnd.add_argument("--steps", type=positive_int, default=4000)
    sgjnd.add_argument("--threads", type=positive_int, default=2)
    sgjnd.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda, cuda:N or mps")
    sgjnd.add_argument(
        "--patch-keep-min", type=int, default=None,
        help="patch dropout: each training sample keeps at least this many patches (0: all; default: the config's)",
    )
    sgjnd.add_argument("--heads", type=positive_int, default=None,
                       help="heads trained from different random starts and averaged (default: the config's, 3)")
    sgjnd.add_argument(
        "--reference-chroma", choices=("full", "420"), default="full",
        help="the reference patches' chroma: full (default) or 420 (reduced like the 4:2:0 training sources)",
    )
    sgjnd.add_argument(
        "--patch-visibility", choices=("none", "subband"), default="subband",
        help="what the heads read besides the semantic features: each patch's subband visibility (default) or none",
    )
    sgjnd.add_argument(
        "--patch-layout", choices=("cover", "tiles"), default="cover",
        help="cover (default): a grid of patches over the whole image; tiles: the seed's non-overlapping tiles",
    )
    sgjnd.add_argument("--patches", type=positive_int, default=None,
                       help="the most patches per image (default: the config's, 24)")
    sgjnd.add_argument(
        "--backbone-differences", action="store_true",
        help="the seed's distortion evidence: |distorted - reference| backbone features (default: the reference only)",
    )
    sgjnd.add_argument("--distance-experts", type=distance_experts, metavar="PPD,PPD|none",
                       help="a set of heads per viewing distance (default: 38,75, those the labels are near); none: "
                       "one set for all distances with a learned slope per octave")
    sgjnd.add_argument("--calibrate", action="store_true",
                       help="after training, fit a logit delta per codec family, task and ppd on the training images")
    vpjnd = train_kinds.add_parser(
        "vpjnd",
        help="the VP-JNDnet picture-wise JND network (reference, distorted and pixel-JND-map streams)",
        description="Train VP-JNDnet on picture-wise JND datasets given as KIND:PATH[,option=value...] (as for sgjnd). "
        "Split by source image; Kodak is never used. Resumes from RUN when it exists.",
    )
    vpjnd.add_argument("--data", nargs="+", help="datasets (default: as for sgjnd, of the labels read on the "
                       f"curves' grid, {TRAINING_LABELS})")
    vpjnd.add_argument("--run", default="runs/vpjnd")
    vpjnd.add_argument("--cache", help="the patch cache folder (default RUN/cache; runs of an ablation can share one)")
    vpjnd.add_argument("--export", type=Path,
                       help="final weights (default: RUN/vpjnd.pt; the packaged vpjnd.pt is an ensemble of such "
                       "files, made by 'train vpjnd-ensemble')")
    vpjnd.add_argument("--steps", type=positive_int, default=2400)
    vpjnd.add_argument("--threads", type=positive_int, default=2)
    vpjnd.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda, cuda:N or mps")
    vpjnd.add_argument("--jnd-model", choices=(*JND_MODEL_NAMES, "none"), default="wu2017",
                       help="the pixel JND model feeding the JND-map stream, or none (default %(default)s)")
    vpjnd.add_argument("--width", type=positive_int, default=VPJNDConfig.width,
                       help="channels of the first stage; stages have 1, 2, 4, 8 times (published: 32)")
    vpjnd.add_argument("--hidden", type=positive_int, default=VPJNDConfig.hidden,
                       help="hidden units of the quality and weight heads, which read the stage-4 maps averaged "
                       "over positions (published: 512 on the flattened maps; default %(default)s)")
    vpjnd.add_argument("--difference", choices=DIFFERENCES, default=VPJNDConfig.difference,
                       help="how the quality head pools |F_ref - F_dist| over the stage-4 positions: absolute (their "
                       "mean), rms, max; or mean (the first form, the difference of averaged maps) "
                       "(default %(default)s)")
    vpjnd.add_argument("--weight-head", choices=WEIGHT_HEADS, default=VPJNDConfig.weight_head,
                       help="how patch weights are made positive (published: relu, which can die; default %(default)s)")
    # (the trainer's defaults, which the test of this command checks: importing the trainer here would load torch)
    vpjnd.add_argument("--seed", type=int, default=0,
                       help="the start, the validation split, the calibration pairs and each step's draws "
                       "(default %(default)s)")
    vpjnd.add_argument("--cache-patches", type=positive_int, default=4,
                       help="patches per image in the cache, evenly from the predictor's covering grid; each step "
                       "keeps a random subset of 1 to all of them (default %(default)s)")
    vpjnd.add_argument("--augment", choices=AUGMENTS, default="none",
                       help="dihedral: each training group under a random turn or mirror of the square "
                       "(default %(default)s)")
    ensemble = train_kinds.add_parser(
        "vpjnd-ensemble",
        help="one VP-JNDnet file from several trained networks (e.g. of different --seed): their logits averaged",
        description="Write the VP-JNDnet networks of the given files (single networks or ensembles, one configuration) "
        "as one ensemble file, whose predictor averages the members' calibrated logits.",
    )
    ensemble.add_argument("members", nargs="+", type=Path, help="VP-JNDnet files written by 'train vpjnd --export'")
    ensemble.add_argument("--export", type=Path, required=True, help="the ensemble file to write")
    judged = train_kinds.add_parser(
        "vpjnd-calibrate",
        help="fit VP-JNDnet's per-condition logit deltas on training ladders judged as the predictor judges them",
        description="Judge the training ladders of LABELS with a VP-JNDnet file as its predictor does (the whole "
        "covering grid, the members' mean logit), fit one logit delta per codec family, task and ppd on top of its "
        "calibration, and write the calibrated file. Kodak is refused; resumes from the cache.",
    )
    judged.add_argument("weights", type=Path, help="a VP-JNDnet file (single network or ensemble)")
    judged.add_argument("--export", type=Path, required=True, help="the calibrated file to write")
    judged.add_argument("--labels", help=f"reference labels (default: {TRAINING_LABELS_EVERY_LEVEL})")
    judged.add_argument("--images", type=Path, help="the folder the labels' image paths are under (default: "
                        "../shared/data/images)")
    judged.add_argument("--cache", type=Path, default=Path("runs/vpjnd_judged"),
                        help="where judged ladders are kept (default %(default)s)")
    judged.add_argument("--ladders-per-codec", type=positive_int,
                        help="judge at most this many ladders of each codec (default: all)")
    judged.add_argument("--seed", type=int, default=0, help="which ladders, and the cross-fit halves")
    judged.add_argument("--threads", type=positive_int, default=2)


def run_train(args: argparse.Namespace) -> int:
    from jndviewer.core.assets import LEARNED_CODEC_WEIGHTS, SGJND_WEIGHTS, model_file

    if args.train_kind == "codec":
        from jndviewer.core.device import select_device
        from jndviewer.core.train.codec_trainer import CodecTrainingConfig, export_from_checkpoint, train_codec

        config = CodecTrainingConfig(
            data=args.data or [str(shared_images_folder("--data") / name) for name in ("bsds500", "mcmaster")],
            run_dir=args.run, export=str(args.export or model_file(LEARNED_CODEC_WEIGHTS)), steps=args.steps,
            batch=args.batch, crop=args.crop,
            channels=args.channels, latent_channels=args.latent_channels, threads=args.threads,
            device=str(select_device(args.device)), validate_every=args.validate_every,
        )
        path = export_from_checkpoint(config) if args.export_only else train_codec(config)
        print(f"wrote {path}")
        return 0
    if args.train_kind == "sgjnd":
        from jndviewer.core.device import select_device
        from jndviewer.core.pwjnd.sgjnd import SGJNDConfig
        from jndviewer.core.train.sgjnd_trainer import SGJNDTrainingConfig, train_sgjnd

        experts = {} if args.distance_experts is None else {"distance_experts": args.distance_experts,
                                                             "distance_offset": not args.distance_experts}
        network = SGJNDConfig(reference_chroma=args.reference_chroma, patch_visibility=args.patch_visibility,
                              backbone_differences=args.backbone_differences, patch_layout=args.patch_layout, **experts,
                              **({} if args.patches is None else {"patches": args.patches})).to_dict()
        data = args.data or _default_training_data(network["tasks"], TRAINING_LABELS_EVERY_LEVEL)
        export = str(args.export or model_file(SGJND_WEIGHTS))
        config = SGJNDTrainingConfig(data=data, run_dir=args.run, export=export, steps=args.steps,
                                     threads=args.threads, device=str(select_device(args.device)), config=network,
                                     calibrate=args.calibrate, experts_from_labels=args.distance_experts is None,
                                     **({} if args.patch_keep_min is None else {"patch_keep_min": args.patch_keep_min}),
                                     **({} if args.heads is None else {"heads": args.heads}))
        print(f"wrote {train_sgjnd(config)}")
        return 0
    if args.train_kind == "vpjnd":
        from jndviewer.core.device import select_device
        from jndviewer.core.train.vpjnd_trainer import VPJNDTrainingConfig, train_vpjnd

        network = VPJNDConfig(jnd_model=args.jnd_model, width=args.width, hidden=args.hidden,
                              weight_head=args.weight_head, difference=args.difference).to_dict()
        config = VPJNDTrainingConfig(
            data=args.data or _default_training_data(network["tasks"], TRAINING_LABELS), run_dir=args.run,
            cache_dir=args.cache,
            export=str(args.export or Path(args.run) / "vpjnd.pt"), steps=args.steps, threads=args.threads,
            device=str(select_device(args.device)), config=network, augment=args.augment, seed=args.seed,
            cache_patches=args.cache_patches,
        )
        print(f"wrote {train_vpjnd(config)}")
        return 0
    if args.train_kind == "vpjnd-ensemble":
        from jndviewer.core.train.vpjnd_ensemble import write_ensemble

        print(f"wrote {write_ensemble(args.members, args.export)}")
        return 0
    if args.train_kind == "vpjnd-calibrate":
        return _calibrate_vpjnd(args)
    raise JndViewerError(f"Nothing to train called {args.train_kind!r}.")


def _calibrate_vpjnd(args: argparse.Namespace) -> int:
    import torch
    from tqdm import tqdm

    from jndviewer.core.train.vpjnd_judged_calibration import calibrate_as_judged, judged_table

    torch.set_num_threads(args.threads)
    labels = args.labels or training_labels("--labels", TRAINING_LABELS_EVERY_LEVEL)
    bars: list[tqdm] = []  # made at the first ladder, so a refusal before any work is its sentence alone

    def progress(done: int, total: int, what: str) -> None:
        if not bars:
            bars.append(tqdm(total=total, desc="judging ladders", unit="ladder"))
        bars[0].set_postfix_str(what, refresh=False)
        bars[0].update(done - bars[0].n)

    try:
        images = args.images or shared_images_folder("--images")
        record = calibrate_as_judged(args.weights, labels, images, args.cache, args.export,
                                     seed=args.seed, most_per_codec=args.ladders_per_codec, progress=progress)
    finally:
        for bar in bars:
            bar.close()
    print(judged_table(record))
    print(f"wrote {args.export} (the whole record is kept in it, under each network's training.judged_calibration)")
    return 0


def _default_training_data(tasks: tuple[str, ...] | list[str], labels: str) -> list[str]:
    """The predictors' default training sets (:func:`reference_training_specs`) of a source checkout's ``labels``
    and ../shared's images, for ``tasks`` (side by side when none)."""
    from jndviewer.core.datasets.reference_labels import reference_training_specs
    from jndviewer.core.viewing import SIDE_BY_SIDE

    return reference_training_specs(training_labels("--data", labels), shared_images_folder("--data"),
                                    tasks or (SIDE_BY_SIDE,))


__all__ = ["add_train_parser", "run_train"]
