"""Our human-calibrated proxy PW-JND labels (:mod:`jndviewer.core.pwjnd.labels`) as :class:`JNDSample` objects."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from jndviewer.core.codecs import CODECS
from jndviewer.core.codecs.base import Codec
from jndviewer.core.codecs.standard import HeifCodec, JpegXlCodec, PillowCodec
from jndviewer.core.datasets._tables import existing_file
from jndviewer.core.datasets.sample import JNDSample
from jndviewer.core.errors import JndViewerError
from jndviewer.core.pwjnd.labels import PROXY_DISPLAY, read_labels
from jndviewer.core.viewing import SIDE_BY_SIDE, TASKS

__all__ = ["codec_ladder", "read_reference_labels", "reference_training_specs"]


def codec_ladder(codec: str) -> tuple[tuple[int, ...], str]:
    """``(levels, better)`` of a registered standard codec (``jpeg``: 1..100, ``"higher"``).

    Codecs whose levels need a model or a folder (and unknown names) get the quality range 1..100, higher better.
    """
    cls: type[Codec] | None = CODECS.get(codec)
    if cls is not None and issubclass(cls, (PillowCodec, JpegXlCodec, HeifCodec)):
        return tuple(int(level) for level in cls().levels()), cls.better  # type: ignore[abstract]
    return tuple(range(1, 101)), "higher"


def reference_training_specs(labels: str | Path, images: str | Path, tasks: Sequence[str] = (SIDE_BY_SIDE,)
                             ) -> list[str]:
    """The predictors' default training sets as dataset specs: the JPEG, WebP and AVIF reference labels of ``labels``
    (resources/labels/pwjnd_reference_train_every_level.csv for SG-JND, pwjnd_reference_train.csv, read on the curve
    grid, for VP-JNDnet) over the images under ``images``, for each of ``tasks`` at both
    distances (cvvdp's displays ``standard_fhd``, 38 ppd, and ``standard_4k``, 75 ppd)."""
    return [f"reference:{labels},images={images},codec={codec},task={task},display={display}"
            for codec in ("jpeg", "webp", "avif") for task in tasks
            for display in ("standard_fhd", "standard_4k")]


def read_reference_labels(
    csv: str | Path,
    image_root: str | Path | None,
    codec: str | None = None,
    display: str = PROXY_DISPLAY,
    *,
    task: str = SIDE_BY_SIDE,
    require_images: bool = False,
) -> list[JNDSample]:
    """Read our proxy reference labels: one sample per (image, codec) for one display and one viewing task.

    Expected file: the CSV written by :func:`jndviewer.core.pwjnd.labels.write_labels` (columns ``image, codec,
    display, ppd, jod_threshold, pwjnd_level, bytes_at_pwjnd, best_level, bytes_at_best, levels``), for example
    ``resources/labels/pwjnd_reference_train.csv``; ``image`` is a path relative to ``image_root`` (such as
    ``bsds500/test/100007.jpg`` under ``../shared/data/images``).

    Label convention. The proxy PW-JND (``pwjnd_level``) already is the worst level still perceptually lossless: the
    lowest level from which every better level scores at least the JOD threshold under ColorVideoVDP with the given
    display model. It is used as ``jnd_level`` unchanged; there are no per-subject data.

    Each sample has ``source`` = the ``image`` column, ``reference`` = ``image_root / image`` (``None`` without
    ``image_root``), ``levels`` = the codec's full level range (1..100 for JPEG, WebP and AVIF), ``better`` from the
    codec (``"higher"``), ``distorted = {}`` (encoded on the fly), and ``meta`` with ``display``, ``ppd``,
    ``jod_threshold``, ``bytes_at_pwjnd``, ``best_level``, ``bytes_at_best``, ``curve_levels`` (how many levels the
    JOD curve had) and ``labels_file``.

    Parameters
    ----------
    csv : str or pathlib.Path
        The label file.
    image_root : str or pathlib.Path or None
        The folder the ``image`` paths are relative to.
    codec : str, optional
        Keep one codec (``"jpeg"``, ``"webp"``, ``"avif"``); all by default.
    display : str
        The display model (``"standard_fhd"``, the fitted proxy, by default; ``"standard_4k"``).
    task : str
        The viewing task of the labels (``"side-by-side"``, the default, or ``"flicker"``); ``meta["task"]``.
    require_images : bool
        Raise when a reference image does not exist.

    Returns
    -------
    list of JNDSample
        In file order.

    Raises
    ------
    JndViewerError
        A missing or malformed file, a missing image folder, or no label for the codec and display.
    """
    path = existing_file(csv, "reference-label file")
    labels = read_labels(path)
    root = Path(image_root).expanduser() if image_root is not None else None
    if root is not None and not root.is_dir():
        raise JndViewerError(f"The image folder {root} for {path.name} does not exist.")
    if task not in TASKS:
        raise JndViewerError(f"Unknown viewing task {task!r} for {path.name}; choose {' or '.join(TASKS)}.")
    chosen = [
        label for label in labels
        if label.display == display and label.task == task and (codec is None or label.codec == codec)
    ]  # fmt: skip
    if not chosen:
        displays = ", ".join(sorted({label.display for label in labels})) or "none"
        codecs = ", ".join(sorted({label.codec for label in labels})) or "none"
        raise JndViewerError(
            f"{path} has no {task} label for codec {codec or 'any'} on display {display} (its displays: {displays}; "
            f"its codecs: {codecs})."
        )
    ladders: dict[str, tuple[tuple[int, ...], str]] = {}
    samples = []
    for label in chosen:
        if label.codec not in ladders:
            ladders[label.codec] = codec_ladder(label.codec)
        levels, better = ladders[label.codec]
        reference = root / label.image if root is not None else None
        if require_images and (reference is None or not reference.is_file()):
            raise JndViewerError(f"The reference image {reference or label.image} named in {path.name} does not exist.")
        samples.append(
            JNDSample(
                source=label.image, reference=reference, codec=label.codec, levels=levels, better=better,
                distorted={}, jnd_level=float(label.pwjnd_level),
                meta={
                    "display": label.display, "ppd": label.ppd, "jod_threshold": label.jod_threshold,
                    "bytes_at_pwjnd": label.bytes_at_pwjnd, "best_level": label.best_level,
                    "bytes_at_best": label.bytes_at_best, "curve_levels": label.levels, "labels_file": path,
                    "task": label.task,
                },
            )
        )  # fmt: skip
    return samples
