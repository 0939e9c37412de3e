"""The common in-memory form of picture-wise JND datasets, its per-level labels and the split by source.

Conventions shared by every reader
----------------------------------
``jnd_level`` is the **worst level still perceptually lossless** (the convention of our predictors and of the proxy
reference labels): every level at it or better is labelled invisible, every worse level visible
(:func:`level_labels`). Human datasets instead report, per subject, the *JND point*: for MCL-JCI and (by assumption)
KonJND-1k the first level at which the subject notices the distortion when going from the best level down, which is
one level worse than that subject's worst perceptually lossless level. Such raw per-subject values are kept as the
dataset gives them in :attr:`JNDSample.jnd_per_subject`, and ``meta["jnd_point"]`` says which of the two they are:

``"first-visible"``
    The value is the first level at which the subject notices a difference; the subject's worst lossless level is
    one level better (``+1`` when higher is better, ``-1`` when lower is better).
``"last-invisible"``
    The value already is the subject's worst lossless level.

The per-image label is then aggregated from the per-subject lossless levels (:func:`pwjnd_from_subjects`):
``"mean"`` (default) or ``"median"``, snapped to the nearest ladder level with ties going to the better level (the
conservative side), or ``"surP"`` (for example ``"sur75"``): the worst ladder level that at least P % of the subjects
see as lossless. All the ladders here are contiguous integer levels, so "one level" is one unit.

A label beyond the ladder is kept as it is: a ``jnd_level`` better than the best level means that every level is
visible, one worse than the worst level that none is.
"""

from __future__ import annotations

import hashlib
import math
import re
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from jndviewer.core.errors import JndViewerError

__all__ = [
    "AGGREGATES",
    "JND_POINTS",
    "JNDSample",
    "is_kodak_source",
    "is_worse",
    "level_labels",
    "lossless_per_subject",
    "pwjnd_from_subjects",
    "satisfied_user_ratio",
    "snap_level",
    "split_by_source",
]

Better = Literal["higher", "lower"]
JndPoint = Literal["first-visible", "last-invisible"]

#: The meanings a raw per-subject JND value can have (see the module docstring).
JND_POINTS: tuple[str, ...] = ("first-visible", "last-invisible")
#: The named aggregates; ``"surP"`` with P in (0, 100] is accepted as well.
AGGREGATES: tuple[str, ...] = ("mean", "median", "sur50", "sur75")

_SUR = re.compile(r"^sur[ _=-]?(\d+(?:\.\d+)?)%?$")
_KODAK = re.compile(r"kodak|kodim\d", re.IGNORECASE)


@dataclass(frozen=True)
class JNDSample:
    """One source image with its ladder and its per-image picture-wise JND label.

    Attributes
    ----------
    source : str
        Source image id; splits never put one source in two sets.
    reference : pathlib.Path or None
        The pristine image, or ``None`` when it is not available (labels-only mode).
    codec : str
        ``"jpeg"``, ``"bpg"``, ``"webp"``, ``"avif"``, ``"autoencoder"``, ...
    levels : tuple of int
        The ladder's levels in ascending numeric order.
    better : {"higher", "lower"}
        Which end of the levels is the better quality.
    distorted : dict
        Level -> file when the dataset ships the distorted images; empty when they are to be encoded on the fly.
    jnd_level : float
        The worst level still perceptually lossless (see the module docstring and each reader's docstring).
    jnd_per_subject : tuple of float
        Raw per-subject (per-worker) JND values as the dataset gives them (``meta["jnd_point"]`` says what they
        mean); empty when the dataset has none.
    meta : dict
        Reader-specific extras (statistics, the labels file, bytes, ...).

    Samples are hashable (``distorted`` and ``meta`` are left out of the hash) and compare by value.
    """

    source: str
    reference: Path | None
    codec: str
    levels: tuple[int, ...]
    better: str
    distorted: dict[int, Path] = field(hash=False)
    jnd_level: float
    jnd_per_subject: tuple[float, ...] = ()
    meta: dict[str, Any] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        if self.better not in ("higher", "lower"):
            raise ValueError(f"better must be 'higher' or 'lower', not {self.better!r}.")
        if not self.levels:
            raise ValueError(f"Sample {self.source!r} has no levels.")
        if any(b <= a for a, b in zip(self.levels, self.levels[1:], strict=False)):
            raise ValueError(f"The levels of sample {self.source!r} are not strictly ascending.")
        extra = set(self.distorted) - set(self.levels)
        if extra:
            raise ValueError(f"Sample {self.source!r} has files for levels outside its ladder ({sorted(extra)}).")
        if not math.isfinite(self.jnd_level):
            raise ValueError(f"Sample {self.source!r} has a non-finite jnd_level.")

    @property
    def best_level(self) -> int:
        """The best level of the ladder."""
        return self.levels[-1] if self.better == "higher" else self.levels[0]

    @property
    def worst_level(self) -> int:
        """The worst level of the ladder."""
        return self.levels[0] if self.better == "higher" else self.levels[-1]


