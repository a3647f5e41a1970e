"""Moderating people: the list of who this council has stopped posting, and letting them post again.

(Moderating content, and stopping someone posting from a report, are in schemes.py.) `user_id` is
someone this council's officer stopped posting; `elsewhere_id` someone the other council stopped, whom
this council's officers may not even know was stopped (404).
"""

from __future__ import annotations

from civic import accounts
from tests.factories import create_user_ok
from tests.routes.permissions import HIDDEN, Case, World
from tests.routes.permissions.schemes import REASON, staff_only

CASES = [
    Case("GET", "/officer/moderation/suspended", staff_only()),
    Case("GET", "/officer/moderation/people/{user_id}/restore", staff_only()),
    Case("POST", "/officer/moderation/people/{user_id}/restore", staff_only(ok=303, anonymous=403), data=REASON, fresh=True),
    Case("GET", "/officer/moderation/people/{elsewhere_id}/restore", staff_only(ok=HIDDEN), note="another council stopped them"),
    Case("POST", "/officer/moderation/people/{elsewhere_id}/restore", staff_only(ok=HIDDEN, anonymous=403), data=REASON),
]


async def setup(world: World) -> dict[str, str]:
    suspended = await create_user_ok(world.council)
    await accounts.suspend(world.people["officer"], world.council, suspended, "Spam")
    elsewhere = await create_user_ok(world.other_council)
    await accounts.suspend(world.people["other-officer"], world.other_council, elsewhere, "Threats")
    return {"user_id": str(suspended.id), "elsewhere_id": str(elsewhere.id)}
