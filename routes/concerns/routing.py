"""Routing settings (teams, their key workers, categories and rules) and the anonymised counts."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from civic.concerns import purge, routing
from civic.errors import Invalid
from routes.web import current_council, current_user, flash, form_values, redirect, render, require_user

PAGE = "/officer/concerns/routing"


async def _page(request: Request, values: dict[str, str], errors: dict[str, str], status_code: int = 200) -> Response:
    settings = await routing.settings(require_user(request), current_council(request))
    context = {
        "settings": settings,
        "values": values,
        "errors": errors,
        "category_options": [(str(c.id), c.name) for c in settings.categories],
        "ward_options": [(str(w.id), w.name) for w in settings.wards],
        "team_options": [(str(t.id), t.name) for t in settings.teams],
    }
    return render(request, "concerns/officer/routing.html", context, status_code=status_code)


async def routing_page(request: Request) -> Response:
    return await _page(request, {}, {})


def _post(do: Callable[[Request, dict[str, str]], Awaitable[object]], done: str) -> Callable[[Request], Awaitable[Response]]:
    async def handler(request: Request) -> Response:
        require_user(request)
        values = form_values(await request.form())
        try:
            await do(request, values)
        except Invalid as error:
            return await _page(request, values, error.errors, status_code=422)
        flash(request, done)
        return redirect(PAGE)

    return handler


def _args(request: Request) -> tuple:
    return current_user(request), current_council(request)


team_add = _post(lambda r, v: routing.add_team(*_args(r), v.get("team_name", "")), "Team added.")
team_default = _post(lambda r, v: routing.make_default(*_args(r), r.path_params["team_id"]), "Default team changed.")
member_add = _post(
    lambda r, v: routing.add_member(*_args(r), r.path_params["team_id"], v.get(f"member_email_{r.path_params['team_id']}", "")),
    "Key worker added to the team.",
)
member_remove = _post(lambda r, v: routing.remove_member(*_args(r), r.path_params["membership_id"]), "Key worker removed from the team.")
category_add = _post(
    lambda r, v: routing.add_category(*_args(r), v.get("category_name", ""), v.get("refer_straight_away") == "yes"),
    "Category added.",
)
category_update = _post(
    lambda r, v: routing.update_category(
        *_args(r), r.path_params["category_id"], active=v.get("active") == "yes", refer_straight_away=v.get("refer_straight_away") == "yes"
    ),
    "Category changed.",
)
rule_add = _post(lambda r, v: routing.add_rule(*_args(r), v.get("rule_category", ""), v.get("rule_ward", ""), v.get("rule_team", "")), "Rule added.")
rule_delete = _post(lambda r, v: routing.delete_rule(*_args(r), r.path_params["rule_id"]), "Rule removed.")


async def counts(request: Request) -> Response:
    rows = await purge.counts(require_user(request), current_council(request))
    return render(request, "concerns/officer/counts.html", {"rows": rows, "total": sum(r.count for r in rows)})


routes = [
    Route(PAGE, routing_page, methods=["GET"], name="concern_routing"),
    Route(f"{PAGE}/teams", team_add, methods=["POST"], name="concern_team_add"),
    Route(f"{PAGE}/teams/{{team_id}}/default", team_default, methods=["POST"], name="concern_team_default"),
    Route(f"{PAGE}/teams/{{team_id}}/members", member_add, methods=["POST"], name="concern_member_add"),
    Route(f"{PAGE}/members/{{membership_id}}/remove", member_remove, methods=["POST"], name="concern_member_remove"),
    Route(f"{PAGE}/categories", category_add, methods=["POST"], name="concern_category_add"),
    Route(f"{PAGE}/categories/{{category_id}}", category_update, methods=["POST"], name="concern_category_update"),
    Route(f"{PAGE}/rules", rule_add, methods=["POST"], name="concern_rule_add"),
    Route(f"{PAGE}/rules/{{rule_id}}/delete", rule_delete, methods=["POST"], name="concern_rule_delete"),
    Route("/officer/concerns/counts", counts, methods=["GET"], name="concern_counts"),
]