# --------------------------------------------------------------------------------------------------------------------
# Labels
# --------------------------------------------------------------------------------------------------------------------


def is_worse(level: float, than: float, better: str) -> bool:
    """Whether ``level`` is a worse level than ``than`` on a ladder where ``better`` ("higher" or "lower") is better:
    worse than a PW-JND means visible."""
    return level < than if better == "higher" else level > than


def level_labels(sample: JNDSample) -> dict[int, bool]:
    """Per-level binary labels for classifier training.

    Parameters
    ----------
    sample : JNDSample
        Any sample.

    Returns
    -------
    dict
        Level -> ``True`` (distortion visible) for the levels worse than ``sample.jnd_level``, ``False``
        (invisible) at ``jnd_level`` and every better level; "worse" follows ``sample.better``.
    """
    return {level: is_worse(level, sample.jnd_level, sample.better) for level in sample.levels}


def lossless_level(value: float, better: str, jnd_point: str) -> float:
    """A subject's worst lossless level from its raw JND value (see the module docstring)."""
    if jnd_point == "last-invisible":
        return float(value)
    if jnd_point == "first-visible":
        return float(value) + (1.0 if better == "higher" else -1.0)
    raise ValueError(f"jnd_point must be one of {', '.join(JND_POINTS)}, not {jnd_point!r}.")


def lossless_per_subject(sample: JNDSample) -> tuple[float, ...]:
    """Each subject's worst lossless level, from ``jnd_per_subject`` and ``meta["jnd_point"]``."""
    jnd_point = sample.meta.get("jnd_point", "first-visible")
    return tuple(lossless_level(value, sample.better, jnd_point) for value in sample.jnd_per_subject)


def satisfied_user_ratio(sample: JNDSample) -> dict[int, float]:
    """Per level, the fraction of subjects who see no difference (the SUR curve; soft labels are ``1 - SUR``).

    Raises
    ------
    ValueError
        If the sample has no per-subject data.
    """
    lossless = lossless_per_subject(sample)
    if not lossless:
        raise ValueError(f"Sample {sample.source!r} has no per-subject JND data.")
    count = len(lossless)
    return {level: sum(not is_worse(level, own, sample.better) for own in lossless) / count for level in sample.levels}


def snap_level(value: float, levels: Sequence[int], better: str) -> float:
    """The ladder level nearest to ``value`` (ties go to the better level); values beyond the ladder are kept."""
    if value < levels[0] or value > levels[-1]:
        return float(value)

    def key(level: int) -> tuple[float, int]:
        tie = -level if better == "higher" else level
        return abs(level - value), tie

    return float(min(levels, key=key))


def parse_aggregate(aggregate: str) -> str | float:
    """``"mean"``, ``"median"``, or the SUR fraction in (0, 1] of ``"surP"``; anything else raises ValueError."""
    text = str(aggregate).strip().lower()
    if text in ("mean", "median"):
        return text
    match = _SUR.match(text)
    if match is not None:
        share = float(match[1]) / 100.0
        if 0.0 < share <= 1.0:
            return share
    raise ValueError(f"aggregate must be 'mean', 'median' or 'surP' with P in (0, 100], not {aggregate!r}.")


