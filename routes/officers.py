"""The officer home: what needs a council officer's attention; and the e-mails that could not be sent."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from civic import mail, officers
from routes import times  # noqa: F401 - registers the date filters
from routes.web import BIGINT_ID_MAX, as_id, current_council, current_user, flash, redirect, render


async def officer_home(request: Request) -> Response:
    sections = await officers.attention(current_user(request), current_council(request))
    return render(request, "officers/home.html", {"sections": sections})


async def failed_email(request: Request) -> Response:
    rows = await officers.failed_email(current_user(request), current_council(request))
    context = {"rows": rows, "can_send_again": officers.can_send_again, "shown": officers.FAILED_SHOWN, "keep_days": mail.KEEP.days}
    return render(request, "officers/email.html", context)


async def send_again(request: Request) -> Response:
    form = await request.form()
    raw = str(form.get("email", "")).strip()
    # One message by its id, or all of them with none; a garbled id finds nothing, never "all of them".
    one = as_id(raw, BIGINT_ID_MAX) if raw else None
    count = await officers.send_again(current_user(request), current_council(request), one)
    if count:
        flash(request, f"{count} email{'s' if count != 1 else ''} will be sent again within a minute. If the mail relay still refuses, it will keep trying for a day.")
    else:
        flash(request, "That email is already on its way." if one is not None else "There is nothing to send again.", kind="info")
    return redirect("/officer/email")


routes = [
    Route("/officer", officer_home, name="officer_home"),
    Route("/officer/email", failed_email, methods=["GET"], name="failed_email"),
    Route("/officer/email/send-again", send_again, methods=["POST"], name="send_email_again"),
]
