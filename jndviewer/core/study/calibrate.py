"""Fit the training-free predictor's threshold to a study's own observers (``jndviewer calibrate --labels study:DB``).

The reference labels the packaged thresholds were fitted on are a proxy (ColorVideoVDP's JOD curves read at a
threshold per task); a study measures real people. For each (codec family, task, ppd) in the study, every level of
every study item's ladder is scored with the predictor's default visibility map and pooling for the task
(:func:`score_item`: :func:`jndviewer.core.pwjnd.calibrate.score_image` on the item's own ladder), and the threshold
with the smallest mean absolute error in levels against the observers' worst invisible levels is fitted
(:func:`jndviewer.core.pwjnd.calibrate.fit_threshold`; one label per run, so the fit follows the median observer).
The result is the packaged calibration with that one threshold replaced, in the section the predictor reads for the
condition (:mod:`jndviewer.core.pwjnd.calibration`): the root for side by side at the root's ppd, else
``conditions["<task>@<ppd>"]`` (created when missing); JPEG's fits under ``thresholds``, another codec family's under
``codec_thresholds``.

Each replaced entry keeps the packaged ``mae`` and ``bias`` (they choose the default variant, which must not move)
and adds ``study_mae``, ``study_bias``, ``packaged_threshold``, ``labels`` (``study:<database file>``),
``observers``, ``images`` and ``runs``; the file's ``study_fits`` lists every fit.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from jndviewer.core.errors import JndViewerError
from jndviewer.core.study import results as study_results
from jndviewer.core.study.model import RunResult, StudyItem

#: The predictor a study can calibrate (the only one with a threshold).
CALIBRATED_PREDICTOR = "visibility"


def label_position(item: StudyItem, critical: int | None) -> int:
    """A run's label as an index into the item's levels ordered worst to best (the order of the calibration's
    scores): its worst invisible level, the best level when even that was seen, the worst when nothing was."""
    n = len(item.levels)
    invisible = study_results.position(item, critical) - 1  # ladder position (0: best) of the last invisible level
    return n - 1 - min(max(invisible, 0), n - 1)


def fit_threshold_ladders(
    scores: Sequence[np.ndarray], label_positions: Sequence[int], grids: Sequence[Sequence[int]]
) -> Any:
    """:func:`jndviewer.core.pwjnd.calibrate.fit_threshold_grids`: ``grids[i]`` are item i's levels, worst to best."""
    from jndviewer.core.pwjnd.calibrate import fit_threshold_grids

    return fit_threshold_grids(scores, label_positions, grids)


def score_item(item: StudyItem, rgb: np.ndarray, model: str, ppd: float, model_ppd: float) -> np.ndarray:
    """Every variant's score (levels worst to best x :data:`~jndviewer.core.pwjnd.calibrate.VARIANTS`) of the item's
    ladder as the observers saw it: :func:`jndviewer.core.pwjnd.calibrate.score_image` for one analysis scale, with
    the item's codec (:func:`jndviewer.core.study.results.item_codec`: a cropped ``folder:`` ladder too)."""
    from jndviewer.core.pwjnd.calibrate import pooled_variants
    from jndviewer.core.pwjnd.pooled_visibility import PooledVisibilityParams
    from jndviewer.core.viewing import ViewingCondition
    from jndviewer.core.visibility.scorer import VisibilityScorer

    codec = study_results.item_codec(item)
    scorer = VisibilityScorer(rgb, PooledVisibilityParams(jnd_model=model, model_ppd=model_ppd), ViewingCondition(ppd))
    return np.stack([pooled_variants(scorer.visibility(codec.encode(rgb, level).decoded))
                     for level in item.ladder()[::-1]])  # fmt: skip


def _family(item: StudyItem) -> str:
    from jndviewer.core.codecs import create_codec

    return create_codec(item.codec).family


def _variant_column(params: Any, model_ppd: float) -> int:
    from jndviewer.core.pwjnd.calibrate import VARIANTS
    from jndviewer.core.pwjnd.calibration import variant_key

    wanted = params.variant().rsplit("@", 1)[0]
    for column, (pooling, _, value) in enumerate(VARIANTS):
        if variant_key(pooling, value, model_ppd).rsplit("@", 1)[0] == wanted:
            return column
    raise JndViewerError(f"The predictor's default pooling {wanted} is not one calibration can fit.")


