"""The picture-wise JND predictors by name, with what the front ends need to know of each.

Shaped like the JND-model and codec registries: name -> :class:`PredictorInfo` (label, one-line description,
whether it needs trained weights and whether they are present, which viewing-condition fields it honours, which
options it takes) and a factory. The CLI (``--predictor`` choices and help), the batch runner, calibration and the
explorer (readout rows, plot marks, the Go/Export choice, the results JSON) enumerate :data:`PREDICTORS`, so a new
predictor is one :class:`~jndviewer.core.pwjnd.base.LadderPredictor` subclass and one :func:`register_predictor`.

Importing this module imports no torch: factories import their predictor when called.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jndviewer.core.errors import JndViewerError, ModelError
from jndviewer.core.viewing import FIELD_WORDS, ViewingCondition

if TYPE_CHECKING:
    from jndviewer.core.pwjnd.base import LadderPredictor

#: Every option a predictor may take, with its meaning (the CLI's ``--jnd-model``, ``--pooling``, ...).
OPTION_HELP = {
    "jnd_model": "the visibility map: subband or a pixel JND model",
    "pooling": "how the visibility map is pooled",
    "threshold": "the decision threshold",
    "strategy": "the search strategy over the levels",
    "weights": "a weights file",
}


@dataclass(frozen=True)
class PredictorInfo:
    """A registered predictor.

    Attributes
    ----------
    name
        Registry name (``--predictor NAME``; recorded in every result).
    label
        How menus name it, e.g. ``visibility (training-free)``.
    short
        How readouts and plots name it, e.g. ``SG-JND``.
    description
        One line for ``--help`` and tooltips.
    factory
        ``factory(condition=..., device=..., **options) -> LadderPredictor``; a module-level function, so that
        batch workers in other processes can be handed the info.
    options
        The options (keys of :data:`OPTION_HELP`) it takes.
    honours
        The :class:`~jndviewer.core.viewing.ViewingCondition` fields it takes into account.
    weights
        Where its trained weights are (called when asked; None: it needs no weights).
    score
        What a level's score is, for plots: ``"pooled visibility"`` (decided against ``params["threshold"]``) or
        ``"logit"`` (visible above 0).
    calibrate
        ``calibrate(label_file, image_root, **options)`` fitting its decision to reference labels, when it has one.
    summarise
        Its result parameters in a few words for readouts (default: the search strategy).
    check_weights
        ``check_weights(path)`` reads a weights file given with ``--weights`` and raises a one-sentence
        :class:`~jndviewer.core.errors.ModelError` when it is missing, damaged or of another kind, so that a batch
        says so once, before any work, instead of once per image.
    patches
        Its predictor reports patch positions, weights and logits of a level (``patch_report``), which the explorer's
        patch overlay draws.
    full_resolution
        It judges a fixed number of fixed-size patches, so its memory does not grow with the image: the explorer
        runs it on the full-resolution encodes of a very large image, where it judges the others' on a preview
        (:mod:`jndviewer.core.preview`).
    """

    name: str
    label: str
    short: str
    description: str
    factory: Callable[..., LadderPredictor]
    options: tuple[str, ...] = ()
    honours: tuple[str, ...] = ("ppd",)
    weights: Callable[[], Path] | None = None
    score: str = "logit"
    calibrate: Callable[..., Any] | None = None
    summarise: Callable[[dict[str, Any]], str] | None = None
    full_resolution: bool = False
    patches: bool = False
    check_weights: Callable[[Path], Any] | None = None

    @property
    def needs_weights(self) -> bool:
        return self.weights is not None

    def weights_status(self) -> tuple[bool, str]:
        """Whether it can run here: (True, "") or (False, why not in one sentence)."""
        if self.weights is None:
            return True, ""
        path = self.weights()
        if not Path(path).exists():
            return False, f"The {self.short} weights ({Path(path).name}) have not been trained yet."
        return True, ""

    def describe(self, params: dict[str, Any]) -> str:
        """A result's parameters in a few words (:attr:`summarise`, or the strategy)."""
        if self.summarise is not None:
            return self.summarise(params)
        return str(params.get("strategy", ""))

    def unsupported_fields(self, condition: ViewingCondition) -> tuple[str, ...]:
        """The condition's non-default fields this predictor cannot take into account."""
        return tuple(name for name in condition.non_default_fields() if name not in self.honours)


