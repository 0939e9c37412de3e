"""What makes two predictions the same request, so that a results file resumes them and keeps their errors apart:
the resolved image, the codec (a folder ladder with its folder and options normalised), the predictor, its options
and the viewing condition."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

from jndviewer.core.errors import JndViewerError
from jndviewer.core.pwjnd.result import PWJND
from jndviewer.core.viewing import ViewingCondition


def codec_identity(spec: str) -> str:
    """A codec as a request names it: the registry name, or a folder ladder with its folder resolved."""
    from jndviewer.core.codecs import FOLDER_PREFIX, parse_folder_spec

    if not spec.startswith(FOLDER_PREFIX):
        return spec
    folder, options = parse_folder_spec(spec)
    if "better" in options:  # the same request however it is spelt: better=high is better=higher
        from jndviewer.core.codecs.folder_scan import normalise_better

        options["better"] = str(normalise_better(options["better"]))
    if "source" in options:  # a source file as the folder is: resolved
        options["source"] = str(Path(options["source"]).expanduser().resolve())
    return FOLDER_PREFIX + str(folder.resolve()) + "".join(f",{k}={v}" for k, v in sorted(options.items()))


def request_of(codec_spec: str, options: dict[str, Any]) -> dict[str, Any]:
    """The request a batch records with each result: the codec and the predictor options given (None: default)."""
    given = {k: v for k, v in options.items() if v is not None}
    if "weights" in given:
        given["weights"] = str(Path(given["weights"]).resolve())
    return {"codec": codec_identity(codec_spec), "options": given}


def without_defaults(name: str, predictor: Any, options: dict[str, Any], task: str) -> dict[str, Any]:
    """``options`` given to predictor ``name`` (None: not given), less those that name its own default (its search
    strategy, its shipped weights, the calibration's recommended visibility model): a results file resumes
    ``--strategy block`` as the same request as no option, not a new one."""
    from jndviewer.core.pwjnd.registry import predictor_info

    options, info = dict(options), predictor_info(name)
    if options.get("jnd_model") is not None and "jnd_model" in info.options:
        from jndviewer.core.pwjnd.pooled_visibility import default_params

        if default_params(options["jnd_model"], task) == default_params(None, task):
            options["jnd_model"] = None
    if options.get("strategy") == type(predictor).default_strategy:
        options["strategy"] = None
    if options.get("weights") is not None and info.weights is not None \
            and Path(options["weights"]).resolve() == Path(info.weights()).resolve():
        options["weights"] = None
    return options


def request_key(path: str, predictor: str, condition: dict[str, Any], request: dict[str, Any]) -> tuple[str, ...]:
    """What makes two predictions the same: the resolved image, the codec, the predictor, its options, the condition."""
    with contextlib.suppress(TypeError, ValueError, JndViewerError):
        condition = ViewingCondition.from_dict(condition).to_dict()
        # a distance as results name it (6 significant digits): --ppd 38.0000001 is the 38 ppd the summary prints
        condition["ppd"] = float(f"{float(condition['ppd']):g}")
    return (path, str(request.get("codec", "")), predictor, json.dumps(condition, sort_keys=True, default=str),
            json.dumps(request.get("options", {}), sort_keys=True, default=str))


def result_key(result: PWJND) -> tuple[str, ...]:
    """The :func:`request_key` of a result (one written without its request: its codec name and no options)."""
    request = result.request or {}
    path = request.get("path") or str(Path(result.image).resolve())
    return request_key(path, result.predictor, result.condition, {"codec": result.codec, **request})


def error_key(error: dict[str, Any]) -> tuple[str, ...] | None:
    """The :func:`request_key` of a recorded error (None for one written before errors named their request)."""
    if "predictor" not in error:
        return None
    image = resolved_path(str(error.get("image", "")))
    return request_key(image, str(error["predictor"]), error.get("condition") or {},
                       {"codec": error.get("codec", ""), "options": error.get("options") or {}})


def resolved_path(image: str) -> str:
    return str(Path(image).resolve())


__all__ = ["codec_identity", "error_key", "request_key", "request_of", "resolved_path", "result_key",
           "without_defaults"]
