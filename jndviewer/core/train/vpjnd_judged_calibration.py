"""Calibrate a VP-JNDnet file as its predictor judges (``jndviewer train vpjnd-calibrate WEIGHTS ...``).

Each network's own calibration (:func:`jndviewer.core.train.vpjnd_trainer.fit_calibration`) is fitted on the patches
its trainer cached, 4 of each training image. The predictor judges the whole covering grid (12 patches of a BSDS500
image, 24 of a Kodak one) and, for an ensemble, the mean of its members' logits; judged so, the networks lean
lenient (the model card: seed 0 errs by -2.25 levels on average for JPEG on the whole grid of its validation images,
less on its cached patches). This step fits one logit delta per (codec family, task, ppd) on top of the members'
calibrations, on training ladders judged as the predictor judges each level (the whole grid, the members' mean
calibrated logit), against the given labels (the reference labels read at every level by default). The PW-JND it
fits is the exhaustive one over the judged levels (the predictor's block search visits other levels of the same
decisions). The fit is :func:`jndviewer.core.train.samples.fit_condition_deltas`, the trainer's.

Judging a ladder costs a network pass per level, so only the levels near each label are judged (``window`` levels
either side) and every ``stride``-th level elsewhere; the judged logits are kept per (image, codec) in a cache
folder, tied to the weights file's content, so an interrupted run continues where it stopped.

Measured on the shipped file (model card, "Checked and not adopted"): it lowered the error on the training ladders
(2.77 -> 2.47 levels, 2.56 cross-fitted) and raised it on Kodak (2.70 -> 2.77), so the shipped file is not so
calibrated.
"""

from __future__ import annotations

import hashlib
import os
import random
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from jndviewer.core.errors import JndViewerError, ModelError
from jndviewer.core.pwjnd.patch_pooling import (
    calibration_delta,
    calibration_key,
    parse_calibration_key,
    pool_patch_logits,
)
from jndviewer.core.pwjnd.vpjnd.network import TRAINING_PPD
from jndviewer.core.train.samples import fit_condition_deltas, pwjnd_from_decisions
from jndviewer.core.viewing import ViewingCondition

#: Levels judged either side of each label of a ladder (every level there).
JUDGED_WINDOW = 6
#: Elsewhere on the ladder, every this many levels (and its two ends).
JUDGED_STRIDE = 5


@torch.no_grad()
def member_level_logits(network: Any, rgb: np.ndarray, codec: Any, levels: Sequence[int]) -> np.ndarray:
    """Each member's pooled logit of the whole covering grid at ``levels``, before any condition offset or
    calibration (they do not depend on the condition): an array of shape (members, levels). (One level per pass:
    passes of 8 or 16 levels' patches were slower on these CPUs, 0.11 s a level against 0.076.)"""
    # the streams do not depend on the condition: any task the networks know
    state = network.reference_state(rgb, ViewingCondition(TRAINING_PPD, network.config.tasks[0]))
    logits = np.zeros((len(network.nets), len(levels)))
    for column, level in enumerate(levels):
        scores = network.member_scores(state, codec.encode(rgb, level).decoded)
        for row, (quality, weight) in enumerate(scores):
            logits[row, column] = float(pool_patch_logits(quality, weight, [len(state.positions)])[0][0])
    return logits


def judged_levels(ordered: Sequence[int], labels: Sequence[int], window: int = JUDGED_WINDOW,
                  stride: int = JUDGED_STRIDE) -> list[int]:
    """The levels of a ladder (``ordered``: all of them) to judge for its ``labels``: every level within ``window``
    of a label, every ``stride``-th of the others and both ends; ascending."""
    levels = sorted(ordered)
    chosen = {levels[0], levels[-1], *levels[::stride]}
    chosen |= {level for level in levels if any(abs(level - label) <= window for label in labels)}
    return sorted(chosen)


def weights_fingerprint(path: str | Path) -> str:
    """A short hash of a weights file's bytes (the cache's judged logits belong to one file)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


@dataclass
class JudgedLadder:
    """One (image, codec) ladder as the predictor judges it: levels and each member's pooled logit there."""

    image: str
    codec: str
    levels: list[int]
    logits: np.ndarray


#: The cache's layout; a file of another is judged again.
CACHE_FORMAT = 1


