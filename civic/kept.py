"""Public answers kept per process for a few seconds: what many people read at once in a surge.

Only what anyone may see belongs here, never one person's data. Each app process keeps its own copy,
so a change shows everywhere within the lifetime: CIVIC_PUBLIC_CACHE_SECONDS (0 turns keeping off),
or a fixed one for what cannot change (an open round's priorities).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

from civic import config

V = TypeVar("V")


class Kept(Generic[V]):
    """At most `size` answers, each for `lifetime` seconds (by default CIVIC_PUBLIC_CACHE_SECONDS); the
    oldest make room for new ones."""

    def __init__(self, size: int, lifetime: float | None = None):
        self.size = size
        self.lifetime = lifetime
        self._items: dict[Hashable, tuple[float, V]] = {}

    def __len__(self) -> int:
        return len(self._items)

    def _lifetime(self) -> float:
        return self.lifetime if self.lifetime is not None else config.current().public_cache_seconds

    def keeping(self) -> bool:
        """Whether anything put here is kept (a lifetime of 0 turns keeping off)."""
        return self._lifetime() > 0

    def get(self, key: Hashable) -> V | None:
        item = self._items.get(key)
        if item is None or item[0] <= time.monotonic() or self._lifetime() <= 0:
            return None
        return item[1]

    async def fetch(self, key: Hashable, read: Callable[[], Awaitable[V]]) -> V:
        """The kept answer for `key`, or `await read()` kept for next time."""
        kept = self.get(key)
        return kept if kept is not None else self.put(key, await read())

    def put(self, key: Hashable, value: V) -> V:
        lifetime = self._lifetime()
        if lifetime > 0:
            now = time.monotonic()
            if len(self._items) >= self.size:
                stale = [k for k, (until, _) in self._items.items() if until <= now]
                for k in stale or [next(iter(self._items))]:
                    del self._items[k]
            self._items[key] = (now + lifetime, value)
        return value
