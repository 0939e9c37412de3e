"""Cancellation of ladder requests: what a ``cancel`` argument must offer, and the error a cancelled request raises."""

from __future__ import annotations

from typing import Protocol

from jndviewer.core.codecs.base import Level
from jndviewer.core.errors import JndViewerError

__all__ = ["CancelEvent", "Cancelled", "raise_if_cancelled"]


class CancelEvent(Protocol):
    """What ``cancel`` arguments need: :class:`threading.Event` fits."""

    def is_set(self) -> bool: ...


class Cancelled(JndViewerError):
    """A ladder request was cancelled through its ``cancel`` event."""


def raise_if_cancelled(cancel: CancelEvent | None, level: Level) -> None:
    """Raise :class:`Cancelled` for the request of ``level`` when ``cancel`` is given and set."""
    if cancel is not None and cancel.is_set():
        raise Cancelled(f"The request for level {level} was cancelled.")
