"""Concern routes: anyone may raise one and follow it by its secret link; only officers and the
team's key workers of that council may see one, and everyone else is told it does not exist."""

from __future__ import annotations

import itertools

from civic.concerns.intake import STEPS
from civic.concerns.models import Category, RoutingRule, TeamMembership
from tests.factories import (
    create_concern_ok,
    create_team_ok,
    create_user_ok,
    refer_ok,
    ward,
)
from tests.routes.permissions import (
    HIDDEN,
    ROLES,
    SIGN_IN,
    Case,
    World,
    council_roles,
    everyone,
)

_names = itertools.count(1)

CONFIGURE = {"officer", "admin"}


def concern_readers(ok: int = 200, key_worker: int | None = None, anonymous: int = SIGN_IN) -> dict[str, int]:
    """Officers of this council, and key workers of the team it went to; everyone else gets 404."""
    expect = {role: HIDDEN for role in ROLES} | {"anonymous": anonymous, "officer": ok}
    expect["key-worker"] = ok if key_worker is None else key_worker
    return expect


def configure(ok: int = 303) -> dict[str, int]:
    return council_roles(CONFIGURE, ok=ok, anonymous=403)


CASES = [
    # Raising a concern: open to everyone, signed in or not.
    Case("GET", "/concerns", everyone()),
    Case("GET", "/concerns/new/about", everyone()),
    *(Case("GET", f"/concerns/new/{step}", everyone(303), note="without a draft: back to the first step") for step in STEPS[1:]),
    Case("POST", "/concerns/new/about", everyone(303), data={"about": "myself"}),
    *(Case("POST", f"/concerns/new/{step}", everyone(303), note="without a draft: back to the first step") for step in STEPS[1:]),
    Case("POST", "/concerns/new/delete", everyone(303), note="deletes this session's answers, if any"),
    Case("GET", "/concerns/status/{reference}/{key}", everyone()),
    Case("GET", "/concerns/status/{reference}/not-the-key", everyone(404), note="a wrong secret is an unknown concern"),
    Case("GET", "/concerns/status/{hidden_reference}/{key}", everyone(404), note="one concern's secret opens no other"),
    Case("POST", "/concerns/status/{reference}/{key}", everyone(303), data={"information": "It happened again."}),
    Case("POST", "/concerns/status/{reference}/not-the-key", everyone(404), data={"information": "Guessing."}),
    # Triage: officers, and key workers for their team's concerns only.
    Case("GET", "/officer/concerns", concern_readers()),
    Case("GET", "/officer/concerns/export.csv", concern_readers(key_worker=403)),
    Case("GET", "/officer/concerns/{reference}", concern_readers()),
    Case("GET", "/officer/concerns/{hidden_reference}", concern_readers(key_worker=HIDDEN), note="another team's concern"),
    Case("GET", "/officer/concerns/{reference}/access", concern_readers(key_worker=403)),
    Case("POST", "/officer/concerns/{reference}/contact", concern_readers(anonymous=403)),
    Case("POST", "/officer/concerns/{hidden_reference}/contact", concern_readers(key_worker=HIDDEN, anonymous=403)),
    Case("POST", "/officer/concerns/{reference}/assign", concern_readers(303, key_worker=403, anonymous=403), data={"team": "{own_team_id}"}),
    Case("POST", "/officer/concerns/{reference}/note", concern_readers(303, anonymous=403), data={"note": "Seen by {role}."}),
    Case("POST", "/officer/concerns/{hidden_reference}/note", concern_readers(303, key_worker=HIDDEN, anonymous=403), data={"note": "Hi"}),
    Case("POST", "/officer/concerns/{reference}/ask", concern_readers(303, key_worker=403, anonymous=403), data={"question": "When?"}),
    Case("POST", "/officer/concerns/{reference}/signpost", concern_readers(303, key_worker=403, anonymous=403), fresh=True,
         data={"scheme_name": "Abbey Friends", "scheme_url": "https://abbey-friends.example/"}),
    Case("POST", "/officer/concerns/{reference}/close", concern_readers(303, key_worker=403, anonymous=403), fresh=True,
         data={"reason": "Already known."}),
    Case("POST", "/officer/concerns/{reference}/merge", concern_readers(303, key_worker=403, anonymous=403), fresh=True,
         data={"into": "{hidden_reference}"}),
    Case("POST", "/officer/concerns/{reference}/refer", concern_readers(303, key_worker=403, anonymous=403), fresh=True),
    Case("POST", "/officer/concerns/{hidden_reference}/refer", concern_readers(303, key_worker=HIDDEN, anonymous=403), fresh=True),
    # What happened to a referral: the team's key workers record it when the team has no case system to post it.
    Case("POST", "/officer/concerns/{reference}/referral-status", concern_readers(403, key_worker=403, anonymous=403),
         data={"status": "received"}, note="not referred: there is no referral to record anything about"),
    Case("POST", "/officer/concerns/{referred_reference}/referral-status", concern_readers(403, key_worker=303, anonymous=403), fresh=True,
         data={"status": "received"}),
    Case("POST", "/officer/concerns/{hidden_reference}/referral-status", concern_readers(403, key_worker=HIDDEN, anonymous=403),
         data={"status": "received"}, note="another team's concern"),
    # Routing and counts: officers and administrators; nothing here says anything about a concern.
    Case("GET", "/officer/concerns/routing", council_roles(CONFIGURE)),
    Case("POST", "/officer/concerns/routing/teams", configure(), data={"team_name": "Team for {role} {team_id}"}),
    Case("POST", "/officer/concerns/routing/teams/{team_id}/default", configure()),
    Case("POST", "/officer/concerns/routing/teams/{team_id}/members", configure(422), note="422: no address given, after the permission check"),
    Case("POST", "/officer/concerns/routing/members/{membership_id}/remove", configure(), fresh=True),
    Case("POST", "/officer/concerns/routing/categories", configure(), data={"category_name": "Worry of {role} {team_id}"}),
    Case("POST", "/officer/concerns/routing/categories/{category_id}", configure(), data={"active": "yes"}),
    Case("POST", "/officer/concerns/routing/rules", configure(), fresh=True,
         data={"rule_category": "{category_id}", "rule_ward": "", "rule_team": "{team_id}"}),
    Case("POST", "/officer/concerns/routing/rules/{rule_id}/delete", configure(), fresh=True),
    Case("GET", "/officer/concerns/counts", council_roles(CONFIGURE)),
]


async def setup(world: World) -> dict[str, str]:
    council = world.council
    key_worker = world.people["key-worker"]
    team = await create_team_ok(council, default=True)
    await TeamMembership.get_or_create(team=team, user=key_worker)
    other_team = await create_team_ok(council)
    extra_worker = await create_user_ok(council, role="key-worker")
    membership = await TeamMembership.create(team=other_team, user=extra_worker)
    concern, key = await create_concern_ok(council, team=team)
    referred, _, _ = await refer_ok(council, team)
    hidden, _ = await create_concern_ok(council)
    category = await Category.create(council=council, slug=f"matrix-{next(_names)}", name=f"Matrix category {next(_names)}")
    rule_category = await Category.create(council=council, slug=f"matrix-{next(_names)}", name=f"Matrix category {next(_names)}")
    rule = await RoutingRule.create(council=council, category=rule_category, ward=await ward(council), team=other_team)
    return {
        "reference": concern.reference,
        "key": key,
        "hidden_reference": hidden.reference,
        "referred_reference": referred.reference,
        "own_team_id": str(team.id),
        "team_id": str(other_team.id),
        "membership_id": str(membership.id),
        "category_id": str(category.id),
        "rule_id": str(rule.id),
    }
