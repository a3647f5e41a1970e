"""Rate limits hold across app processes when they share Redis."""

from __future__ import annotations

import os
import uuid
from dataclasses import replace

import pytest

from civic import config, ratelimit
from civic.errors import RateLimited
from tests.peers import IN_CI, need


async def test_limits_shared_through_redis_refuse_the_sixth_attempt(settings):
    url = os.environ.get("CIVIC_TEST_REDIS_URL", "redis://127.0.0.1:6379/15" if not IN_CI else "")
    need(bool(url), "CIVIC_TEST_REDIS_URL")
    import redis.asyncio as aioredis

    try:
        await aioredis.from_url(url).ping()
    except OSError:
        need(False, f"Redis at {url}")
    config.use(replace(settings, rate_limit_storage=url))
    try:
        key = uuid.uuid4().hex
        for _ in range(5):
            await ratelimit.hit("5/minute", "test", key, message="slow down")
        with pytest.raises(RateLimited, match="slow down"):
            await ratelimit.hit("5/minute", "test", key, message="slow down")
        await ratelimit.hit("5/minute", "test", uuid.uuid4().hex, message="slow down")  # another key is unaffected
    finally:
        config.use(settings)
