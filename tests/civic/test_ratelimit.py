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


@pytest.mark.parametrize(("seconds", "words"), [(0, "a minute"), (59, "a minute"), (61, "2 minutes"), (3600, "60 minutes"), (5400, "about 2 hours"), (86400, "about 24 hours")])
def test_how_long_to_wait_is_said_as_a_person_would(seconds, words):
    assert ratelimit.wait_words(seconds) == words


async def test_a_refusal_says_how_long_until_one_more_is_allowed(settings, clean_limits):
    key = uuid.uuid4().hex
    for _ in range(2):
        await ratelimit.hit("2/hour", "test", key, message="Wait {wait}.")
    with pytest.raises(RateLimited) as refused:
        await ratelimit.hit("2/hour", "test", key, message="Wait {wait}.")
    assert refused.value.message in ("Wait 60 minutes.", "Wait 59 minutes.")

