"""The rota: the coming shifts, the organisers' roster, adding and changing shifts, one date's page, sign-up, taking someone off a date, and visits."""

from __future__ import annotations

from datetime import date

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from civic.db import as_id
from civic.errors import Conflict, Invalid
from civic.schemes import access, lone_working, rota, safeguarding
from civic.schemes.when import parse_date
from routes import times  # noqa: F401 - registers the date filters
from routes.web import current_council, current_user, flash, form_values, path_number, redirect, render


def _on(request: Request) -> date | None:
    return parse_date(request.path_params["on"]) if len(request.path_params["on"]) == 10 else None


def _slot_args(request: Request) -> tuple:
    return current_user(request), current_council(request), request.path_params["slug"], path_number(request, "shift_id"), _on(request)


# The rota and the roster


async def rota_page(request: Request) -> Response:
    page = await rota.rota_page(current_user(request), current_council(request), request.path_params["slug"])
    return render(request, "rota/rota.html", {"page": page, "scheme": page.scheme})


async def roster_page(request: Request) -> Response:
    page = await rota.roster_page(current_user(request), current_council(request), request.path_params["slug"])
    return render(request, "rota/roster.html", {"page": page, "scheme": page.scheme})


# Adding a shift


def _shift_choices() -> dict[str, list]:
    return {"repeat_choices": list(rota.REPEATS.items()), "level_choices": list(safeguarding.DBS_LEVELS.items())}


async def _shift_form(request: Request, values: dict[str, str], errors: dict[str, str], status: int = 200) -> Response:
    scheme, _ = await access.find_for_organiser(current_user(request), current_council(request), request.path_params["slug"])
    context = {"scheme": scheme, "change": None, "values": values, "errors": errors, **_shift_choices()}
    return render(request, "rota/shift_form.html", context, status_code=status, block="form" if status == 422 else None)


async def shift_form(request: Request) -> Response:
    return await _shift_form(request, {"repeat": "once", "capacity": "2", "needs_dbs": "none", "public": "yes"}, {})


async def shift_create(request: Request) -> Response:
    values = form_values(await request.form())
    slug = request.path_params["slug"]
    try:
        shift = await rota.create_shift(current_user(request), current_council(request), slug, values)
    except Invalid as error:
        return await _shift_form(request, values, error.errors, status=422)
    flash(request, f"{shift.title} is on the rota.")
    return redirect(f"/schemes/{slug}/roster")


# Changing a shift


async def _change_form(request: Request, values: dict[str, str] | None, errors: dict[str, str], status: int = 200) -> Response:
    change = await rota.shift_to_change(current_user(request), current_council(request), request.path_params["slug"], path_number(request, "shift_id"))
    context = {"scheme": change.scheme, "change": change, "values": change.values if values is None else values, "errors": errors, **_shift_choices()}
    return render(request, "rota/shift_form.html", context, status_code=status, block="form" if status == 422 else None)


async def shift_edit_form(request: Request) -> Response:
    return await _change_form(request, None, {})


async def shift_update(request: Request) -> Response:
    values = form_values(await request.form())
    slug = request.path_params["slug"]
    try:
        shift = await rota.update_shift(current_user(request), current_council(request), slug, path_number(request, "shift_id"), values)
    except Invalid as error:
        return await _change_form(request, values, error.errors, status=422)
    flash(request, f"Your changes to {shift.title} are saved. Volunteers signed up for a date that changed, is cancelled or is back on the rota have been emailed.")
    return redirect(f"/schemes/{slug}/roster")


# One date of a shift


async def _slot(request: Request, values: dict[str, str] | None = None, errors: dict[str, str] | None = None, refused: str = "", status: int = 200) -> Response:
    page = await rota.slot_page(*_slot_args(request))
    # What was typed into one form, with the move form filled in as the date is unless that was the one.
    context = {"page": page, "scheme": page.scheme, "slot": page.slot, "values": {**page.move_values, **(values or {})}, "errors": errors or {}, "refused": refused or page.refusal}
    return render(request, "rota/slot.html", context, status_code=status)


async def slot_page(request: Request) -> Response:
    return await _slot(request)


async def sign_up(request: Request) -> Response:
    try:
        await rota.sign_up(*_slot_args(request))
    except Conflict as error:
        # Refused: the page again, saying why (a missing, low or lapsed check, or a full shift).
        return await _slot(request, refused=error.message, status=409)
    flash(request, "You are on the shift. We will email you a reminder the day before.")
    return redirect(request.url.path.removesuffix("/signup"))