PREDICTORS: dict[str, PredictorInfo] = {}
"""The registered predictors by name, in menu order."""


def register_predictor(info: PredictorInfo, *, replace: bool = False) -> PredictorInfo:
    """Add a predictor to :data:`PREDICTORS` (``replace`` to register a name again)."""
    if info.name in PREDICTORS and not replace:
        raise JndViewerError(f"A predictor called {info.name!r} is registered already.")
    unknown = sorted(set(info.options) - set(OPTION_HELP))
    if unknown:
        raise JndViewerError(f"Predictor {info.name!r} declares unknown options: {', '.join(unknown)}.")
    PREDICTORS[info.name] = info
    return info


def predictor_info(name: str) -> PredictorInfo:
    """The registered predictor ``name``; one sentence when there is none."""
    info = PREDICTORS.get(name)
    if info is None:
        raise JndViewerError(f"Unknown predictor {name!r}; choose one of {', '.join(PREDICTORS)}.")
    return info


def predictor_names() -> tuple[str, ...]:
    return tuple(PREDICTORS)


def patch_predictor_names() -> tuple[str, ...]:
    """The registered predictors whose patches the explorer can draw (:attr:`PredictorInfo.patches`)."""
    return tuple(name for name, info in PREDICTORS.items() if info.patches)


def check_condition(info: PredictorInfo, condition: ViewingCondition) -> None:
    """One sentence when ``condition`` sets a field the predictor cannot take into account (instead of ignoring it)."""
    unsupported = info.unsupported_fields(condition)
    if unsupported:
        words = " or ".join(FIELD_WORDS.get(name, name) for name in unsupported)
        raise JndViewerError(
            f"The {info.short} predictor cannot take {words} into account; predict for the default viewing "
            f"condition ({ViewingCondition().describe()}) or choose another predictor."
        )


def check_request(
    predictor: str | PredictorInfo, options: dict[str, Any] | None = None, condition: ViewingCondition | None = None
) -> tuple[PredictorInfo, dict[str, Any]]:
    """The predictor's entry and the options given (None values dropped), after the checks that need no model: one
    sentence for an unknown name, a condition field it cannot honour, an option it does not take, or missing
    weights."""
    info = predictor if isinstance(predictor, PredictorInfo) else predictor_info(predictor)
    check_condition(info, condition or ViewingCondition())
    given = {k: v for k, v in (options or {}).items() if v is not None}
    extra = sorted(set(given) - set(info.options))
    if extra:
        takes = ", ".join(info.options) or "none"
        raise JndViewerError(
            f"The {info.short} predictor takes no {', '.join(e.replace('_', '-') for e in extra)} option "
            f"(its options: {takes.replace('_', '-')})."
        )
    if "weights" not in given:
        available, reason = info.weights_status()
        if not available:
            raise ModelError(reason)
    elif info.check_weights is not None:
        info.check_weights(Path(given["weights"]))
    return info, given


def create_predictor(
    predictor: str | PredictorInfo,
    options: dict[str, Any] | None = None,
    *,
    condition: ViewingCondition | None = None,
    device: Any = None,
) -> LadderPredictor:
    """A predictor by name (or info) for a viewing condition, with options (None values mean the default); the
    checks of :func:`check_request` first."""
    condition = condition or ViewingCondition()
    info, given = check_request(predictor, options, condition)
    return info.factory(condition=condition, device=device, **given)


# ------------------------------------------------------------------------------------------------------------------
# The built-in predictors
# ------------------------------------------------------------------------------------------------------------------


def _pooled_visibility(
    *, condition: ViewingCondition, device: Any = None, jnd_model: str | None = None, **options: Any
) -> LadderPredictor:
    from jndviewer.core.pwjnd.pooled_visibility import PooledVisibilityPredictor, default_params

    strategy = options.pop("strategy", None)
    return PooledVisibilityPredictor(
        default_params(jnd_model, condition.task), condition=condition, strategy=strategy, device=device, **options
    )


def _calibrate_pooled_visibility(label_file: Path, image_root: Path, **options: Any) -> Any:
    from jndviewer.core.pwjnd.calibrate import calibrate

    return calibrate(label_file, image_root, **options)


