"""Calibrate the training-free predictor's thresholds against reference PW-JND labels (``jndviewer calibrate``).

For every labelled training image: the JND map of the (resampled) reference once, then every level of the labels'
grid is encoded and its visibility pooled in several ways (:data:`VARIANTS`). For a threshold t the exhaustive
prediction of an image is the lowest level from which every better level scores <= t; with ``tail_max[i] =
max(scores[i:])`` (non-increasing) that is the number of levels whose tail maximum exceeds t, so all thresholds are
tried at once by sorting. The threshold with the smallest mean absolute error in levels wins, per model and pooling;
the (model, pooling) with the smallest error becomes the default. Scores are cached per image in ``--cache`` so that a
refit costs nothing.
"""

from __future__ import annotations

import itertools
import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from jndviewer.core.errors import JndViewerError
from jndviewer.core.pwjnd.calibration import condition_key, default_variant, variant_key
from jndviewer.core.pwjnd.labels import ReferenceLabel, read_labels
from jndviewer.core.viewing import SIDE_BY_SIDE, ViewingCondition

#: The poolings scored during calibration: (pooling, parameter name, value).
VARIANTS: tuple[tuple[str, str, float], ...] = (
    ("minkowski", "minkowski_exponent", 2.0),
    ("minkowski", "minkowski_exponent", 4.0),
    ("minkowski", "minkowski_exponent", 8.0),
    ("max_window", "window", 8),
    ("max_window", "window", 16),
    ("max_window", "window", 32),
    ("fraction", "", 0.0),
    ("minkowski", "minkowski_exponent", 1.0),
)


#: Candidate viewing conditions (pixels per degree) at which the pixel models apply at native resolution.
MODEL_PPDS = (13.3, 19.0, 26.6, 38.0)


def level_grid(codec: str) -> tuple[int, ...]:
    """The levels the JOD curves (and so the labels) were computed at, worst first.

    The model-backed codecs (``autoencoder``, ``learned``; tools/decode_ladder.py) are labelled at every level, so
    their grid is the codec's own ladder: the autoencoder's runs 9 .. 1 (level 1 degrades least)."""
    if codec in ("jpeg", "webp"):
        return (*range(1, 100, 2), 100)
    if codec in ("avif", "heif"):  # HEIF's curves (tools/cvvdp/jod_curves.py) use AVIF's grid
        return (*range(1, 100, 4), 100)
    if codec in ("autoencoder", "learned"):
        from jndviewer.core.codecs import create_codec

        return tuple(int(level) for level in create_codec(codec).ordered_worst_to_best())
    raise JndViewerError(f"No label level grid is known for codec {codec!r}.")


#: Every level of a quality-factor ladder: the levels of labels read on curves of every level (tools/cvvdp).
EVERY_QUALITY_LEVEL = tuple(range(1, 101))
#: The codecs whose ladders are quality factors 1-100 (their curves may be computed at every level).
QUALITY_CODECS = ("jpeg", "webp", "avif", "heif")


def label_grid(codec: str, label_levels: int | None = None) -> tuple[int, ...]:
    """The levels a label was read on (worst first): the codec's curve grid (:func:`level_grid`), or every quality
    level 1-100 when the label's curves were computed at every level (``label_levels``, a label's ``levels`` count,
    is then 100; the Kodak evaluation labels, tools/cvvdp/README.md "Kodak curves at every level") or at the grid and
    every level of the grid steps that hold the label of each of the two tasks (a count above the grid's by at most
    two steps' inner levels; the training labels read at every level, tools/cvvdp/README.md "Training curves at
    every level")."""
    grid = level_grid(codec)
    if label_levels is None or label_levels == len(grid):
        return grid
    if codec in QUALITY_CODECS:
        step = max(abs(b - a) for a, b in itertools.pairwise(grid))
        if label_levels == len(EVERY_QUALITY_LEVEL) or len(grid) < label_levels <= len(grid) + 2 * (step - 1):
            return EVERY_QUALITY_LEVEL
    raise JndViewerError(f"A {codec} label read on {label_levels} levels fits no known level grid "
                         f"({len(grid)} levels, the grid and the steps that hold the labels, or 100).")


