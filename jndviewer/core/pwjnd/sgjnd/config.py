"""SG-JND's stored configuration (architecture and patching), its constants, and what older files meant."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from jndviewer.core.errors import ModelError
from jndviewer.core.image import LUMA_WEIGHTS
from jndviewer.core.viewing import FLICKER, SIDE_BY_SIDE, TASKS, ViewingCondition

EXPORT_FORMAT = "jndviewer.sgjnd"
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
REFERENCE_CHROMA = ("420", "full")
PATCH_LAYOUTS = ("cover", "tiles")
#: What the heads read besides the semantic tokens: nothing, or each patch's pooled subband visibility.
PATCH_VISIBILITY = ("none", "subband")
#: The viewing condition of the training labels (cvvdp ``standard_fhd``, 38 pixels per degree): the patch
#: visibility of training samples is computed at it; predictions compute it at their own condition.
TRAINING_CONDITION = ViewingCondition()
#: How many numbers per patch the heads read with ``patch_visibility="subband"`` (:class:`PatchVisibility`).
PATCH_VISIBILITY_INPUTS = 1
#: Added to the pooled visibility before its logarithm: a patch with no distortion gets log(1e-2), not -inf.
PATCH_VISIBILITY_FLOOR = 1e-2
#: JPEG's (JFIF) full-range BT.601 RGB -> YCbCr matrix (its luma row is the project's luma); the inverse goes back.
RGB_TO_YCBCR = (LUMA_WEIGHTS, (-0.168736, -0.331264, 0.5), (0.5, -0.418688, -0.081312))


#: What files from before a field existed meant by its absence: the seed's form (backbone differences, no patch
#: visibility, full-chroma references, no codec offsets, non-overlapping tiles).
LEGACY_CONFIG: dict[str, Any] = {"reference_chroma": "full", "patch_visibility": "none", "backbone_differences": True,
                                 "codec_families": (), "patch_layout": "tiles", "tasks": (), "distance_offset": False,
                                 "distance_experts": ()}


@dataclass(frozen=True)
class SGJNDConfig:
    """Architecture and patching of the network (stored with its weights)."""

    backbone: str = "efficientnet-lite0"
    patch: int = 128
    #: The most patches per image (:func:`patch_positions`). 24 cover a 768 x 512 (Kodak) image; a 1920 x 1080
    #: image, which 135 would cover, gets a 4 x 6 grid spread evenly (the whole prediction stays under 1 s there).
    patches: int = 24
    grid: int = 4  # each depth's features are pooled to grid x grid before attention
    width: int = 64  # token width of the attention and the heads
    #: "full": the reference patches as given; "420": their chroma reduced to 4:2:0 resolution before the backbone,
    #: as every BSDS500 training source (300 of 300 are 4:2:0 JPEGs) already is. Measured, not adopted: a 5-head
    #: "420" model scored Kodak JPEG 4.58 against the then shipped "full" head's 4.33 (models/MODEL_CARD.md).
    reference_chroma: str = "full"
    #: "none": the heads read the semantic tokens only; "subband" (shipped): also each patch's pooled subband
    #: visibility (:class:`PatchVisibility`).
    patch_visibility: str = "subband"
    #: Whether the tokens hold |distorted - reference| backbone features (the seed's distortion evidence). Without
    #: them (shipped) the backbone sees the reference only, and the distortion enters through ``patch_visibility``.
    #: On the validation images the seed's form over-fitted: 3.79 levels MAE with the patch visibility, 2.75 without
    #: the differences (models/MODEL_CARD.md).
    backbone_differences: bool = False
    #: Codec families with a learned offset on the image logit (their decision thresholds differ, as the
    #: training-free predictor's per-codec thresholds do); other codecs get the offsets' mean. See
    #: :func:`codec_family`.
    codec_families: tuple[str, ...] = ("jpeg", "webp", "avif")
    #: "cover" (shipped): a grid of patches over the whole image; "tiles" (the seed's, and every file from before
    #: this field): at most ``patches`` non-overlapping tiles, which left a third to a half of the validation and
    #: Kodak images unseen. On the validation images, seeing a third of each image cost 0.4 levels of MAE
    #: (models/MODEL_CARD.md).
    patch_layout: str = "cover"
    #: Viewing tasks with a learned offset on the image logit (a flicker viewer sees distortion at far better quality,
    #: as the training-free predictor's per-task thresholds say). Empty (every file from before this field): the
    #: network was trained for side by side only and refuses another task.
    tasks: tuple[str, ...] = (SIDE_BY_SIDE, FLICKER)
    #: A learned logit offset per octave of viewing distance from the labels' 38 ppd (one slope per task): the patch
    #: visibility already follows the distance, and this lets one set of heads learn from labels at 75 ppd how much.
    #: Shipped before the distance experts; False in files from before this field.
    distance_offset: bool = False
    #: Distance experts (shipped: 38 and 75 ppd, the labels' two displays): a set of heads per viewing distance, each
    #: trained on the labels nearest its ppd, their image logits (and patch logits and weights) interpolated
    #: linearly in log ppd between neighbouring experts and held at the end experts' beyond them
    #: (:class:`~jndviewer.core.pwjnd.sgjnd.network.SGJNDDistanceExperts`). One set of heads with a distance slope
    #: served 75 ppd at a cost of 0.1-0.4 levels at 38 ppd on the validation images (models/MODEL_CARD.md).
    #: Empty: one set of heads for every distance (files from before this field).
    distance_experts: tuple[float, ...] = (38.0, 75.0)

    def __post_init__(self) -> None:
        object.__setattr__(self, "codec_families", tuple(self.codec_families))
        object.__setattr__(self, "tasks", tuple(self.tasks))
        object.__setattr__(self, "distance_experts", tuple(float(ppd) for ppd in self.distance_experts))
        experts = self.distance_experts
        if any(not ppd > 0 for ppd in experts) or list(experts) != sorted(set(experts)):
            raise ModelError(f"distance_experts must be increasing positive pixels per degree, not {list(experts)}.")
        if len(experts) == 1:
            raise ModelError("distance_experts needs two distances or more (none: one set of heads for all).")
        if experts and self.distance_offset:
            raise ModelError("An SG-JND network has distance experts or a distance slope, not both.")
        unknown = [task for task in self.tasks if task not in TASKS]
        if unknown:
            raise ModelError(f"tasks must be among {', '.join(TASKS)}, not {unknown[0]!r}.")
        for name, allowed in (("reference_chroma", REFERENCE_CHROMA), ("patch_visibility", PATCH_VISIBILITY),
                              ("patch_layout", PATCH_LAYOUTS)):
            if getattr(self, name) not in allowed:
                raise ModelError(f"{name} must be one of {', '.join(allowed)}, not {getattr(self, name)!r}.")
        if not self.backbone_differences and self.patch_visibility == "none":
            raise ModelError("An SG-JND network without backbone differences needs patch_visibility to see the "
                             "distortion.")

    @property
    def visibility_inputs(self) -> int:
        """How many numbers per patch the heads read besides the semantic tokens."""
        return PATCH_VISIBILITY_INPUTS if self.patch_visibility == "subband" else 0

    def task_index(self, task: str) -> int:
        """Index of a viewing task among :attr:`tasks` (-1 for a network without task offsets); one sentence for a
        task the network was not trained for."""
        if not self.tasks:
            if task != SIDE_BY_SIDE:
                raise ModelError(f"These SG-JND weights were trained for the side-by-side task only, not {task}; "
                                 "retrain them with 'jndviewer train sgjnd' (both tasks by default).")
            return -1
        if task not in self.tasks:
            raise ModelError(f"These SG-JND weights were trained for {', '.join(self.tasks)}, not {task}.")
        return self.tasks.index(task)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def feature_key(self) -> dict[str, Any]:
        """The fields the cached backbone features depend on (the heads' width and inputs do not change them)."""
        heads_only = ("width", "patch_visibility", "backbone_differences", "codec_families", "tasks",
                      "distance_offset", "distance_experts")
        return {k: v for k, v in self.to_dict().items() if k not in heads_only}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SGJNDConfig:
        """Read a stored configuration; fields added later take the value that files from before them meant."""
        try:
            required = {k: data[k] for k in ("backbone", "patch", "patches", "grid", "width")}
            optional = {f.name: data.get(f.name, LEGACY_CONFIG[f.name]) for f in fields(cls) if f.name not in required}
            return cls(**required, **optional)
        except (KeyError, TypeError) as err:
            raise ModelError(f"The SG-JND configuration is not readable ({err}).") from err