def _summarise_pooled_visibility(params: dict[str, Any]) -> str:
    # three decimals, as the explorer's threshold box shows it (1.159, not 1.16 beside it)
    return f"{params.get('strategy', '')}, threshold {params.get('threshold', float('nan')):.3f}, " \
        f"{params.get('jnd_model', '')}"


def _sgjnd(
    *, condition: ViewingCondition, device: Any = None, weights: str | None = None, strategy: str | None = None
) -> LadderPredictor:
    from jndviewer.core.pwjnd.sgjnd import SGJNDPredictor

    return SGJNDPredictor(weights, condition=condition, strategy=strategy)


def _check_sgjnd_weights(path: Path) -> None:
    from jndviewer.core.pwjnd.sgjnd import load_network

    load_network(path)


def _summarise_sgjnd(params: dict[str, Any]) -> str:
    patches = len(params.get("patch_positions", []))
    return f"{params.get('strategy', '')}, {patches} patches of {params.get('patch', 0)} px, " \
        f"{params.get('backbone', '')}"


def _sgjnd_weights() -> Path:
    from jndviewer.core.pwjnd.sgjnd import predictor

    return predictor.DEFAULT_WEIGHTS


register_predictor(PredictorInfo(
    name="visibility",
    label="visibility (training-free)",
    # shown in the explorer beside "Visibility here", the Visibility mode and the visibility map: the name that
    # tells this predictor apart from them (its registry name stays "visibility", as results files say)
    short="training-free",
    description="training-free: pooled subband (or pixel JND) visibility against a calibrated threshold",
    factory=_pooled_visibility,
    options=("jnd_model", "pooling", "threshold", "strategy"),
    honours=("ppd", "task"),
    score="pooled visibility",
    calibrate=_calibrate_pooled_visibility,
    summarise=_summarise_pooled_visibility,
))
register_predictor(PredictorInfo(
    name="sgjnd",
    label="SG-JND (trained)",
    short="SG-JND",
    description="the trained SG-JND network: semantic patch weights over each patch's subband visibility",
    factory=_sgjnd,
    options=("strategy", "weights"),
    honours=("ppd", "task"),
    weights=_sgjnd_weights,
    score="logit",
    summarise=_summarise_sgjnd,
    full_resolution=True,
    patches=True,
    check_weights=_check_sgjnd_weights,
))


def _vpjnd(
    *, condition: ViewingCondition, device: Any = None, weights: str | None = None, strategy: str | None = None
) -> LadderPredictor:
    from jndviewer.core.pwjnd.vpjnd.predictor import VPJNDPredictor

    return VPJNDPredictor(weights, condition=condition, strategy=strategy)


def _check_vpjnd_weights(path: Path) -> None:
    from jndviewer.core.pwjnd.vpjnd.predictor import load_network

    load_network(path)


def _summarise_vpjnd(params: dict[str, Any]) -> str:
    patches = len(params.get("patch_positions", []))
    networks = int(params.get("networks", 1))
    return f"{params.get('strategy', '')}, {patches} patches of {params.get('patch', 0)} px, " \
        f"JND map {params.get('jnd_model', '')}" + (f", mean of {networks} networks" if networks > 1 else "")


def _vpjnd_weights() -> Path:
    from jndviewer.core.pwjnd.vpjnd import predictor

    return predictor.DEFAULT_WEIGHTS


register_predictor(PredictorInfo(
    name="vpjnd",
    label="VP-JNDnet (trained)",
    short="VP-JNDnet",
    description="the trained VP-JNDnet: reference, distorted and pixel-JND-map streams over patches, VP-JND's block "
    "search",
    factory=_vpjnd,
    options=("strategy", "weights"),
    honours=("ppd", "task"),
    weights=_vpjnd_weights,
    score="logit",
    summarise=_summarise_vpjnd,
    full_resolution=True,
    patches=True,
    check_weights=_check_vpjnd_weights,
))

__all__ = [
    "OPTION_HELP",
    "PREDICTORS",
    "PredictorInfo",
    "check_condition",
    "check_request",
    "create_predictor",
    "patch_predictor_names",
    "predictor_info",
    "predictor_names",
    "register_predictor",
]
