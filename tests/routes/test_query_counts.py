"""Database queries per page stay few, and do not grow with the number of rows shown (no N+1)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from tests.factories import Browser, create_concern_ok, create_round_ok, create_scheme_ok, create_team_ok, create_user_ok, vote_ok

# Budgets: the most queries each page may make (the session with its user and roles, and the page's own data).
# Measured when written (home, sign-in and the concern form need none: the council is cached and an
# anonymous visitor has no session); a page that needs more should say why.
BUDGET = {
    "home": 1,
    "sign-in": 1,
    "directory": 8,
    "directory search": 8,
    "scheme page": 8,
    "ballot": 3,  # the session with its user and roles, the round, the ballot with its shares (an open round's priorities and wards are kept)
    "concern form": 1,
    "officer home": 15,  # one or two queries for each area's section
    "concern queue": 12,
}


class QueryCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


async def queries(fetch: Callable[[], Awaitable[object]]) -> int:
    """How many statements the database client ran while `fetch` ran."""
    logger = logging.getLogger("tortoise.db_client")
    counter, level = QueryCounter(), logger.level
    logger.addHandler(counter)
    logger.setLevel(logging.DEBUG)
    try:
        response = await fetch()
        assert getattr(response, "status_code", 200) == 200, response
    finally:
        logger.removeHandler(counter)
        logger.setLevel(level)
    return counter.count


async def _pages(app, council, officer, resident, round_id, slug):
    async with Browser(app, council) as anonymous, Browser(app, council) as voter, Browser(app, council) as staff:
        await voter.signin_as(resident)
        await staff.signin_as(officer)
        await anonymous.get("/")  # the CSRF cookie, as a returning visitor has
        return {
            "home": await queries(lambda: anonymous.get("/")),
            "sign-in": await queries(lambda: anonymous.get("/signin")),
            "directory": await queries(lambda: anonymous.get("/schemes")),
            "directory search": await queries(lambda: anonymous.get("/schemes?q=Friendly+NEIGHBOURS")),
            "scheme page": await queries(lambda: anonymous.get(f"/schemes/{slug}")),
            "ballot": await queries(lambda: voter.get(f"/rounds/{round_id}/ballot")),
            "concern form": await queries(lambda: anonymous.get("/concerns/new/about")),
            "officer home": await queries(lambda: staff.get("/officer")),
            "concern queue": await queries(lambda: staff.get("/officer/concerns")),
        }


async def test_main_pages_make_few_queries_whatever_the_number_of_rows(app, council):
    size = 3
    officer = await create_user_ok(council, role="officer")
    resident = await create_user_ok(council)
    await create_team_ok(council, default=True, members=[await create_user_ok(council, role="key-worker")])
    round_ = await create_round_ok(council, priorities=4, officer=officer)
    scheme = await create_scheme_ok(council)
    for _ in range(size):
        await create_concern_ok(council)
    small = await _pages(app, council, officer, resident, round_.id, scheme.slug)

    # Ten times the rows on every page.
    for _ in range(size * 9):
        await create_scheme_ok(council)
        await create_concern_ok(council)
        await vote_ok(council, round_, await create_user_ok(council), 10, 20, 30, 40)
    large = await _pages(app, council, officer, resident, round_.id, scheme.slug)

    report = {page: (small[page], large[page]) for page in small}
    print("\nqueries per page (few rows, ten times the rows):", report)
    grew = {page: counts for page, counts in report.items() if counts[1] > counts[0]}
    assert not grew, f"queries grow with the rows shown (N+1): {grew}"
    over = {page: counts[1] for page, counts in report.items() if counts[1] > BUDGET[page]}
    assert not over, f"pages over their query budget {BUDGET}: {over}"
