"""The cache of a ladder's rungs: least recently used rungs go first, and the total stays within a bound in bytes.

:class:`RungCache` has no lock of its own. Its owner, :class:`~jndviewer.core.ladder.Ladder`, calls it with the lock
that also guards the ladder's table of encodes under way and its kept errors, so that a request sees the cache and
those tables in one consistent state.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import NamedTuple

from jndviewer.core.codecs.base import Level
from jndviewer.core.ladder.rung import Rung

__all__ = ["CacheInfo", "RungCache"]


class CacheInfo(NamedTuple):
    """Cache statistics of a :class:`Ladder`.

    Attributes
    ----------
    hits : int
        Direct requests answered without starting an encode (from the cache, or by joining an encode under way).
    misses : int
        Encodes started, by direct requests and by prefetch.
    evictions : int
        Rungs dropped from the cache to make room.
    bytes : int
        Bytes held now (decoded pixels plus compressed data of every cached rung).
    limit : int
        The bound on ``bytes``.
    """

    hits: int
    misses: int
    evictions: int
    bytes: int
    limit: int


class RungCache:
    """Rungs by level, least recently used first, bounded in bytes (decoded pixels plus compressed data per rung).

    The cache never exceeds its bound, and a rung larger than the whole bound is not stored. It also keeps the
    counters that :class:`CacheInfo` reports: it counts evictions itself, while :attr:`hits` and :attr:`misses` are
    counted by the owner as well, since only the owner knows when a request joins an encode under way (a hit) or
    starts one (a miss).

    Not thread-safe: call every method with the owner's lock held.

    Parameters
    ----------
    limit : int
        The bound in bytes; 0 caches nothing.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.nbytes = 0
        self.hits = 0
        self.misses = 0
        self.evictions = 0
        self._rungs: OrderedDict[Level, Rung] = OrderedDict()

    def __contains__(self, level: object) -> bool:
        return level in self._rungs

    def levels(self) -> tuple[Level, ...]:
        """The cached levels, least recently used first."""
        return tuple(self._rungs)

    def peek(self, level: Level) -> Rung | None:
        """The cached rung of ``level``, or ``None``; does not change the LRU order or the counters."""
        return self._rungs.get(level)

    def use(self, level: Level) -> Rung | None:
        """The cached rung of ``level`` made the most recently used and counted as a hit, or ``None`` (not counted)."""
        cached = self._rungs.get(level)
        if cached is not None:
            self._rungs.move_to_end(level)
            self.hits += 1
        return cached

    def store(self, level: Level, rung: Rung) -> None:
        """Put a finished rung in the cache, evicting least recently used ones."""
        size = rung.cache_bytes
        if size > self.limit:
            return
        old = self._rungs.pop(level, None)
        if old is not None:
            self.nbytes -= old.cache_bytes
        while self._rungs and self.nbytes + size > self.limit:
            _, evicted = self._rungs.popitem(last=False)
            self.nbytes -= evicted.cache_bytes
            self.evictions += 1
        self._rungs[level] = rung
        self.nbytes += size

    def clear(self) -> None:
        """Drop every rung (the counters are kept)."""
        self._rungs.clear()
        self.nbytes = 0

    def info(self) -> CacheInfo:
        """Hits, misses, evictions, bytes held and the bound."""
        return CacheInfo(self.hits, self.misses, self.evictions, self.nbytes, self.limit)