class JudgedLogitCache:
    """The judged ladders of one weights file, a small ``.npz`` per ladder, written atomically (a killed run loses
    at most the ladder it was judging). Each entry records the image file it was judged from (path, size,
    modification time): another image, or the same path changed, is judged again."""

    def __init__(self, folder: str | Path, fingerprint: str) -> None:
        self.folder = Path(folder) / fingerprint
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise JndViewerError(f"Cannot make the cache folder {self.folder}: {err.strerror or err}.") from err

    def _path(self, image: str, codec: str) -> Path:
        return self.folder / f"{hashlib.sha256(f'{image}|{codec}'.encode()).hexdigest()[:24]}.npz"

    @staticmethod
    def stamp(image_file: Path) -> str:
        status = image_file.stat()
        return f"{CACHE_FORMAT}|{image_file.resolve()}|{status.st_size}|{status.st_mtime_ns}"

    def get(self, image: str, codec: str, levels: Sequence[int], stamp: str, members: int) -> JudgedLadder | None:
        path = self._path(image, codec)
        try:
            with np.load(path) as stored:
                kept_levels, logits = [int(v) for v in stored["levels"]], np.array(stored["logits"])
                kept_stamp = str(stored["stamp"])
        except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile):  # absent or torn: judged again
            return None
        if kept_levels != list(levels) or kept_stamp != stamp or logits.shape != (members, len(levels)):
            return None
        return JudgedLadder(image, codec, kept_levels, logits)

    def put(self, ladder: JudgedLadder, stamp: str) -> None:
        path = self._path(ladder.image, ladder.codec)
        temporary = path.with_name(path.name + ".tmp.npz")
        try:
            np.savez(temporary, levels=np.array(ladder.levels), logits=ladder.logits, stamp=np.array(stamp))
            os.replace(temporary, path)
        except OSError as err:
            temporary.unlink(missing_ok=True)
            raise JndViewerError(f"Cannot write the cache file {path}: {err.strerror or err}.") from err


def judge_ladders(network: Any, labels: Sequence[Any], images: Path, cache: JudgedLogitCache,
                  progress: Callable[[int, int, str], None] | None = None) -> list[JudgedLadder]:
    """The judged ladders of every (image, codec) of ``labels`` (from the cache when there)."""
    from jndviewer.core.codecs import create_codec
    from jndviewer.core.image import load

    by_pair: dict[tuple[str, str], list[int]] = {}
    for label in labels:
        by_pair.setdefault((label.image, label.codec), []).append(label.pwjnd_level)
    missing = sorted({image for image, _ in by_pair if not (images / image).is_file()})
    if missing:  # before any work
        raise JndViewerError(f"{len(missing)} images of these labels are not under {images} "
                             f"({images / missing[0]}, ...).")
    ladders = []
    for done, ((image, codec_name), label_levels) in enumerate(sorted(by_pair.items())):
        codec = create_codec(codec_name)
        levels = judged_levels(list(codec.ordered_worst_to_best()), label_levels)
        stamp = cache.stamp(images / image)
        ladder = cache.get(image, codec_name, levels, stamp, len(network.nets))
        if ladder is None:
            rgb = load(images / image).rgb8()
            ladder = JudgedLadder(image, codec_name, levels, member_level_logits(network, rgb, codec, levels))
            cache.put(ladder, stamp)
        ladders.append(ladder)
        if progress is not None:
            progress(done + 1, len(by_pair), f"{image} {codec_name}")
    return ladders


def calibration_rows(network: Any, ladders: Sequence[JudgedLadder], labels: Sequence[Any]
                     ) -> list[tuple[str, list[int], np.ndarray, str, float]]:
    """Per label: ``(key, levels, the members' mean calibrated logit there, better, label)``, the rows
    :func:`fit_condition_deltas` fits."""
    from jndviewer.core.codecs import create_codec
    from jndviewer.core.pwjnd.labels import DISPLAY_PPD
    from jndviewer.core.pwjnd.sgjnd.network import codec_family_name

    judged = {(ladder.image, ladder.codec): ladder for ladder in ladders}
    better = {codec: create_codec(codec).better for codec in {label.codec for label in labels}}
    rows = []
    for label in labels:
        ladder = judged[label.image, label.codec]
        condition = ViewingCondition(DISPLAY_PPD.get(label.display, label.ppd), label.task)
        offsets = np.array(network.member_offsets(label.codec, condition))
        key = calibration_key(codec_family_name(label.codec, network.config.codec_families), condition.task,
                              condition.ppd)
        rows.append((key, ladder.levels, (ladder.logits + offsets[:, None]).mean(axis=0), better[label.codec],
                     float(label.pwjnd_level)))
    return rows


def with_deltas(rows: Sequence[tuple[str, list[int], np.ndarray, str, float]], deltas: dict[str, float]
                ) -> list[tuple[str, list[int], np.ndarray, str, float]]:
    """:func:`calibration_rows` with each key's delta added to its logits."""
    return [(key, levels, logits + deltas.get(key, 0.0), better, label)
            for key, levels, logits, better, label in rows]


