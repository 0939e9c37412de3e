"""A rung of a ladder: one real encode of the image, its size, and its quality (PSNR/SSIM, computed lazily)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from jndviewer.core import metrics
from jndviewer.core.codecs.base import Codec, CodecError, Encoded, Level

__all__ = ["Rung", "rung_from_encode"]


@dataclass(frozen=True, eq=False)
class Rung:
    """One level of a ladder: a real encode of the image, its size, and (lazily) its quality.

    Attributes
    ----------
    level : int
        The codec level.
    encoded : Encoded
        The compressed bytes and the decoded image.
    nbytes : int
        Size of the compressed data in bytes.
    bpp : float
        Bits per pixel, ``8 nbytes / (H W)`` (over the codec's ``rate_shape`` when it has one).
    encode_seconds : float
        Wall-clock time of ``codec.encode`` (encode and decode).
    reference : numpy.ndarray
        The original 8-bit RGB image the metrics compare against (shared by all rungs of a ladder, read-only).

    Notes
    -----
    Rungs compare by identity. :attr:`psnr` and :attr:`ssim` are computed on first access and then kept.
    """

    level: Level
    encoded: Encoded = field(repr=False)
    nbytes: int
    bpp: float
    encode_seconds: float
    reference: np.ndarray = field(repr=False)
    _metrics: dict[str, float] = field(default_factory=dict, init=False, repr=False)

    @property
    def decoded(self) -> np.ndarray:
        """The decoded ``H x W x 3`` uint8 RGB image (read-only)."""
        return self.encoded.decoded

    @property
    def data(self) -> bytes:
        """The compressed bytes."""
        return self.encoded.data

    @property
    def psnr(self) -> float:
        """PSNR of the decoded image against the reference, in dB (:func:`jndviewer.core.metrics.psnr`)."""
        return self._metric("psnr", metrics.psnr)

    @property
    def ssim(self) -> float:
        """SSIM of the decoded image against the reference, on luma (:func:`jndviewer.core.metrics.ssim`)."""
        return self._metric("ssim", metrics.ssim)

    def metrics_computed(self) -> frozenset[str]:
        """Names of the metrics already computed (``"psnr"``, ``"ssim"``)."""
        return frozenset(self._metrics)

    def _metric(self, name: str, function: Callable[[np.ndarray, np.ndarray], float]) -> float:
        value = self._metrics.get(name)
        if value is None:
            # Two threads may both compute; setdefault keeps the first result so every reader sees the same number.
            value = self._metrics.setdefault(name, float(function(self.reference, self.encoded.decoded)))
        return value

    @property
    def cache_bytes(self) -> int:
        """What this rung costs in a ladder cache: decoded pixels plus compressed data."""
        return int(self.encoded.decoded.nbytes) + len(self.encoded.data)


def rung_from_encode(codec: Codec, level: Level, encoded: Encoded, seconds: float, reference: np.ndarray) -> Rung:
    """The rung of an encode of ``reference`` by ``codec``, its decoded pixels checked and made read-only.

    Raises
    ------
    CodecError
        If the encode did not decode to an array of ``reference``'s shape as uint8.
    """
    decoded = np.asarray(encoded.decoded)
    if decoded.shape != reference.shape or decoded.dtype != np.uint8:
        raise CodecError(
            f"{codec.title or codec.name} decoded level {level} to {decoded.shape} {decoded.dtype}, "
            f"not {reference.shape} uint8."
        )
    if decoded.flags.writeable:
        # Cached pixels are shared by every viewer of the rung; make accidental writes fail loudly.
        decoded = decoded.view()
        decoded.setflags(write=False)
    if decoded is not encoded.decoded:
        encoded = Encoded(encoded.data, decoded, encoded.level)
    height, width = reference.shape[:2]
    nbytes = len(encoded.data)
    # A codec whose bytes encode a larger image than the pixels it returns (the explorer's preview of a very large
    # image, core.preview.ReducedEncodes) says over how many pixels its rate counts.
    rate_shape = getattr(codec, "rate_shape", None) or (height, width)
    return Rung(
        level=level,
        encoded=encoded,
        nbytes=nbytes,
        bpp=metrics.bits_per_pixel(nbytes, *rate_shape),
        encode_seconds=seconds,
        reference=reference,
    )
