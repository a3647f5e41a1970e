"""The officers' moderation queue, who is stopped from posting, and a page for each action: hide, restore, dismiss, stop or let someone post."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from civic.errors import Invalid
from civic.schemes import moderation
from routes import times  # noqa: F401 - registers the date filters
from routes.web import as_id, current_council, current_user, flash, form_values, redirect, render


async def moderation_queue(request: Request) -> Response:
    queue = await moderation.queue(current_user(request), current_council(request))
    return render(request, "moderation/queue.html", {"queue": queue, "report_author": moderation.report_author})


async def suspended_people(request: Request) -> Response:
    people = await moderation.suspended_people(current_user(request), current_council(request))
    return render(request, "moderation/suspended.html", {"people": people})


@dataclass(frozen=True)
class Action:
    """One moderation action: how its page reads, how to find its target, what to do, where to go after."""

    kind: str  # "scheme", "post", "offer", "report" or "user"
    title: str
    explain: str
    button: str
    find: Callable[..., Awaitable[Any]]
    do: Callable[..., Awaitable[Any]]
    done: str
    warning: bool = True
    # Who reads the reason, so the officer writes it for them: it must match what `do` sends and shows.
    reason_hint: str = "Kept in the audit log, for other officers. Nobody else is sent it."


def _sent_to(readers: str) -> str:
    return f"We email this to {readers}, so write it for them. It is kept in the audit log too."


ACTIONS = {
    "hide-scheme": Action(
        "scheme", "Hide this scheme",
        "It will disappear from the directory, its page and the Open Referral feed. Its organisers, and anyone who reported it, will be told the reason.",
        "Hide scheme", moderation.officer_scheme, moderation.hide_scheme, "The scheme is hidden.",
        reason_hint=_sent_to("the scheme’s organisers and anyone who reported it, and show it to the organisers on the scheme’s page"),
    ),
    "restore-scheme": Action(
        "scheme", "Restore this scheme",
        "It will be back in the directory, on its page and in the Open Referral feed. Its organisers will be told.",
        "Restore scheme", moderation.officer_scheme, moderation.restore_scheme, "The scheme is visible again.", warning=False,
    ),
    "hide-post": Action(
        "post", "Hide this news post",
        "It will disappear from the scheme's page. Its author, and anyone who reported it, will be told the reason.",
        "Hide news post", moderation.officer_post, moderation.hide_post, "The news post is hidden.",
        reason_hint=_sent_to("the post’s author and anyone who reported it, and show it to the scheme’s organisers under the post"),
    ),
    "restore-post": Action(
        "post", "Restore this news post", "It will be back on the scheme's page.",
        "Restore news post", moderation.officer_post, moderation.restore_post, "The news post is visible again.", warning=False,
    ),
    "hide-offer": Action(
        "offer", "Hide this offer of help",
        "It will disappear from the scheme's board of offers. The person who offered, and anyone who reported it, will be told the reason.",
        "Hide offer", moderation.officer_offer, moderation.hide_offer, "The offer of help is hidden.",
        reason_hint=_sent_to("the person who offered and anyone who reported it, and show it to the scheme’s organisers on the board"),
    ),
    "restore-offer": Action(
        "offer", "Restore this offer of help", "It will be back on the scheme's board of offers.",
        "Restore offer", moderation.officer_offer, moderation.restore_offer, "The offer of help is visible again.", warning=False,
    ),
    "dismiss-report": Action(
        "report", "Dismiss this report",
        "Nothing will change on the site. The person who reported it will be told your reason.",
        "Dismiss report", moderation.officer_report, moderation.dismiss, "The report is dismissed and the reporter has been told.", warning=False,
        reason_hint=_sent_to("the person who reported it"),
    ),
    "suspend-author": Action(
        "report", "Stop this person posting",
        "They will be signed out everywhere and will not be able to sign in, post news, start schemes or send reports. They will be told by email, with your reason.",
        "Stop them posting", moderation.officer_report, moderation.suspend_author, "They can no longer post.",
        reason_hint=_sent_to("the person you are stopping"),
    ),
    "lift-suspension": Action(
        "user", "Let this person post again",
        "They will be able to sign in, post news, start schemes and send reports again. They will be told by email.",
        "Let them post again", moderation.officer_suspension, moderation.lift_suspension, "They can post again.", warning=False,
    ),
}


ID_PARAMS = {"post": "post_id", "offer": "offer_id", "report": "report_id", "user": "user_id"}


def _key(request: Request, action: Action) -> Any:
    if action.kind == "scheme":
        return request.path_params["slug"]
    return as_id(request.path_params[ID_PARAMS[action.kind]])


def _back(action: Action) -> str:
    return "/officer/moderation/suspended" if action.kind == "user" else "/officer/moderation"


def _after(action: Action, target: Any) -> str:
    return f"/schemes/{target.slug}" if action.kind == "scheme" else _back(action)


async def _page(request: Request, name: str, values: dict[str, str], errors: dict[str, str], status: int = 200) -> Response:
    action = ACTIONS[name]
    target = await action.find(current_user(request), current_council(request), _key(request, action))
    context = {
        "action": action, "target": target, "values": values, "errors": errors, "back": _back(action),
        "author": moderation.report_author(target) if action.kind == "report" else None,
    }
    return render(request, "moderation/action.html", context, status_code=status, block="form" if status != 200 else None)


def _action_routes(path: str, name: str) -> list[Route]:
    async def form(request: Request) -> Response:
        return await _page(request, name, {}, {})

    async def act(request: Request) -> Response:
        action = ACTIONS[name]
        values = form_values(await request.form())
        try:
            target = await action.do(current_user(request), current_council(request), _key(request, action), values.get("reason", ""))
        except Invalid as error:
            return await _page(request, name, values, error.errors, status=422)
        flash(request, action.done)
        return redirect(_after(action, target))

    form.__name__, act.__name__ = f"{name.replace('-', '_')}_form", name.replace("-", "_")
    return [Route(path, form, methods=["GET"], name=form.__name__), Route(path, act, methods=["POST"], name=act.__name__)]


routes = [
    Route("/officer/moderation", moderation_queue, methods=["GET"], name="moderation_queue"),
    Route("/officer/moderation/suspended", suspended_people, methods=["GET"], name="suspended_people"),
    *_action_routes("/officer/moderation/schemes/{slug}/hide", "hide-scheme"),
    *_action_routes("/officer/moderation/schemes/{slug}/restore", "restore-scheme"),
    *_action_routes("/officer/moderation/posts/{post_id}/hide", "hide-post"),
    *_action_routes("/officer/moderation/posts/{post_id}/restore", "restore-post"),
    *_action_routes("/officer/moderation/offers/{offer_id}/hide", "hide-offer"),
    *_action_routes("/officer/moderation/offers/{offer_id}/restore", "restore-offer"),
    *_action_routes("/officer/moderation/reports/{report_id}/dismiss", "dismiss-report"),
    *_action_routes("/officer/moderation/reports/{report_id}/suspend", "suspend-author"),
    *_action_routes("/officer/moderation/people/{user_id}/restore", "lift-suspension"),
]