def judged_errors(rows: Sequence[tuple[str, list[int], np.ndarray, str, float]]) -> dict[str, list[float]]:
    """Per condition key, the signed errors (predicted - label) of the exhaustive PW-JND over the judged levels."""
    errors: dict[str, list[float]] = {}
    for key, levels, logits, better, label in rows:
        predicted = pwjnd_from_decisions(list(levels), [bool(v > 0) for v in logits], better)
        errors.setdefault(key, []).append(predicted - label)
    return errors


def first_half_sources(labels: Sequence[Any], seed: int) -> set[str]:
    """Half of the labels' source images, drawn by ``seed`` (the cross-fit's halves: these and the others)."""
    sources = sorted({label.image for label in labels})
    random.Random(seed).shuffle(sources)
    return set(sources[: len(sources) // 2])


def calibrated_members(members: list[dict[str, Any]], deltas: dict[str, float], record: dict[str, Any]
                       ) -> list[dict[str, Any]]:
    """The members of an export with ``deltas`` added to each one's calibration, and ``record`` kept under their
    training record's ``judged_calibration``.

    Each member's new delta at a key of its own or of ``deltas`` is the sum of the two calibrations there as the
    predictor reads them (:func:`calibration_delta`: interpolated in log ppd, the nearest fit beyond them), so at
    every ppd the predictor adds the member's old delta plus the fitted one (both are linear between the union of
    their distances)."""
    calibrated = []
    for member in members:
        old = dict(member.get("calibration") or {})
        calibration = {}
        for key in sorted({*old, *deltas}):
            family, task, ppd = parse_calibration_key(key)
            calibration[key] = round(calibration_delta(old, family, task, ppd)
                                     + calibration_delta(deltas, family, task, ppd), 6)
        training = {**(member.get("training") or {}), "judged_calibration": record}
        calibrated.append({**member, "calibration": calibration, "training": training})
    return calibrated


def some_ladders(labels: Sequence[Any], most_per_codec: int, seed: int) -> list[Any]:
    """The labels of at most ``most_per_codec`` source images per codec, chosen by ``seed``."""
    kept: set[tuple[str, str]] = set()
    for codec in sorted({label.codec for label in labels}):
        sources = sorted({label.image for label in labels if label.codec == codec})
        random.Random(f"{seed}|{codec}").shuffle(sources)
        kept |= {(image, codec) for image in sources[:most_per_codec]}
    return [label for label in labels if (label.image, label.codec) in kept]


def judged_table(record: dict[str, Any]) -> str:
    """The record of :func:`calibrate_as_judged` as a table: per condition, the fitted delta, the judged PW-JND's
    bias and MAE before and after, and the MAE with the cross-fit's deltas (without any, it is the MAE before)."""
    lines = [f"{record['ladders']} ladders, {record['labels_count']} labels ({record['labels']}); PW-JND error in "
             "levels over the judged levels;",
             "cross-fit: deltas fitted on half of the source images, measured on the other half, both ways",
             f"{'codec|task|ppd':24s} {'delta':>6s} {'bias':>6s} {'MAE':>6s} {'after':>6s} {'cross-fit':>9s}"]
    for key in [*sorted(record["deltas"]), "all"]:
        delta = f"{record['deltas'][key]:+6.2f}" if key in record["deltas"] else " " * 6
        bias = record["bias_before"].get(key)
        lines.append(f"{key:24s} {delta} {'' if bias is None else f'{bias:+6.2f}':>6s} "
                     f"{record['mae_before'][key]:6.2f} {record['mae_after'][key]:6.2f} "
                     f"{record['crossfit_mae'][key]:9.2f}")
    return "\n".join(lines)


def refuse_evaluation_images(labels: Sequence[Any]) -> None:
    """Kodak is the evaluation set: calibrating on it is refused in one sentence."""
    from jndviewer.core.datasets.sample import is_kodak_source

    kodak = sorted({label.image for label in labels if is_kodak_source(label.image)})
    if kodak:
        raise JndViewerError(f"These labels include {len(kodak)} Kodak images ({kodak[0]}, ...), the held-out "
                             "evaluation set; calibrate on the training images' labels.")


def mean_abs(errors: dict[str, list[float]]) -> dict[str, float]:
    """Per key, and under "all" over every label, the mean absolute error."""
    every = [abs(e) for values in errors.values() for e in values]
    return {**{key: float(np.mean(np.abs(values))) for key, values in sorted(errors.items())},
            "all": float(np.mean(every)) if every else float("nan")}


def calibrate_as_judged(weights: str | Path, labels_path: str | Path, images: str | Path, cache: str | Path,
                        export: str | Path, seed: int = 0, most_per_codec: int | None = None,
                        progress: Callable[[int, int, str], None] | None = None) -> dict[str, Any]:
    """Judge the training ladders of ``labels_path`` with the VP-JNDnet file ``weights`` as the predictor does, fit
    a logit delta per condition on top of its members' calibrations, and write the calibrated file to ``export``.

    Returns the record kept in the file: the deltas, the judged error per condition before and after, and the
    cross-fit check (deltas fitted on one half of the source images, measured on the other, both ways).
    ``most_per_codec``: judge at most this many ladders of each codec, chosen by ``seed`` (default: all)."""
    from jndviewer.core.pwjnd.labels import read_labels
    from jndviewer.core.pwjnd.vpjnd.config import ENSEMBLE_VERSION, EXPORT_FORMAT
    from jndviewer.core.pwjnd.vpjnd.predictor import DEFAULT_WEIGHTS, load_network
    from jndviewer.core.train.common import save_checkpoint
    from jndviewer.core.train.vpjnd_ensemble import export_members

    weights, export = Path(weights), Path(export)
    if not weights.is_file():
        raise ModelError(f"VP-JNDnet weights {weights} do not exist.")
    for kept in (weights, Path(DEFAULT_WEIGHTS)):
        if export.exists() and kept.exists() and os.path.samefile(export, kept):
            raise ModelError(f"The calibrated file would overwrite {kept.name}; export to another file.")
    if export.is_dir():
        raise ModelError(f"The export {export} is a folder; give a file name.")
    labels = read_labels(labels_path)
    refuse_evaluation_images(labels)
    if not labels:
        raise JndViewerError(f"{labels_path} holds no labels.")
    if most_per_codec is not None:
        labels = some_ladders(labels, most_per_codec, seed)
    network = load_network(weights)
    for task in sorted({label.task for label in labels}):
        network.config.task_index(task)  # one sentence, before any work, for a task the networks were not trained for
    members = export_members(weights)
    cache_folder = JudgedLogitCache(cache, weights_fingerprint(weights))
    ladders = judge_ladders(network, labels, Path(images), cache_folder, progress)
    rows = calibration_rows(network, ladders, labels)
    before = judged_errors(rows)
    deltas = fit_condition_deltas(rows)
    after = judged_errors(with_deltas(rows, deltas))
    first = first_half_sources(labels, seed)
    halves = ([row for row, label in zip(rows, labels, strict=True) if label.image in first],
              [row for row, label in zip(rows, labels, strict=True) if label.image not in first])
    crossfit: dict[str, list[float]] = {}  # (without deltas, the two halves together are ``before``)
    for fit_on, measure_on in (halves, halves[::-1]):
        for key, values in judged_errors(with_deltas(measure_on, fit_condition_deltas(fit_on))).items():
            crossfit.setdefault(key, []).extend(values)
    record = {
        "labels": Path(labels_path).name, "ladders": len(ladders), "labels_count": len(labels),
        "window": JUDGED_WINDOW, "stride": JUDGED_STRIDE, "deltas": deltas, "weights": weights.name,
        "mae_before": mean_abs(before), "mae_after": mean_abs(after),
        "bias_before": {**{key: float(np.mean(v)) for key, v in sorted(before.items())},
                        "all": float(np.mean([e for values in before.values() for e in values]))},
        "crossfit_mae": mean_abs(crossfit),
    }
    calibrated = calibrated_members(members, deltas, record)
    payload = ({"format": EXPORT_FORMAT, "version": ENSEMBLE_VERSION, "members": calibrated} if len(calibrated) > 1
               else {"format": EXPORT_FORMAT, "version": 1, **calibrated[0]})
    save_checkpoint(export, payload)
    try:
        load_network(export)  # read back as the predictor reads it
    except ModelError:
        export.unlink(missing_ok=True)
        raise
    return record


__all__ = [
    "CACHE_FORMAT",
    "JUDGED_STRIDE",
    "JUDGED_WINDOW",
    "JudgedLadder",
    "JudgedLogitCache",
    "calibrate_as_judged",
    "calibrated_members",
    "calibration_rows",
    "first_half_sources",
    "judge_ladders",
    "judged_errors",
    "judged_levels",
    "judged_table",
    "mean_abs",
    "member_level_logits",
    "refuse_evaluation_images",
    "some_ladders",
    "weights_fingerprint",
    "with_deltas",
]
