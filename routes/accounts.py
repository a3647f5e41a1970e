"""Sign in by e-mailed link, first sign-in details, sign out and sign out everywhere, and deleting your account."""

from __future__ import annotations

import re
from urllib.parse import quote, unquote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from civic import accounts, config, erasure
from civic.councils import Council
from civic.errors import Conflict, Forbidden, Invalid, RateLimited
from civic.schemes import access
from routes.web import (
    client_ip,
    current_council,
    current_user,
    flash,
    form_values,
    redirect,
    render,
    require_user,
)


def _providers() -> list[config.OIDCProvider]:
    return list(config.current().providers)


# What signing in is for, by where it goes next: {name} is the scheme's. The first match wins.
SIGNIN_REASONS = [
    (re.compile(r"^/schemes/new\b"), "Sign in to start a scheme"),
    (re.compile(r"^/schemes/([^/?#]+)/ask\b"), "Sign in to ask {name} for help"),
    (re.compile(r"^/schemes/([^/?#]+)/join\b"), "Sign in to join {name}"),
    (re.compile(r"^/schemes/([^/?#]+)/events\b"), "Sign in to reply to an event of {name}"),
    (re.compile(r"^/schemes/([^/?#]+)/(rota|shifts)\b"), "Sign in to see the rota of {name}"),
    (re.compile(r"^/schemes/([^/?#]+)/((news|offers)/\d+/)?report\b"), "Sign in to report a problem with {name}"),
    (re.compile(r"^/schemes/([^/?#]+)/offers\b"), "Sign in to offer help through {name}"),
    (re.compile(r"^/schemes/([^/?#]+)/contact\b"), "Sign in to send a message to {name}"),
    (re.compile(r"^/rounds/\d+/ballot\b"), "Sign in to vote"),
    (re.compile(r"^/help-requests\b"), "Sign in to see the help you have asked for"),
    (re.compile(r"^/account\b"), "Sign in to see your account"),
]


async def _signin_reason(council: Council | None, next_path: str) -> str:
    """'Sign in to ask Walk and Talk for help', or at least that signing in is needed to go on."""
    if next_path == "/" or council is None:
        return ""
    for pattern, reason in SIGNIN_REASONS:
        if match := pattern.match(next_path):
            if "{name}" not in reason:
                return reason
            if name := await access.public_name(council, unquote(match.group(1))):
                return reason.format(name=name)
            break
    return "Sign in to continue"


async def _signin_page(request: Request, values: dict[str, str], errors: dict[str, str], status: int = 200, block: str | None = None) -> Response:
    reason = await _signin_reason(current_council(request), accounts.safe_next(values.get("next")))
    context = {"values": values, "errors": errors, "providers": _providers(), "reason": reason}
    return render(request, "accounts/signin.html", context, status_code=status, block=block)


async def signin_form(request: Request) -> Response:
    if current_user(request) is not None:
        return redirect(accounts.safe_next(request.query_params.get("next")))
    return await _signin_page(request, {"next": accounts.safe_next(request.query_params.get("next"))}, {})


async def signin_request(request: Request) -> Response:
    form = await request.form()
    values = form_values(form)
    try:
        await accounts.request_signin_link(values.get("email", ""), client_ip(request), values.get("next"), current_council(request))
    except Invalid as error:
        return await _signin_page(request, values, error.errors, status=422, block="form")
    except RateLimited as error:
        return await _signin_page(request, values, {"email": error.message}, status=429, block="form")
    request.session["signin_email"] = values.get("email", "").strip()
    return redirect("/signin/check-email")


async def check_email(request: Request) -> Response:
    return render(request, "accounts/check_email.html", {"email": request.session.get("signin_email", "")})


async def signin_link(request: Request) -> Response:
    # A page with a button rather than signing in on GET: mail scanners that open links must not use them up.
    # A link that no longer works says so before anyone presses it, with the form to ask for another.
    token = request.path_params["token"]
    try:
        link, goes_on = await accounts.signin_link(token, signed_in_as=current_user(request))
    except Invalid as error:
        return await _signin_page(request, {"next": await accounts.signin_link_next(token)}, {"email": error.errors["link"]}, status=400)
    if goes_on:
        return redirect(link.next_path)  # already signed in with it: nothing to press
    return render(request, "accounts/signin_link.html", {"token": token, "link": link})


async def signin_link_use(request: Request) -> Response:
    token = request.path_params["token"]
    current = current_user(request)
    try:
        user, next_path = await accounts.consume_signin_link(token, signed_in_as=current)
    except Invalid as error:
        return await _signin_page(request, {"next": await accounts.signin_link_next(token)}, {"email": error.errors["link"]}, status=400)
    if current is not None and user.id == current.id:
        return redirect(next_path)  # already signed in: a second tap on the link just goes on
    return signed_in(request, user, next_path)


def signed_in(request: Request, user: accounts.User, next_path: str) -> Response:
    """Rotate the session to this user, then go on (by way of first-sign-in details if missing)."""
    request.scope["civic.signin"] = user
    request.session.pop("signin_email", None)
    flash(request, "You are signed in.")
    if not user.profile_complete:
        return redirect(f"/welcome?next={quote(next_path)}")
    return redirect(next_path)


async def welcome_form(request: Request) -> Response:
    user = require_user(request)
    values = {"display_name": user.display_name, "postcode": user.postcode, "next": accounts.safe_next(request.query_params.get("next"))}
    return render(request, "accounts/welcome.html", {"values": values, "errors": {}})