def calibrate_from_study(
    db_path: Any,
    output_path: str | Path,
    *,
    predictor: str = CALIBRATED_PREDICTOR,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Fit the training-free predictor's threshold to the study's observers and write the calibration.

    Parameters
    ----------
    db_path
        The study database (or an open :class:`~jndviewer.core.study.store.StudyStore`).
    output_path
        The calibration JSON to write (atomically); the packaged one's layout and content, one threshold per (codec
        family, task, ppd) of the study replaced (module docstring).
    predictor
        Only ``visibility`` has a threshold.
    log
        Called with one line per fit.

    Returns
    -------
    dict
        The calibration written.

    Raises
    ------
    JndViewerError
        Another predictor, a database without finished runs, or no item whose codec can be scored.
    """
    from jndviewer.core.assets import calibration_file
    from jndviewer.core.catalog import SUBBAND
    from jndviewer.core.pwjnd.calibration import CALIBRATION_PPD, condition_key
    from jndviewer.core.pwjnd.pooled_visibility import default_params
    from jndviewer.core.study.exports import write_atomic
    from jndviewer.core.viewing import SIDE_BY_SIDE, TASK_WORDS

    if predictor != CALIBRATED_PREDICTOR:
        raise JndViewerError(f"Only the {CALIBRATED_PREDICTOR} predictor has a threshold to fit to a study, not "
                             f"{predictor!r}.")  # fmt: skip
    with study_results.opened_store(db_path) as store:
        runs = study_results.measured_runs(store.run_results())
        name = Path(store.path).name
    if not runs:
        raise JndViewerError(f"The study database {name} has no finished runs to calibrate on.")
    groups: dict[tuple[str, str, float], list[RunResult]] = defaultdict(list)
    for run in runs:
        try:
            family = _family(run.item)
        except JndViewerError as error:
            log(f"skipped {run.item.item_id}: {error}")
            continue
        groups[(family, run.task, study_results.ppd_key(run.ppd))].append(run)
    if not groups:
        raise JndViewerError(f"No item of the study database {name} has a codec that can be scored here.")

    calibration = json.loads(calibration_file().read_text())
    root_ppd = float(calibration.get("ppd", CALIBRATION_PPD))
    fits = []
    rgb_cache: dict[StudyItem, np.ndarray] = {}
    for (family, task, ppd), group in sorted(groups.items()):
        params = default_params(None, task)
        subband = params.jnd_model == SUBBAND
        model_ppd = ppd if subband else float(params.model_ppd)
        column = _variant_column(params, model_ppd)
        items = {run.item for run in group}
        item_scores: dict[StudyItem, np.ndarray] = {}
        for item in sorted(items, key=lambda i: i.item_id):
            if item not in rgb_cache:
                rgb_cache[item] = study_results.item_rgb(item)
            item_scores[item] = score_item(item, rgb_cache[item], params.jnd_model, ppd, model_ppd)[:, column]
        fit = fit_threshold_ladders(
            [item_scores[run.item] for run in group], [label_position(run.item, run.critical_level) for run in group],
            [run.item.ladder()[::-1] for run in group],
        )
        root = task == SIDE_BY_SIDE and abs(ppd - root_ppd) < 1e-6
        if root:
            section, section_ppd = calibration, root_ppd
        else:
            section = calibration.setdefault("conditions", {}).setdefault(
                condition_key(task, ppd), {"task": task, "ppd": ppd, "display": f"study:{name}"})
            section_ppd = float(section["ppd"])
        variant = params.variant()
        if subband:  # the subband model's fits are keyed by their section's distance
            variant = variant.rsplit("@", 1)[0] + f"@{section_ppd:g}"
        if family == "jpeg":
            fits_of_model = section.setdefault("thresholds", {}).setdefault(params.jnd_model, {})
        else:
            fits_of_model = section.setdefault("codec_thresholds", {}).setdefault(family, {}).setdefault(
                params.jnd_model, {})
        old = fits_of_model.get(variant, {})
        observers = len({run.observer for run in group})
        fits_of_model[variant] = {
            **old, "threshold": fit.threshold, "mae": old.get("mae", fit.mae), "bias": old.get("bias", fit.bias),
            "study_mae": fit.mae, "study_bias": fit.bias, "packaged_threshold": old.get("threshold"),
            "labels": f"study:{name}", "observers": observers, "images": len(items), "runs": len(group),
        }  # fmt: skip
        where = "root" if root else f"conditions[{condition_key(task, ppd)}]"
        fits.append({"codec": family, "task": task, "ppd": ppd, "section": where, "model": params.jnd_model,
                     "variant": variant, **fits_of_model[variant]})  # fmt: skip
        before = "none" if old.get("threshold") is None else f"{old['threshold']:.4g}"
        log(f"{family}, {TASK_WORDS[task]}, {ppd:g} ppd: {params.jnd_model} {variant} threshold {before} -> "
            f"{fit.threshold:.4g} (MAE {fit.mae:.2f} levels, bias {fit.bias:+.2f}; {observers} observers, "
            f"{len(items)} images, {len(group)} runs)")  # fmt: skip
    calibration["study_fits"] = fits
    output = write_atomic(output_path, json.dumps(calibration, indent=1))
    log(f"wrote {output}")
    return calibration


__all__ = ["CALIBRATED_PREDICTOR", "calibrate_from_study", "fit_threshold_ladders", "label_position", "score_item"]
