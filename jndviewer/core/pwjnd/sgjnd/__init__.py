"""SG-JND: a semantic-guided picture-wise JND network with patch quality and patch weight (after Cao et al., ICIP 2024).

- :mod:`~jndviewer.core.pwjnd.sgjnd.config`: the stored configuration and its constants;
- :mod:`~jndviewer.core.pwjnd.sgjnd.backbones`: the frozen ImageNet backbones;
- :mod:`~jndviewer.core.pwjnd.sgjnd.patches`: patch layout, crops and each patch's subband visibility;
- :mod:`~jndviewer.core.pwjnd.sgjnd.network`: cross-scale attention, the heads and the whole network;
- :mod:`~jndviewer.core.pwjnd.sgjnd.predictor`: the shipped weights and the predictor (registry name ``sgjnd``).

Training lives in :mod:`jndviewer.core.train.sgjnd_trainer`.
"""

from jndviewer.core.pwjnd.sgjnd.backbones import EfficientNetLite0Backbone, ResNet50Backbone, make_backbone
from jndviewer.core.pwjnd.sgjnd.config import (
    EXPORT_FORMAT,
    LEGACY_CONFIG,
    PATCH_VISIBILITY_FLOOR,
    TRAINING_CONDITION,
    SGJNDConfig,
)
from jndviewer.core.pwjnd.sgjnd.network import (
    ReferenceFeatures,
    SGJNDDistanceExperts,
    SGJNDEnsemble,
    SGJNDHead,
    SGJNDNetwork,
    codec_family,
    codec_family_name,
    expert_weights,
    patch_features,
    pool_features,
)
from jndviewer.core.pwjnd.sgjnd.patches import (
    PatchVisibility,
    covering_positions,
    crop_patches,
    patch_positions,
    reference_patches,
    subsample_chroma_420,
    tile_positions,
)
from jndviewer.core.pwjnd.sgjnd.predictor import SGJNDPredictor, load_network

__all__ = [
    "EXPORT_FORMAT", "LEGACY_CONFIG", "PATCH_VISIBILITY_FLOOR", "TRAINING_CONDITION", "EfficientNetLite0Backbone",
    "PatchVisibility", "ReferenceFeatures", "ResNet50Backbone", "SGJNDConfig", "SGJNDDistanceExperts",
    "SGJNDEnsemble", "SGJNDHead", "SGJNDNetwork", "SGJNDPredictor", "codec_family", "codec_family_name",
    "covering_positions", "crop_patches", "expert_weights", "load_network", "make_backbone", "patch_features",
    "patch_positions", "pool_features", "reference_patches", "subsample_chroma_420", "tile_positions",
]