async def welcome_save(request: Request) -> Response:
    user = require_user(request)
    values = form_values(await request.form())
    was_verified = user.identity_verified
    try:
        await accounts.complete_profile(user, values.get("display_name", ""), values.get("postcode", ""))
    except Invalid as error:
        return render(request, "accounts/welcome.html", {"values": values, "errors": error.errors}, status_code=422, block="form")
    await user.fetch_related("ward")
    if was_verified and not user.identity_verified:
        flash(request, "You have a new postcode, so your identity needs checking again before you vote where a check is needed.", "important")
    elif user.ward is None:
        council = current_council(request)
        area = f"{council.name}'s area" if council else "the council's area"
        flash(request, f"Your postcode is outside {area}, so you can browse but cannot vote here.", "important")
    else:
        flash(request, f"Thank you. You are in {user.ward.name} ward.")
    return redirect(accounts.safe_next(values.get("next")))


async def account(request: Request) -> Response:
    user = require_user(request)
    sessions = await accounts.Session.filter(user=user).count()
    return render(request, "accounts/account.html", {"sessions": sessions})


def _email_page(request: Request, values: dict[str, str], errors: dict[str, str], status_code: int = 200) -> Response:
    context = {"values": values, "errors": errors, "lifetime": accounts.email_change_lifetime_words()}
    return render(request, "accounts/email.html", context, status_code=status_code, block="form" if errors else None)


async def email_form(request: Request) -> Response:
    require_user(request)
    return _email_page(request, {}, {})


async def email_request(request: Request) -> Response:
    user = require_user(request)
    values = form_values(await request.form())
    try:
        email = await accounts.request_email_change(user, values.get("email", ""), client_ip(request), current_council(request))
    except Invalid as error:
        return _email_page(request, values, error.errors, status_code=422)
    except RateLimited as error:
        return _email_page(request, values, {"email": error.message}, status_code=429)
    flash(request, f"We have sent a link to {email}. Your email address changes when you use it, within {accounts.email_change_lifetime_words()}.")
    return redirect("/account")


async def email_confirm_form(request: Request) -> Response:
    # A button rather than changing on GET: mail scanners that open links must not use them up. A link
    # that no longer works says so before anyone presses it.
    token = request.path_params["token"]
    try:
        change = await accounts.email_change_link(token)
    except Invalid as error:
        return render(request, "accounts/email_confirm.html", {"token": "", "errors": error.errors}, status_code=400)
    return render(request, "accounts/email_confirm.html", {"token": token, "change": change, "errors": {}})


async def email_confirm(request: Request) -> Response:
    try:
        user = await accounts.confirm_email_change(request.path_params["token"], current_council(request))
    except Invalid as error:
        return render(request, "accounts/email_confirm.html", {"token": "", "errors": error.errors}, status_code=400)
    flash(request, f"Your email address is now {user.email}.")
    return redirect("/account")


async def _delete_page(request: Request, blockers: list[erasure.Blocker], status: int = 200) -> Response:
    context = {"blockers": blockers, "purge_days": config.current().concern_purge_days}
    return render(request, "accounts/delete.html", context, status_code=status)


async def delete_form(request: Request) -> Response:
    return await _delete_page(request, await erasure.blockers(require_user(request)))


async def account_delete(request: Request) -> Response:
    user = require_user(request)
    try:
        await erasure.delete_account(user)
    except Conflict:
        return await _delete_page(request, await erasure.blockers(user), status=409)
    request.scope["civic.signout"] = True
    return redirect("/account/deleted")


async def deleted(request: Request) -> Response:
    return render(request, "accounts/deleted.html", {})


async def signout(request: Request) -> Response:
    request.scope["civic.signout"] = True
    # In the address, not the session: the session is what signing out ends.
    return redirect("/signin?signed_out=here")


async def signout_everywhere(request: Request) -> Response:
    user = current_user(request)
    if user is None:
        raise Forbidden("Sign in to continue.")
    await accounts.signout_everywhere(user)
    request.scope["civic.signout"] = True
    return redirect("/signin?signed_out=everywhere")


routes = [
    Route("/signin", signin_form, methods=["GET"], name="signin_form"),
    Route("/signin", signin_request, methods=["POST"], name="signin_request"),
    Route("/signin/check-email", check_email, name="check_email"),
    Route("/signin/link/{token}", signin_link, methods=["GET"], name="signin_link"),
    Route("/signin/link/{token}", signin_link_use, methods=["POST"], name="signin_link_use"),
    Route("/welcome", welcome_form, methods=["GET"], name="welcome_form"),
    Route("/welcome", welcome_save, methods=["POST"], name="welcome_save"),
    Route("/account", account, name="account"),
    Route("/account/email", email_form, methods=["GET"], name="email_form"),
    Route("/account/email", email_request, methods=["POST"], name="email_request"),
    Route("/account/email/confirm/{token}", email_confirm_form, methods=["GET"], name="email_confirm_form"),
    Route("/account/email/confirm/{token}", email_confirm, methods=["POST"], name="email_confirm"),
    Route("/account/delete", delete_form, methods=["GET"], name="delete_form"),
    Route("/account/delete", account_delete, methods=["POST"], name="account_delete"),
    Route("/account/deleted", deleted, methods=["GET"], name="deleted"),
    Route("/signout", signout, methods=["POST"], name="signout"),
    Route("/signout/everywhere", signout_everywhere, methods=["POST"], name="signout_everywhere"),
]