def to_label_grid(level: int, codec: str, label_levels: int | None = None) -> int:
    """A predicted PW-JND read the way the labels are made: the worst level of the label grid (:func:`label_grid`)
    that is no worse than ``level``, since the prediction calls ``level`` and every better level invisible.

    Labels read on the curve grid (JPEG and WebP every 2 quality levels, AVIF and HEIF every 4; the training-free
    predictor's calibration labels) say only in which step a PW-JND lies, while the predictors search every level;
    without this reading, a perfect prediction would still be off by half a grid step on average (2 levels for
    AVIF). Labels read at every level (a ``label_levels`` above the grid's, :func:`label_grid`) leave it unchanged."""
    from jndviewer.core.datasets.sample import is_worse
    from jndviewer.core.pwjnd.labels import codec_better

    grid = label_grid(codec, label_levels)  # worst first
    better = codec_better(codec)
    return next((g for g in grid if not is_worse(g, level, better)), grid[-1])


def pooled_variants(visibility: Any) -> np.ndarray:
    """Every variant's score of one visibility map (1 x 1 x h x w), in :data:`VARIANTS` order."""
    from jndviewer.core.jnd.ops import window_sum_valid

    v = visibility.double()
    flat = v.flatten()
    peak = float(flat.max())
    scores = []
    for pooling, _, value in VARIANTS:
        if pooling == "minkowski":
            scores.append(0.0 if peak == 0 else peak * float(((flat / peak) ** value).mean()) ** (1.0 / value))
        elif pooling == "max_window":
            side = int(min(value, *v.shape[-2:]))
            scores.append(float((window_sum_valid(v, side) / (side * side)).max()))
        else:
            scores.append(float((flat > 1.0).double().mean()))
    return np.asarray(scores)


def score_image(
    rgb: np.ndarray,
    codec_name: str,
    model: str,
    ppd: float,
    levels: Sequence[int],
    model_ppds: Sequence[float] = MODEL_PPDS,
    device: Any = None,
) -> np.ndarray:
    """Scores (levels x model ppds x variants) of one image's ladder."""
    from jndviewer.core.codecs import create_codec
    from jndviewer.core.pwjnd.pooled_visibility import PooledVisibilityParams
    from jndviewer.core.visibility.scorer import VisibilityScorer

    codec = create_codec(codec_name)
    condition = ViewingCondition(ppd)
    scorers = [
        VisibilityScorer(rgb, PooledVisibilityParams(jnd_model=model, model_ppd=m), condition, device)
        for m in model_ppds
    ]
    scores = []
    for level in levels:
        decoded = codec.encode(rgb, level).decoded
        scores.append(np.stack([pooled_variants(scorer.visibility(decoded)) for scorer in scorers]))
    return np.stack(scores)


