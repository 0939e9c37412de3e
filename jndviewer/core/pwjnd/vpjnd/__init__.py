"""VP-JNDnet: a picture-wise JND classifier that reads the reference's pixel-wise JND map (after Zhang et al.,
IEEE TCSVT 2025).

- :mod:`~jndviewer.core.pwjnd.vpjnd.config`: the stored configuration and its constants;
- :mod:`~jndviewer.core.pwjnd.vpjnd.network`: the three streams, the heads, inference on whole images;
- :mod:`~jndviewer.core.pwjnd.vpjnd.predictor`: the shipped weights and the predictor (registry name ``vpjnd``).

Training lives in :mod:`jndviewer.core.train.vpjnd_trainer`.
"""

from jndviewer.core.pwjnd.vpjnd.config import EXPORT_FORMAT, NO_JND_MAP, VPJNDConfig

__all__ = ["EXPORT_FORMAT", "NO_JND_MAP", "VPJNDConfig"]
