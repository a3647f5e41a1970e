"""Rate limits on sign-in and concern submission, in memory or in Redis (library `limits`)."""

from __future__ import annotations

import math
import time

from limits import parse
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from civic import config
from civic.errors import RateLimited

_limiters: dict[str, MovingWindowRateLimiter] = {}


def kept_per_process(uri: str) -> bool:
    """Whether counts in this storage live in one process: with several app processes, each counts alone."""
    return uri.split("://", 1)[0].removeprefix("async+") == "memory"


def _limiter() -> MovingWindowRateLimiter:
    uri = config.current().rate_limit_storage
    if uri not in _limiters:
        options = {"implementation": "redispy"} if "redis" in uri.split("://")[0] else {}  # redis-py is already ours
        storage: Storage = storage_from_string(uri if uri.startswith("async+") else "async+" + uri, **options)
        _limiters[uri] = MovingWindowRateLimiter(storage)
    return _limiters[uri]


def wait_words(seconds: float) -> str:
    """How long to wait, as a person would say it: 'a minute', '12 minutes', 'about 2 hours'."""
    minutes = math.ceil(max(seconds, 1) / 60)
    if minutes <= 1:
        return "a minute"
    if minutes < 90:
        return f"{minutes} minutes"
    return f"about {round(minutes / 60)} hours"


async def hit(rate: str, *key: str, message: str) -> None:
    """Count one attempt against `rate` (e.g. '5/minute') for this key; raise RateLimited when over.

    `{wait}` in the message becomes how long until one more attempt is allowed ('12 minutes').
    """
    item = parse(rate)
    if not await _limiter().hit(item, *key):
        if "{wait}" in message:
            stats = await _limiter().get_window_stats(item, *key)
            message = message.replace("{wait}", wait_words(stats.reset_time - time.time()))
        raise RateLimited(message)


async def allowed(rate: str, *key: str) -> bool:
    """Whether one more attempt would be within `rate`, without counting one."""
    return await _limiter().test(parse(rate), *key)


async def reset() -> None:
    """Forget every count (tests and `civic` maintenance)."""
    for limiter in _limiters.values():
        await limiter.storage.reset()
