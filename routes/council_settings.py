"""Administrators change their council's name, branding, emergency numbers, duty address and contact details for residents."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from civic import council_settings
from civic.errors import Invalid
from routes.web import current_council, current_user, flash, form_values, redirect, render


async def settings_form(request: Request) -> Response:
    values = await council_settings.current(current_user(request), current_council(request))  # type: ignore[arg-type]
    return render(request, "admin/council.html", {"values": values, "errors": {}})


async def settings_save(request: Request) -> Response:
    values = form_values(await request.form())
    try:
        changed = await council_settings.change(current_user(request), current_council(request), values)  # type: ignore[arg-type]
    except Invalid as error:
        return render(request, "admin/council.html", {"values": values, "errors": error.errors}, status_code=422, block="form")
    flash(request, f"Saved: the {', '.join(changed)} changed. Every page shows it within a minute." if changed else "Nothing changed.")
    return redirect("/admin/council")


routes = [
    Route("/admin/council", settings_form, methods=["GET"], name="council_settings_form"),
    Route("/admin/council", settings_save, methods=["POST"], name="council_settings_save"),
]