def predicted_positions(scores: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Exhaustive predictions (position in the grid) of one image for many thresholds at once."""
    tail_max = np.maximum.accumulate(scores[::-1])[::-1]  # non-increasing
    # position = number of levels whose tail maximum exceeds t (they are the first ones).
    return (tail_max[None, :] > thresholds[:, None]).sum(axis=1)


@dataclass
class Fit:
    threshold: float
    mae: float
    bias: float
    images: int


def fit_threshold(scores: list[np.ndarray], label_positions: list[int], levels: Sequence[int]) -> Fit:
    """The threshold minimising the mean absolute error in levels over images (one variant's scores each)."""
    return fit_threshold_grids(scores, label_positions, [levels] * len(scores))


def fit_threshold_grids(
    scores: Sequence[np.ndarray], label_positions: Sequence[int], grids: Sequence[Sequence[int]]
) -> Fit:
    """:func:`fit_threshold` for images with ladders of their own (a study's items): ``grids[i]`` are image i's
    levels, in the order of its scores; the error is in level units of each image's own ladder."""
    candidates = np.unique(np.concatenate(scores))
    candidates = np.concatenate([candidates, [candidates.max() * 2 + 1]])
    errors = np.zeros(len(candidates))
    biases = np.zeros(len(candidates))
    for image_scores, label, levels in zip(scores, label_positions, grids, strict=True):
        grid = np.asarray(levels, dtype=np.float64)
        positions = np.minimum(predicted_positions(image_scores, candidates), len(grid) - 1)
        difference = grid[positions] - grid[label]
        errors += np.abs(difference)
        biases += difference
    best = int(np.argmin(errors))
    # Place the threshold midway to the next candidate for robustness to tiny score changes.
    threshold = candidates[best] if best + 1 >= len(candidates) else 0.5 * (candidates[best] + candidates[best + 1])
    return Fit(float(threshold), float(errors[best] / len(scores)), float(biases[best] / len(scores)), len(scores))


def evaluate_threshold(
    scores: list[np.ndarray], label_positions: list[int], levels: Sequence[int], threshold: float
) -> dict:
    """MAE and bias in levels of a fixed threshold."""
    grid = np.asarray(levels, dtype=np.float64)
    predicted = [grid[min(int(predicted_positions(s, np.asarray([threshold]))[0]), len(grid) - 1)] for s in scores]
    truth = [grid[p] for p in label_positions]
    difference = np.asarray(predicted) - np.asarray(truth)
    return {"mae": float(np.abs(difference).mean()), "bias": float(difference.mean()), "images": len(scores)}


def collect_scores(
    labels: Sequence[ReferenceLabel],
    image_root: Path,
    model: str,
    ppd: float,
    cache: Path | None,
    progress: Callable[[int, int], None] | None = None,
    model_ppds: Sequence[float] = MODEL_PPDS,
) -> tuple[list[np.ndarray], list[int], tuple[int, ...]]:
    """Scores and label positions for labels of one codec (cached per image under ``cache``)."""
    from jndviewer.core.image import load

    codec = labels[0].codec
    levels = level_grid(codec)
    off_grid = next((label for label in labels if label.pwjnd_level not in levels), None)
    if off_grid is not None:
        raise JndViewerError(f"The {codec} label of {off_grid.image} ({off_grid.pwjnd_level}) is not on the curve grid "
                             "the thresholds are fitted on; calibrate on labels read on that grid (the training "
                             "labels), not on labels read at every level.")
    all_scores, positions = [], []
    tag = "-".join(f"{m:g}" for m in model_ppds)
    for index, label in enumerate(labels):
        key = f"{model}_{codec}_{ppd:g}_m{tag}_{label.image.replace('/', '_')}.npy"
        path = cache / key if cache else None
        scores = np.load(path) if path is not None and path.exists() else None
        if scores is None or scores.shape[-1] != len(VARIANTS):  # absent, or cached before a variant was added
            scores = score_image(load(image_root / label.image).rgb8(), codec, model, ppd, levels, model_ppds)
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                np.save(path, scores)
        all_scores.append(scores)
        positions.append(levels.index(label.pwjnd_level))
        if progress:
            progress(index + 1, len(labels))
    return all_scores, positions, levels


def calibrate(
    label_file: Path,
    image_root: Path,
    *,
    models: Sequence[str] = ("subband", "chou1995", "yang2005", "wu2013", "wu2017"),
    codec: str = "jpeg",
    display: str = "standard_fhd",
    task: str = SIDE_BY_SIDE,
    model_ppds: Sequence[float] = MODEL_PPDS,
    cache: Path | None = None,
    output: Path | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Fit every (model, pooling) on ``codec`` labels of ``task`` for ``display``; return (and write) the calibration.

    Pixel models are scored at each of ``model_ppds``; the subband model takes the viewing condition in its contrast
    sensitivity and is scored once. Scores do not depend on the task, so a second task reuses the ``cache``.

    Where the fit goes in the file (:mod:`jndviewer.core.pwjnd.calibration` reads it): the side-by-side JPEG fit at
    the file's display is the root, whose smallest MAE over every model in the file chooses the default variant;
    another codec's fit goes under ``codec_thresholds``; another task or display goes into its own section under
    ``conditions`` (``flicker@38``, ``side-by-side@75``), with the same layout. When ``output`` exists, the fitted
    models replace their entries in it and everything else is kept.
    """
    from jndviewer.core.catalog import SUBBAND
    from jndviewer.core.pwjnd.labels import DISPLAY_PPD

    labels = [lb for lb in read_labels(label_file) if lb.codec == codec and lb.display == display and lb.task == task]
    if not labels:
        raise JndViewerError(f"{label_file.name} has no {codec} labels for display {display} and the {task} task.")
    ppd = DISPLAY_PPD[display]
    thresholds: dict[str, dict[str, Any]] = {}
    for model in models:
        started = time.perf_counter()
        scales = (ppd,) if model == SUBBAND else tuple(model_ppds)
        scores, positions, levels = collect_scores(labels, image_root, model, ppd, cache, model_ppds=scales)
        thresholds[model] = {}
        for scale_index, model_ppd in enumerate(scales):
            for column, (pooling, _, value) in enumerate(VARIANTS):
                fit = fit_threshold([s[:, scale_index, column] for s in scores], positions, levels)
                thresholds[model][variant_key(pooling, value, model_ppd)] = asdict(fit)
        ranked = sorted(thresholds[model].items(), key=lambda item: item[1]["mae"])[:4]
        summary = ", ".join(f"{k} {v['mae']:.2f}" for k, v in ranked)
        seconds = time.perf_counter() - started
        log(f"{model} ({codec}, {task}, {ppd:g} ppd): best MAE in levels: {summary} ({seconds:.0f} s)")
    existing = json.loads(output.read_text()) if output is not None and output.exists() else None
    label_levels = np.asarray([lb.pwjnd_level for lb in labels])
    baseline = float(np.mean(np.abs(label_levels - np.median(label_levels))))
    root = existing is None or (task == SIDE_BY_SIDE and abs(float(existing.get("ppd", ppd)) - ppd) < 1e-6)
    if root and codec == "jpeg":
        result = _root_calibration(existing, thresholds, label_file, display, ppd, len(labels), model_ppds, baseline)
    else:
        if existing is None:
            raise JndViewerError("Calibrate JPEG side by side first: the other codecs, tasks and displays are added "
                                 "to that calibration file.")
        result = existing
        section = result if root else result.setdefault("conditions", {}).setdefault(
            condition_key(task, ppd), {"task": task, "ppd": ppd, "display": display}
        )
        if codec == "jpeg":
            section["thresholds"] = {**section.get("thresholds", {}), **thresholds}
            section.update(labels=label_file.name, images=len(labels), baseline_constant_mae=baseline)
        else:
            section.setdefault("codec_thresholds", {}).setdefault(codec, {}).update(thresholds)
            section.setdefault("codec_images", {})[codec] = len(labels)
            section.setdefault("codec_baseline_constant_mae", {})[codec] = baseline
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        temporary = output.with_name(output.name + ".tmp")  # readers never see half a file
        temporary.write_text(json.dumps(result, indent=1))
        os.replace(temporary, output)
        log(f"wrote {codec} thresholds for {task} at {ppd:g} ppd to {output}")
    return result


def _root_calibration(
    existing: dict[str, Any] | None, thresholds: dict[str, Any], label_file: Path, display: str, ppd: float,
    images: int, model_ppds: Sequence[float], baseline: float,
) -> dict[str, Any]:
    """The side-by-side JPEG fit as the file's root; its default is the smallest MAE over every model in it."""
    merged = dict(existing.get("thresholds", {})) if existing is not None and existing.get("codec") == "jpeg" else {}
    merged.update(thresholds)
    return {
        **(existing or {}),
        "format": "jndviewer.pwjnd_calibration",
        "labels": label_file.name,
        "codec": "jpeg",
        "display": display,
        "ppd": ppd,
        "task": SIDE_BY_SIDE,
        "images": images,
        "model_ppds": list(model_ppds),
        "baseline_constant_mae": baseline,
        "thresholds": merged,
        "default": default_variant(merged, ppd),
    }
