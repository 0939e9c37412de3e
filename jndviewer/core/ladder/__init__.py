"""One image through one codec at every level: an ordered "ladder" of real encodes, computed on demand and cached.

Import from here (``from jndviewer.core.ladder import Ladder``); the package's modules are:

``ladder``
    :class:`Ladder`, the facade: requests, the rate-distortion table, prefetch and shutdown. Its module docstring
    describes the threading model.
``rung``
    :class:`Rung`: one encode, its size, and its PSNR/SSIM computed on first access.
``rung_cache``
    The LRU cache of rungs bounded in bytes, and its statistics (:class:`CacheInfo`).
``prefetch``
    The single background thread that encodes the neighbours of the level being shown.
``cancellation``
    What a ``cancel`` argument must offer, and :class:`Cancelled`.

This package imports neither torch nor Qt.
"""

from __future__ import annotations

from jndviewer.core.ladder.cancellation import CancelEvent as CancelEvent
from jndviewer.core.ladder.cancellation import Cancelled
from jndviewer.core.ladder.ladder import Ladder
from jndviewer.core.ladder.ladder import ProgressCallback as ProgressCallback
from jndviewer.core.ladder.rung import Rung
from jndviewer.core.ladder.rung_cache import CacheInfo

__all__ = ["CacheInfo", "Cancelled", "Ladder", "Rung"]
