"""Voting routes: rounds, ballots, results and exports, officers' pages. Drafts exist only for staff."""

from __future__ import annotations

from civic import voting
from civic.voting.report import stop_token
from tests.factories import create_round_ok, create_user_ok, priorities_of
from tests.routes.permissions import HIDDEN, ROLES, SIGN_IN, Case, World, council_roles, everyone

STAFF = {"officer", "admin"}
LOCKED = 409  # the round is open: its rules cannot change, or results are hidden


def staff(ok: int, denied: int = 403, anonymous: int = 403) -> dict[str, int]:
    return council_roles(STAFF, ok=ok, denied=denied, anonymous=anonymous)


def staff_page(ok: int = 200) -> dict[str, int]:
    return council_roles(STAFF, ok=ok, denied=403, anonymous=SIGN_IN)


# Residents of this council (and its staff, who live in its wards) can vote; other councils' staff live elsewhere.
VOTERS = {"resident", "officer", "key-worker", "admin"}
NEW_ROUND = {"title": "Made by {role}", "method": "split", "eligibility": "residents", "shares_per_resident": "100", "minimum_priorities": "1"}

CASES = [
    Case("GET", "/rounds", everyone()),
    Case("GET", "/rounds/{round_id}", everyone()),
    Case("GET", "/rounds/{draft_id}", {**everyone(HIDDEN), "officer": 200, "admin": 200}, note="drafts only for staff"),
    Case("GET", "/rounds/{round_id}/ballot", {**everyone(200), "anonymous": SIGN_IN}),
    Case("POST", "/rounds/{round_id}/ballot", {role: 422 if role in VOTERS else 403 for role in ROLES}, note="an empty ballot: eligible voters are told what is missing"),
    Case("POST", "/rounds/{round_id}/ballot/preview", everyone(200)),
    Case("GET", "/rounds/{round_id}/ballot/receipt", everyone(303), note="no receipt in this session: back to the ballot"),
    Case("GET", "/rounds/{round_id}/results", everyone(200), note="says the results are hidden"),
    Case("GET", "/rounds/{round_id}/results.csv", everyone(LOCKED)),
    Case("GET", "/rounds/{round_id}/ballots", everyone(200), note="says the ballots are hidden"),
    Case("GET", "/rounds/{round_id}/export.pb", everyone(LOCKED)),
    Case("GET", "/api/v1/rounds/{round_id}/results", everyone(LOCKED)),
    Case("GET", "/api/v1/rounds/{draft_id}/results", everyone(HIDDEN), note="the API has no session, so drafts are hidden from all"),
    Case("GET", "/rounds/{published_id}/results.csv", everyone(200)),
    Case("GET", "/rounds/{published_id}/export.pb", everyone(200)),
    Case("GET", "/api/v1/rounds/{published_id}/results", everyone(200)),
    Case("GET", "/rounds/report/stop/{token}", everyone(200)),
    Case("POST", "/rounds/report/stop/{token}", everyone(200)),
    Case("GET", "/officer/rounds", staff_page()),
    Case("POST", "/officer/rounds", staff(303), data=NEW_ROUND),
    Case("GET", "/officer/rounds/new", staff_page()),
    Case("GET", "/officer/rounds/import", staff_page()),
    Case("POST", "/officer/rounds/import", staff(422), note="no file chosen"),
    Case("GET", "/officer/rounds/identity", staff_page()),
    Case("POST", "/officer/rounds/identity", staff(422), data={"email": "", "evidence": ""}),
    Case("GET", "/officer/rounds/{round_id}", staff_page()),
    Case("GET", "/officer/rounds/{round_id}/edit", staff_page(LOCKED), note="open: the rules are locked"),
    Case("GET", "/officer/rounds/{draft_id}/edit", staff_page()),
    Case("POST", "/officer/rounds/{round_id}/edit", staff(LOCKED), data=NEW_ROUND),
    Case("POST", "/officer/rounds/{draft_id}/edit", staff(303), data=NEW_ROUND),
    Case("POST", "/officer/rounds/{round_id}/priorities", staff(LOCKED), data={"title": "Late"}),
    Case("POST", "/officer/rounds/{draft_id}/priorities", staff(303), data={"title": "Added by {role}"}),
    Case("GET", "/officer/rounds/{round_id}/priorities/{priority_id}/edit", staff_page(LOCKED)),
    Case("POST", "/officer/rounds/{round_id}/priorities/{priority_id}/edit", staff(LOCKED), data={"title": "Renamed"}),
    Case("POST", "/officer/rounds/{round_id}/priorities/{priority_id}/remove", staff(LOCKED)),
    Case("POST", "/officer/rounds/{draft_id}/priorities/{draft_priority_id}/remove", staff(303), fresh=True),
    Case("POST", "/officer/rounds/{round_id}/priorities/{priority_id}/progress", staff(LOCKED), data={"status": "planned", "note": "Soon"}),
    Case("POST", "/officer/rounds/{published_id}/priorities/{published_priority_id}/progress", staff(303), data={"status": "planned", "note": "Soon"}),
    Case("POST", "/officer/rounds/{round_id}/open", staff(LOCKED), note="already open"),
    Case("POST", "/officer/rounds/{draft_id}/open", staff(303), fresh=True),
    Case("GET", "/officer/rounds/{round_id}/close", staff_page(), note="asks before closing; the round stays open"),
    Case("GET", "/officer/rounds/{draft_id}/close", staff_page(LOCKED), note="only an open round can be closed"),
    Case("GET", "/officer/rounds/{closed_id}/close", staff_page(LOCKED), note="already closed"),
    Case("POST", "/officer/rounds/{round_id}/close", staff(303), fresh=True),
    Case("GET", "/officer/rounds/{closed_id}/publish", staff_page(), note="asks before publishing; the round stays closed"),
    Case("GET", "/officer/rounds/{round_id}/publish", staff_page(LOCKED), note="still open"),
    Case("GET", "/officer/rounds/{published_id}/publish", staff_page(LOCKED), note="already published"),
    Case("POST", "/officer/rounds/{round_id}/publish", staff(LOCKED), note="still open"),
    Case("POST", "/officer/rounds/{closed_id}/publish", staff(303), fresh=True),
    Case("POST", "/officer/rounds/{round_id}/codes", staff(LOCKED), data={"size": "3"}, note="not a round for codes"),
    Case("POST", "/officer/rounds/{codes_id}/codes", staff(303), data={"size": "3"}),
    Case("GET", "/officer/rounds/{round_id}/codes/{batch_id}.csv", staff_page(HIDDEN), note="the batch is another round's"),
    Case("GET", "/officer/rounds/{codes_id}/codes/{batch_id}.csv", staff_page()),
    Case("GET", "/officer/rounds/{round_id}/codes/{batch_id}", staff_page(HIDDEN)),
    Case("GET", "/officer/rounds/{codes_id}/codes/{batch_id}", staff_page()),
    Case("GET", "/officer/rounds/{round_id}/paper", staff_page()),
    Case("POST", "/officer/rounds/{round_id}/paper", staff(LOCKED), note="not a round for codes"),
    Case("POST", "/officer/rounds/{codes_id}/paper", staff(422), data={"code": ""}),
]


async def setup(world: World) -> dict[str, str]:
    council = world.council
    officer = await create_user_ok(council, role="officer")
    open_round = await create_round_ok(council, officer=officer, priorities=2)
    draft = await create_round_ok(council, officer=officer, status="draft", priorities=2)
    closed = await create_round_ok(council, officer=officer, status="closed", priorities=2)
    published = await create_round_ok(council, officer=officer, status="published", priorities=2)
    codes = await create_round_ok(council, officer=officer, eligibility="codes", priorities=2)
    batch = await voting.generate_codes(officer, council, codes.id, {"size": "2"})
    voter = await create_user_ok(council)
    ballot = (await voting.cast_ballot(voter, council, open_round.id, {f"shares-{(await priorities_of(open_round))[0].id}": "10"})).ballot
    return {
        "round_id": str(open_round.id),
        "draft_id": str(draft.id),
        "closed_id": str(closed.id),
        "published_id": str(published.id),
        "codes_id": str(codes.id),
        "batch_id": str(batch.id),
        "priority_id": str((await priorities_of(open_round))[0].id),
        "draft_priority_id": str((await priorities_of(draft))[0].id),
        "published_priority_id": str((await priorities_of(published))[0].id),
        "token": stop_token(ballot.id),
    }