def check_label_options(aggregate: str, jnd_point: str = "first-visible") -> None:
    """A reader's ``aggregate`` and ``jnd_point`` options, checked before any file is read (one sentence each)."""
    try:
        parse_aggregate(aggregate)
    except ValueError as err:
        raise JndViewerError(str(err)) from None
    if jnd_point not in JND_POINTS:
        raise JndViewerError(f"jnd_point must be one of {', '.join(JND_POINTS)}, not {jnd_point!r}.")


def pwjnd_from_subjects(
    values: Iterable[float],
    levels: Sequence[int],
    better: str,
    *,
    jnd_point: str = "first-visible",
    aggregate: str = "mean",
) -> float:
    """The per-image label (worst lossless level) from raw per-subject JND values.

    Parameters
    ----------
    values : iterable of float
        Raw per-subject JND values (at least one).
    levels : sequence of int
        The ladder, ascending.
    better : {"higher", "lower"}
        Which end is better.
    jnd_point : {"first-visible", "last-invisible"}
        What the raw values mean (module docstring).
    aggregate : str
        ``"mean"``, ``"median"`` (both snapped to the ladder, ties to the better level) or ``"surP"`` (the worst
        level that at least P % of the subjects see as lossless).

    Returns
    -------
    float
        The label; beyond the ladder when every level is visible (or none is).
    """
    lossless = [lossless_level(value, better, jnd_point) for value in values]
    if not lossless:
        raise ValueError("At least one per-subject JND value is needed.")
    how = parse_aggregate(aggregate)
    if how == "mean":
        return snap_level(statistics.fmean(lossless), levels, better)
    if how == "median":
        return snap_level(statistics.median(lossless), levels, better)
    assert isinstance(how, float)
    ordered = list(levels) if better == "higher" else list(reversed(levels))  # worst first
    for level in ordered:
        share = sum(not is_worse(level, own, better) for own in lossless) / len(lossless)
        if share >= how - 1e-12:
            return float(level)
    return float(ordered[-1] + (1 if better == "higher" else -1))


# --------------------------------------------------------------------------------------------------------------------
# Splits
# --------------------------------------------------------------------------------------------------------------------


def is_kodak_source(source: str) -> bool:
    """Whether a source id names a Kodak image (``kodak/...``, ``kodim07``, ...); those are always test images."""
    return _KODAK.search(source) is not None


def _unit_hash(source: str, seed: int) -> float:
    digest = hashlib.sha256(f"{seed}\0{source}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def split_by_source(
    samples: Sequence[JNDSample],
    test_share: float = 0.2,
    validation_share: float = 0.1,
    seed: int = 0,
) -> tuple[list[JNDSample], list[JNDSample], list[JNDSample]]:
    """Split samples into train, validation and test sets by source id, deterministically.

    Each source id is hashed with the seed (SHA-256) to a number u in [0, 1): u < ``test_share`` goes to test,
    u < ``test_share + validation_share`` to validation, the rest to train. All samples of one source (several
    codecs, for instance) land in the same set, and the shares are met approximately (exactly in expectation).
    Sources named like Kodak images (:func:`is_kodak_source`) always go to test, so they stay unseen benchmarks.

    Parameters
    ----------
    samples : sequence of JNDSample
        The samples.
    test_share, validation_share : float
        Shares of sources in test and validation; each in [0, 1) and together below 1.
    seed : int
        Changes the assignment.

    Returns
    -------
    tuple of list
        ``(train, validation, test)``, each in input order.
    """
    if not (0.0 <= test_share < 1.0 and 0.0 <= validation_share < 1.0 and test_share + validation_share < 1.0):
        raise ValueError(
            f"test_share ({test_share}) and validation_share ({validation_share}) must be in [0, 1) with a sum below 1."
        )
    train: list[JNDSample] = []
    validation: list[JNDSample] = []
    test: list[JNDSample] = []
    for sample in samples:
        if is_kodak_source(sample.source):
            test.append(sample)
            continue
        u = _unit_hash(sample.source, seed)
        if u < test_share:
            test.append(sample)
        elif u < test_share + validation_share:
            validation.append(sample)
        else:
            train.append(sample)
    return train, validation, test
