"""The loader fuzz as a test: generated images, written as PNG, JPEG and TIFF, then damaged byte by byte.

Whatever the bytes, :func:`jndviewer.core.image.load` either returns a canonical image or raises a
:class:`~jndviewer.core.errors.JndViewerError` (one sentence); any other exception, or a load that takes more than
:data:`HANG_SECONDS`, fails. The run is derandomised (the same examples every time): about 2,500 files in some 5 to
10 seconds.
"""

from __future__ import annotations

import io
import signal
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image as PilImage

from jndviewer.core.errors import JndViewerError
from jndviewer.core.image import Image, load

imagecodecs = pytest.importorskip("imagecodecs")

#: A load slower than this counts as a hang (tiny files: a healthy load takes milliseconds).
HANG_SECONDS = 10
#: The fuzzed files claim at most this many pixels before the loader refuses them; small, so that a damaged header
#: claiming a large image costs little memory and time.
FUZZ_MAX_PIXELS = 1_000_000

KINDS = ("png", "png16", "png-palette", "jpeg", "jpeg-exif", "tiff", "tiff16", "tiff-float", "tiff-deflate")


def _pixels(kind: str, height: int, width: int, channels: int, seed: int) -> np.ndarray:
    """A generated image: smooth ramps plus noise, in the dtype and channel count the kind stores."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    ramp = (x * 7 + y * 3)[..., None] + np.arange(channels) * 40
    values = (ramp + rng.normal(0, 30, (height, width, channels))) % 256
    if kind in ("png16", "tiff16"):
        return (values * 257).astype(np.uint16)
    if kind == "tiff-float":
        return (values / 255).astype(np.float32)
    return values.astype(np.uint8)


def _encode(kind: str, pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    channels = pixels.shape[2]
    squeezed = pixels[..., 0] if channels == 1 else pixels
    if kind in ("png16", "tiff16", "tiff-float"):
        photometric = "minisblack" if channels == 1 else "rgb"
        if kind == "png16":
            return bytes(imagecodecs.png_encode(squeezed))
        return bytes(imagecodecs.tiff_encode(squeezed, photometric=photometric))
    if kind in ("jpeg", "jpeg-exif") and channels == 4:
        squeezed = pixels[..., :3]
    picture = PilImage.fromarray(squeezed)
    if kind == "png-palette":
        picture = picture.convert("RGB").quantize(16)
        picture.save(buffer, format="PNG", transparency=3)
    elif kind == "jpeg":
        picture.save(buffer, format="JPEG", quality=80)
    elif kind == "jpeg-exif":
        exif = PilImage.Exif()
        exif[0x0112] = 6  # rotated: the orientation path too
        picture.save(buffer, format="JPEG", quality=60, progressive=True, exif=exif.tobytes())
    elif kind == "tiff-deflate":
        picture.save(buffer, format="TIFF", compression="tiff_adobe_deflate")
    elif kind == "tiff":
        picture.save(buffer, format="TIFF")
    else:
        picture.save(buffer, format="PNG")
    return buffer.getvalue()


@st.composite
def sources(draw: st.DrawFn) -> tuple[str, bytes]:
    """A generated image encoded as one of :data:`KINDS`: its kind and its bytes."""
    kind = draw(st.sampled_from(KINDS))
    height, width = draw(st.integers(1, 24)), draw(st.integers(1, 24))
    channels = draw(st.sampled_from((1, 3, 4)))
    if kind == "tiff-float" and channels == 4:
        channels = 3
    seed = draw(st.integers(0, 2**16))
    return kind, _encode(kind, _pixels(kind, height, width, channels, seed))


_INTERESTING = (0, 1, 2, 8, 16, 255, 256, 0x7FFF, 0xFFFF, 0x10000, 0x7FFFFFFF, 0xFFFFFFFF)

mutation = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 10**6), st.integers(1, 255)),  # xor one byte
    st.tuples(st.just("set"), st.integers(0, 10**6), st.sampled_from(_INTERESTING)),  # a 4-byte field, big-endian
    st.tuples(st.just("set-le"), st.integers(0, 10**6), st.sampled_from(_INTERESTING)),  # and little-endian (TIFF)
    st.tuples(st.just("truncate"), st.integers(0, 10**6), st.just(0)),
    st.tuples(st.just("delete"), st.integers(0, 10**6), st.integers(1, 64)),
    st.tuples(st.just("insert"), st.integers(0, 10**6), st.integers(0, 255)),
)


def _mutate(data: bytes, mutations: list[tuple[str, int, int]]) -> bytes:
    out = bytearray(data)
    for op, where, value in mutations:
        if not out:
            break
        # Most of a file's structure is in its first bytes: aim half of the mutations there.
        position = where % min(len(out), 64) if where % 2 else where % len(out)
        if op == "flip":
            out[position] ^= value
        elif op in ("set", "set-le"):
            out[position : position + 4] = value.to_bytes(4, "big" if op == "set" else "little")
        elif op == "truncate":
            del out[max(1, position) :]
        elif op == "delete":
            del out[position : position + value]
        else:
            out[position:position] = bytes([value]) * 16
    return bytes(out)


class _Hang(BaseException):
    """Not an Exception: the loader's ``except Exception`` must not turn a hang into an ordinary refusal."""


@contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`_Hang` in this (the main) thread when the block runs longer than ``seconds``."""

    def alarm(signum: int, frame: object) -> None:
        raise _Hang(f"load ran for more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture(scope="module")
def folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="jndviewer-fuzz-") as name:
        yield Path(name)


def _check(folder: Path, data: bytes, suffix: str) -> None:
    path = folder / f"fuzz{suffix}"
    path.write_bytes(data)
    try:
        with _time_limit(HANG_SECONDS):
            image = load(path, max_pixels=FUZZ_MAX_PIXELS)
    except JndViewerError as err:
        message = str(err)
        assert message and "\n" not in message, message
        return
    assert isinstance(image, Image)
    assert image.pixels.ndim == 3 and image.pixels.shape[2] == 3
    assert image.pixels.dtype in (np.uint8, np.uint16)
    assert image.width * image.height <= FUZZ_MAX_PIXELS


_SUFFIX = {"png": ".png", "jpeg": ".jpg", "tiff": ".tif"}


@pytest.mark.filterwarnings("ignore::UserWarning")  # Pillow's "Corrupt EXIF data" and the like, file after file
@settings(max_examples=2000, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(source=sources(), mutations=st.lists(mutation, min_size=0, max_size=4))
def test_load_raises_only_jndviewer_errors_on_damaged_files(folder: Path, source, mutations) -> None:
    kind, data = source
    _check(folder, _mutate(data, mutations), _SUFFIX[kind.split("-")[0].rstrip("16")])


@pytest.mark.filterwarnings("ignore::UserWarning")
@settings(max_examples=500, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(min_size=0, max_size=512), head=st.sampled_from(
    (b"", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*", b"GIF89a", b"RIFF\0\0\0\0WEBP",
     b"\0\0\0\x1cftypavif", b"\0\0\0\x18ftypheic")))
def test_load_raises_only_jndviewer_errors_on_random_bytes(folder: Path, data: bytes, head: bytes) -> None:
    _check(folder, head + data, ".img")
