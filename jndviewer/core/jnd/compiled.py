"""Whether the JND models run their compiled CPU kernels (:mod:`jndviewer.core.jnd.kernels`), without importing numba
to decide.

The models ask :func:`use_kernels` before each compiled pass and import :mod:`~jndviewer.core.jnd.kernels` only when
it says yes, so a process that computes on CUDA, in float64 or with the kernels switched off never imports numba.
That matters to a one-shot ``jndviewer map``: importing numba and loading the kernels from its on-disk cache costs
about half a second, more than the torch path takes for a small image (``benchmarks/bench_map_startup.py``).
Both paths give the same maps (``tests/core/test_jnd_kernels.py``).

``JNDVIEWER_KERNELS=0`` switches the kernels off for a whole process and ``=1`` keeps them on even where
:func:`worth_loading` would say no; :func:`set_enabled` switches them for the rest of the process, :func:`switched`
for a block of the calling thread only (the explorer computes maps in several worker threads at once).
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

import torch

#: Environment variable: ``0`` switches the compiled kernels off, ``1`` on (also for one-shot maps of small images).
KERNELS_ENV = "JNDVIEWER_KERNELS"

#: Below this many pixels, a process that computes one map is done sooner on the torch path than by importing numba
#: and loading the kernels from its cache first (about 0.5 s). Measured with ``benchmarks/bench_map_startup.py
#: --crossover``, 2 threads, quiet machine): the kernels pay off from about 0.85 MP for wu2013 (its torch prediction
#: is slow) and 21 MP for wu2017 and yang2005; for chou1995 the torch path was faster at every size up to 33 MP.
ONE_SHOT_TORCH_BELOW: dict[str, int] = {
    "chou1995": 40_000_000,
    "yang2005": 20_000_000,
    "wu2017": 20_000_000,
    "wu2013": 850_000,
}

_setting = os.environ.get(KERNELS_ENV, "").strip().lower()
_forced: bool | None = {"0": False, "off": False, "1": True, "on": True}.get(_setting)
_enabled = _forced is not False
#: A :func:`switched` block's setting, for its thread only (attribute ``on``; absent: the process's setting).
_thread = threading.local()


def enabled() -> bool:
    """Whether the compiled kernels may run (for tensors they serve) in the calling thread."""
    return getattr(_thread, "on", _enabled)


def set_enabled(on: bool) -> None:
    """Switch the compiled kernels on or off for the rest of the process (the torch path computes the same maps)."""
    global _enabled
    _enabled = bool(on)


@contextmanager
def switched(on: bool) -> Iterator[None]:
    """The kernels switched on or off inside the ``with`` block, in the calling thread only, as they were after it.

    Thread-local, so that two workers' blocks cannot undo each other: with a process-wide switch, one worker's
    ``finally`` could restore "off" after another's had restored "on", for the rest of the process.
    """
    had, before = hasattr(_thread, "on"), getattr(_thread, "on", None)
    _thread.on = bool(on)
    try:
        yield
    finally:
        if had:
            _thread.on = before
        else:
            del _thread.on


def loaded() -> bool:
    """Whether the kernels module (and numba) has been imported in this process already."""
    return "jndviewer.core.jnd.kernels" in sys.modules


def worth_loading(model: str, pixels: int) -> bool:
    """For a process that computes one map of ``pixels`` pixels with ``model`` on the CPU: whether loading the
    kernels saves time over the torch path. Yes when they are loaded already or ``JNDVIEWER_KERNELS=1``."""
    if _forced is not None:
        return _forced
    return loaded() or pixels >= ONE_SHOT_TORCH_BELOW.get(model, 0)


def for_one_map(model: str, pixels: int) -> AbstractContextManager[None]:
    """The kernels for one map of ``pixels`` pixels with ``model`` (in the calling thread): switched off where
    loading them would cost more than the torch path takes (:func:`worth_loading`), as they were otherwise. Serves
    the one-shot ``jndviewer map`` and the explorer's map of an image, each computed once."""
    return switched(enabled() and worth_loading(model, pixels))


def use_kernels(x: torch.Tensor) -> bool:
    """Whether to run the compiled kernel for ``x``: they serve float32 CPU tensors (see
    :func:`jndviewer.core.jnd.kernels.use_kernels`, asked last, which imports numba) while switched on."""
    if not enabled() or x.device.type != "cpu" or x.dtype != torch.float32:
        return False
    from jndviewer.core.jnd import kernels

    return kernels.use_kernels(x)