async def withdraw(request: Request) -> Response:
    await rota.withdraw(*_slot_args(request))
    flash(request, "You are no longer on this shift.")
    return redirect(request.url.path.removesuffix("/withdraw"))


async def move(request: Request) -> Response:
    values = form_values(await request.form())
    try:
        await rota.move(*_slot_args(request), values)
    except Invalid as error:
        return await _slot(request, values, error.errors, status=422)
    flash(request, "This date is moved. Everyone on it has been told; the rest of the series is unchanged.")
    return redirect(request.url.path.removesuffix("/move"))


async def cancel(request: Request) -> Response:
    values = form_values(await request.form())
    try:
        await rota.cancel(*_slot_args(request), values.get("reason", ""))
    except Invalid as error:
        return await _slot(request, values, error.errors, status=422)
    flash(request, "This date is cancelled. Everyone on it has been told; the rest of the series is unchanged.")
    return redirect(request.url.path.removesuffix("/cancel"))


async def take_off(request: Request) -> Response:
    values = form_values(await request.form())
    volunteer_id = as_id(values["volunteer"]) if values.get("volunteer") else None
    try:
        await rota.take_off(*_slot_args(request), volunteer_id, values.get("why", ""))
    except Invalid as error:
        return await _slot(request, values, error.errors, status=422)
    flash(request, "They are no longer on this date, and have been emailed. Their place is free for someone else.")
    return redirect(request.url.path.removesuffix("/take-off"))


async def arrived(request: Request) -> Response:
    await lone_working.arrived(*_slot_args(request))
    flash(request, "Thank you. Tap “I’ve left” when you leave.")
    return redirect(request.url.path.removesuffix("/arrived"))


async def left(request: Request) -> Response:
    await lone_working.left(*_slot_args(request))
    flash(request, "Thank you. We have noted that you have left safely.")
    return redirect(request.url.path.removesuffix("/left"))


async def stop_form(request: Request) -> Response:
    shift, signed_up = await rota.stop_page(current_user(request), current_council(request), request.path_params["slug"], path_number(request, "shift_id"))
    return render(request, "rota/stop.html", {"scheme": shift.scheme, "shift": shift, "signed_up": signed_up})


async def stop(request: Request) -> Response:
    slug = request.path_params["slug"]
    shift = await rota.stop(current_user(request), current_council(request), slug, path_number(request, "shift_id"))
    flash(request, f"{shift.title} has stopped. Anyone on a later date has been told.")
    return redirect(f"/schemes/{slug}/roster")


SLOT = "/schemes/{slug}/shifts/{shift_id}/{on}"

routes = [
    Route("/schemes/{slug}/rota", rota_page, methods=["GET"], name="rota_page"),
    Route("/schemes/{slug}/roster", roster_page, methods=["GET"], name="roster_page"),
    Route("/schemes/{slug}/shifts/new", shift_form, methods=["GET"], name="shift_form"),
    Route("/schemes/{slug}/shifts", shift_create, methods=["POST"], name="shift_create"),
    Route("/schemes/{slug}/shifts/{shift_id}/edit", shift_edit_form, methods=["GET"], name="shift_edit_form"),
    Route("/schemes/{slug}/shifts/{shift_id}/edit", shift_update, methods=["POST"], name="shift_update"),
    Route("/schemes/{slug}/shifts/{shift_id}/stop", stop_form, methods=["GET"], name="shift_stop_form"),
    Route("/schemes/{slug}/shifts/{shift_id}/stop", stop, methods=["POST"], name="shift_stop"),
    Route(SLOT, slot_page, methods=["GET"], name="slot_page"),
    Route(SLOT + "/signup", sign_up, methods=["POST"], name="slot_signup"),
    Route(SLOT + "/withdraw", withdraw, methods=["POST"], name="slot_withdraw"),
    Route(SLOT + "/move", move, methods=["POST"], name="slot_move"),
    Route(SLOT + "/cancel", cancel, methods=["POST"], name="slot_cancel"),
    Route(SLOT + "/take-off", take_off, methods=["POST"], name="slot_take_off"),
    Route(SLOT + "/arrived", arrived, methods=["POST"], name="slot_arrived"),
    Route(SLOT + "/left", left, methods=["POST"], name="slot_left"),
]
