"""Picture-wise JND datasets in one common in-memory form, for training and evaluating PW-JND predictors.

Every reader returns a list of :class:`JNDSample` (one source image with its ladder and its per-image label
``jnd_level``, the worst level still perceptually lossless); :func:`level_labels` turns a sample into per-level
binary labels and :func:`split_by_source` splits samples by source id. :func:`read_dataset` reads a dataset from a
command-line spec::

    >>> read_dataset("reference:resources/labels/pwjnd_reference_train.csv,images=../shared/data/images,codec=jpeg")
    ...                                                                                     # doctest: +SKIP
    >>> read_dataset("mcl-jci:../shared/data/labels/mcl-jci/first_jnd_fraction_by_qf.csv")  # labels only
    ...                                                                                     # doctest: +SKIP

Kinds and their options (``KIND:PATH[,option=value...]``):

``mcl-jci``
    PATH is the dataset folder or the label CSV; options ``labels=CSV``, ``images=FOLDER`` (when PATH is the CSV),
    ``subjects=N``, ``aggregate=mean|median|surP``, ``require_images=yes|no``.
``konjnd``
    PATH is the dataset folder; options ``compression=jpeg|bpg``, ``ratings=CSV``, ``aggregate=...``,
    ``jnd_point=first-visible|last-invisible``, ``require_images=...``.
``cnn-jnd``
    PATH is the dataset folder; options ``judgements=CSV``, ``aggregate=...``, ``jnd_point=...``,
    ``require_images=...``.
``reference``
    PATH is the reference-label CSV; options ``images=FOLDER``, ``codec=jpeg|webp|avif``, ``display=...``,
    ``require_images=...``.
``study``
    PATH is a study database of ``jndviewer study`` (our own observers, first-visible critical levels); options
    ``task=side-by-side|flicker``, ``ppd=P`` (sessions whose ppd rounds to P's, to 0.1), ``observer=ID``,
    ``aggregate=...``. A sample's ``meta["crop"]`` is the part of the reference the observers saw.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from jndviewer.core.datasets.cnn_jnd import read_cnn_jnd
from jndviewer.core.datasets.konjnd import read_konjnd
from jndviewer.core.datasets.mcl_jci import mcl_jci_fold_split, mcl_jci_folds, read_mcl_jci
from jndviewer.core.datasets.reference_labels import read_reference_labels
from jndviewer.core.datasets.sample import (
    JNDSample,
    is_kodak_source,
    is_worse,
    level_labels,
    lossless_per_subject,
    pwjnd_from_subjects,
    satisfied_user_ratio,
    split_by_source,
)
from jndviewer.core.datasets.study import read_study
from jndviewer.core.errors import JndViewerError

__all__ = [
    "READERS",
    "JNDSample",
    "is_kodak_source",
    "is_worse",
    "level_labels",
    "lossless_per_subject",
    "mcl_jci_fold_split",
    "mcl_jci_folds",
    "parse_dataset_spec",
    "pwjnd_from_subjects",
    "read_cnn_jnd",
    "read_dataset",
    "read_konjnd",
    "read_mcl_jci",
    "read_reference_labels",
    "read_study",
    "satisfied_user_ratio",
    "split_by_source",
]

#: Dataset kind -> reader.
READERS: dict[str, Callable[..., list[JNDSample]]] = {
    "mcl-jci": read_mcl_jci,
    "konjnd": read_konjnd,
    "cnn-jnd": read_cnn_jnd,
    "reference": read_reference_labels,
    "study": read_study,
}

_KIND_ALIASES = {
    "mcl": "mcl-jci", "mcljci": "mcl-jci", "konjnd1k": "konjnd", "konjnd": "konjnd", "cnnjnd": "cnn-jnd",
    "cnn": "cnn-jnd", "reference": "reference", "referencelabels": "reference", "proxy": "reference",
    "study": "study", "jndviewerstudy": "study",
}  # fmt: skip

_TRUE = {"1", "yes", "true", "on"}
_FALSE = {"0", "no", "false", "off"}


def _yes_no(value: str) -> bool:
    if value.lower() not in _TRUE | _FALSE:
        raise ValueError(value)
    return value.lower() in _TRUE


def _path(value: str) -> Path:
    if not value:
        raise ValueError(value)
    return Path(value).expanduser()


# Kind -> option -> (reader keyword, converter raising ValueError).
_OPTIONS: dict[str, dict[str, tuple[str, Callable[[str], Any]]]] = {
    "mcl-jci": {
        "labels": ("labels_csv", _path), "images": ("root", _path), "subjects": ("subjects", int),
        "aggregate": ("aggregate", str), "require_images": ("require_images", _yes_no),
    },
    "konjnd": {
        "compression": ("compression", str), "codec": ("compression", str), "ratings": ("ratings_csv", _path),
        "aggregate": ("aggregate", str), "jnd_point": ("jnd_point", str), "require_images": ("require_images", _yes_no),
    },
    "cnn-jnd": {
        "judgements": ("judgements_csv", _path), "aggregate": ("aggregate", str), "jnd_point": ("jnd_point", str),
        "require_images": ("require_images", _yes_no),
    },
    "reference": {
        "images": ("image_root", _path), "codec": ("codec", str), "display": ("display", str), "task": ("task", str),
        "require_images": ("require_images", _yes_no),
    },
    "study": {
        "task": ("task", str), "ppd": ("ppd", float), "observer": ("observer", str), "aggregate": ("aggregate", str),
    },
}  # fmt: skip


def _kind(text: str) -> str:
    key = text.strip().lower().replace("_", "").replace("-", "")
    if key in _KIND_ALIASES:
        return _KIND_ALIASES[key]
    raise JndViewerError(f"Unknown dataset kind {text.strip()!r}; choose one of {', '.join(READERS)}.")


def parse_dataset_spec(spec: str) -> tuple[str, Path, dict[str, Any]]:
    """Split ``KIND:PATH[,option=value...]`` into the kind, the path and the reader keywords (converted).

    Raises
    ------
    JndViewerError
        An empty spec, an unknown kind, a missing path, an unknown option or a bad option value.
    """
    text = str(spec).strip()
    if ":" not in text:
        raise JndViewerError(f"Dataset spec {text!r} is not KIND:PATH[,option=value...] (kinds: {', '.join(READERS)}).")
    kind_text, rest = text.split(":", 1)
    kind = _kind(kind_text)
    parts = [part.strip() for part in rest.split(",")]
    if not parts[0]:
        raise JndViewerError(f"Dataset spec {text!r} names no path after {kind_text}:.")
    path = Path(parts[0]).expanduser()
    allowed = _OPTIONS[kind]
    keywords: dict[str, Any] = {}
    for part in parts[1:]:
        if not part:
            continue
        name, sep, value = part.partition("=")
        key = name.strip().lower().replace("-", "_")
        if not sep or key not in allowed:
            raise JndViewerError(
                f"Dataset spec {text!r} has an unknown option {part!r}; {kind} takes {', '.join(allowed)}."
            )
        keyword, convert = allowed[key]
        try:
            keywords[keyword] = convert(value.strip())
        except ValueError:
            raise JndViewerError(
                f"Dataset spec {text!r} has a bad value for option {key} ({value.strip()!r})."
            ) from None
    return kind, path, keywords


def read_dataset(spec: str) -> list[JNDSample]:
    """Read a dataset from ``KIND:PATH[,option=value...]`` (see the module docstring for kinds and options).

    Parameters
    ----------
    spec : str
        For example ``"reference:resources/labels/pwjnd_reference_train.csv,images=../shared/data/images,
        codec=jpeg"`` or ``"konjnd:/data/KonJND-1k,compression=bpg"``.

    Returns
    -------
    list of JNDSample

    Raises
    ------
    JndViewerError
        A bad spec, an unknown kind, missing files or a malformed CSV (one sentence naming the file).
    """
    kind, path, keywords = parse_dataset_spec(spec)
    if kind == "mcl-jci":
        if path.is_file() or path.suffix.lower() == ".csv":
            if "labels_csv" in keywords:
                raise JndViewerError(f"Dataset spec {spec!r} names two MCL-JCI label files.")
            return read_mcl_jci(keywords.pop("root", None), path, **keywords)
        if "root" in keywords:
            raise JndViewerError(f"Dataset spec {spec!r} names the MCL-JCI folder twice (PATH and images=).")
        return read_mcl_jci(path, **keywords)
    if kind == "reference":
        return read_reference_labels(path, keywords.pop("image_root", None), **keywords)
    return READERS[kind](path, **keywords)
