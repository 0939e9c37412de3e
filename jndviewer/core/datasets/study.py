"""Our own study database (``jndviewer study``) as a picture-wise JND dataset: the observers' critical levels."""

from __future__ import annotations

from pathlib import Path

from jndviewer.core.datasets.sample import JNDSample, check_label_options, pwjnd_from_subjects
from jndviewer.core.errors import JndViewerError

__all__ = ["read_study"]


def read_study(
    db_path: str | Path,
    *,
    task: str | None = None,
    ppd: float | None = None,
    observer: str | None = None,
    aggregate: str = "mean",
) -> list[JNDSample]:
    """Read a study database: one sample per (item, codec, task, ppd rounded to 0.1) of its finished non-catch runs.

    Parameters
    ----------
    db_path
        The study database (``study.sqlite``).
    task
        Keep only ``side-by-side`` or ``flicker`` sessions.
    ppd
        Keep only the sessions whose ppd rounds (to 0.1) to this one's.
    observer
        Keep only one observer's runs.
    aggregate
        ``"mean"`` (default), ``"median"`` or ``"surP"``
        (:func:`~jndviewer.core.datasets.sample.pwjnd_from_subjects`).

    Returns
    -------
    list of JNDSample
        Sorted by item, codec, task and ppd. ``source`` is the item's source id (its item id when it has none);
        ``reference`` is the **whole** reference image: when ``meta["crop"]`` is ``(x, y, width, height)`` the
        observers saw only that crop, and a trainer must crop the reference (and every encode) the same way.
        ``jnd_per_subject`` are the runs' critical levels, first-visible (``meta["jnd_point"]``), a run that saw
        nothing counting as one unit beyond the worst level; ``meta["observers"]`` names the run of each value (an
        observer who did the item twice appears twice). ``jnd_level`` is aggregated from the runs' worst invisible
        *ladder* levels (one ladder level better than the critical level, which need not be one unit on a ladder
        with steps), given in ``meta["last_invisible"]``. Also in ``meta``: ``item_id``, ``task``, ``ppd`` (rounded),
        ``crop``, ``aggregate``, ``database``, ``sessions``.

    Raises
    ------
    JndViewerError
        A missing or foreign database, a bad option, or no runs left after the filters.
    """
    from jndviewer.core.study.results import critical_levels, items_by_key, last_invisible_level, opened_store, ppd_key
    from jndviewer.core.study.sets import reference_path
    from jndviewer.core.viewing import TASKS

    check_label_options(aggregate)
    if task is not None and task not in TASKS:
        raise JndViewerError(f"Unknown viewing task {task!r}; choose {' or '.join(TASKS)}.")
    path = Path(db_path).expanduser()
    with opened_store(path) as store:
        results = [
            r for r in store.run_results()
            if (task is None or r.task == task) and (ppd is None or ppd_key(r.ppd) == ppd_key(ppd))
            and (observer is None or r.observer == observer)
        ]  # fmt: skip
    items = items_by_key(results)
    sessions: dict[tuple, set[str]] = {}
    for r in results:
        sessions.setdefault((r.item.item_id, r.item.codec, r.task, ppd_key(r.ppd)), set()).add(r.session_id)
    samples = []
    for key, runs in critical_levels(results).items():
        item = items[key]
        worst = item.ladder()[-1]
        beyond = worst - 1 if item.better == "higher" else worst + 1
        values = tuple(float(beyond if critical is None else critical) for _, critical in runs)
        lossless = [last_invisible_level(item, critical) for _, critical in runs]
        label = pwjnd_from_subjects(lossless, item.levels, item.better, jnd_point="last-invisible",
                                    aggregate=aggregate)  # fmt: skip
        samples.append(JNDSample(
            source=item.source or item.item_id, reference=reference_path(item), codec=item.codec,
            levels=item.levels, better=item.better, distorted={}, jnd_level=label, jnd_per_subject=values,
            meta={
                "item_id": item.item_id, "task": key[2], "ppd": key[3], "crop": item.crop,
                "jnd_point": "first-visible", "observers": tuple(o for o, _ in runs),
                "last_invisible": tuple(lossless), "aggregate": aggregate, "database": path,
                "sessions": tuple(sorted(sessions[key])),
            },
        ))  # fmt: skip
    if not samples:
        what = ", ".join(f"{k} {v}" for k, v in (("task", task), ("ppd", ppd), ("observer", observer)) if v)
        raise JndViewerError(f"The study database {path} has no finished runs{' for ' + what if what else ''}.")
    return samples
