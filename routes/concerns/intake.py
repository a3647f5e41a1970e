"""Raising a concern: the start page, the form's steps, and the status page of the person who raised it."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from civic import config
from civic.concerns import intake, routing
from civic.concerns.vocabulary import ABOUT, CONTACT, CONTACT_HINTS, DETAILS_LIMIT, KNOWS, URGENCY
from civic.councils import FIND_YOUR_COUNCIL, Ward
from civic.errors import Invalid, RateLimited
from routes.web import client_ip, current_council, current_user, flash, form_values, redirect, render

DRAFT = "concern_draft"  # the session holds only the draft's id; its answers are encrypted in their own row
TITLES = {
    "about": "Who are you worried about?",
    "category": "What is it about?",
    "details": "What is worrying you?",
    "where": "Where is this happening?",
    "urgency": "How soon should someone look at this?",
    "knows": "Does the person know you are telling us?",
    "contact": "Can we contact you about this?",
}


async def start(request: Request) -> Response:
    purge_months = max(1, round(config.current().concern_purge_days / 30.4))
    # Someone who left part-way through is offered the step where they stopped.
    answers = await intake.load_draft(current_council(request), request.session.get(DRAFT))
    resume = f"/concerns/new/{intake.resume_at(answers)}" if answers else ""
    draft_hours = round(intake.DRAFT_LIFETIME.total_seconds() / 3600)
    context = {"urgency": URGENCY, "purge_months": purge_months, "resume": resume, "draft_hours": draft_hours}
    return render(request, "concerns/start.html", context)


async def draft_delete(request: Request) -> Response:
    await intake.delete_draft(current_council(request), request.session.pop(DRAFT, None))
    if form_values(await request.form()).get("start_again") == "1":
        flash(request, "We have deleted your answers. You can start again.")
        return redirect("/concerns/new/about")
    flash(request, "We have deleted your answers. Nothing was sent.")
    return redirect("/concerns")


async def _step_context(request: Request, step: str, answers: dict[str, str], values: dict[str, str], errors: dict[str, str]) -> dict:
    council = current_council(request)
    change = request.query_params.get("change") == "1" or values.get("change") == "1"
    before = intake.step_before(step, answers)
    steps = intake.steps_for(answers)
    context = {
        "step": step,
        "titles": TITLES,
        "number": steps.index(step) + 1,
        "count": len(steps),
        # Changing one answer from "Check your answers": back is where they came from.
        "back": "/concerns/new/check" if change else f"/concerns/new/{before}" if before else "/concerns",
        "change": change,
        "values": values,
        "errors": errors,
        "about_options": list(ABOUT.items()),
        "urgency_options": [(k, u.label, f"We aim to have someone look at it {u.promise}.") for k, u in URGENCY.items()],
        "knows_options": list(KNOWS.items()),
        "contact_options": [(k, label, CONTACT_HINTS[k]) for k, label in CONTACT.items()],
        "details_limit": DETAILS_LIMIT,
        "has_draft": DRAFT in request.session,
        "crisis_support": intake.needs_crisis_support(answers),
        "find_your_council": "",  # set when the postcode is in another council's area
    }
    if step == "category":
        context["category_options"] = [(c.slug, c.name) for c in await routing.categories(council)]
        # "If none fits, choose Something else" only while the council offers it: officers may retire it.
        context["other_category"] = next((name for slug, name in context["category_options"] if slug == "other"), "")
    if step == "where":
        context["ward_options"] = [("", "I don't know")] + [(str(w.id), w.name) for w in await Ward.filter(council=council).order_by("name")]
    return context


async def step_form(request: Request) -> Response:
    step = request.scope["route"].name.removeprefix("concern_step_form_")
    answers = await intake.load_draft(current_council(request), request.session.get(DRAFT))
    if not intake.may_visit(step, answers):
        return redirect(f"/concerns/new/{intake.first_unanswered(answers)}")
    values = intake.prefill(step, answers, current_user(request))
    return render(request, "concerns/step.html", await _step_context(request, step, answers, values, {}))


async def step_save(request: Request) -> Response:
    step = request.scope["route"].name.removeprefix("concern_step_save_")
    values = form_values(await request.form())
    council = current_council(request)
    answers = await intake.load_draft(council, request.session.get(DRAFT))
    if not intake.may_visit(step, answers):
        return redirect(f"/concerns/new/{intake.first_unanswered(answers)}")
    try:
        request.session[DRAFT] = await intake.save_step(council, request.session.get(DRAFT), step, values)
    except Invalid as error:
        context = await _step_context(request, step, answers, values, error.errors)
        if isinstance(error, intake.OutsideArea):
            context["find_your_council"] = FIND_YOUR_COUNCIL
        return render(request, "concerns/step.html", context, status_code=422, block="form")
    answers = await intake.load_draft(council, request.session[DRAFT])
    following = intake.step_after(step, answers)
    if values.get("change") == "1" or not intake.may_visit(following, answers):
        following = intake.first_unanswered(answers)
    return redirect(f"/concerns/new/{following}")


async def _check_page(request: Request, answers: dict[str, str], errors: dict[str, str], status: int = 200) -> Response:
    summary = await intake.summary(current_council(request), answers)
    steps = len(intake.steps_for(answers))
    context = {"summary": summary, "errors": errors, "values": {}, "number": steps, "count": steps}
    return render(request, "concerns/check.html", context, status_code=status)


async def check(request: Request) -> Response:
    answers = await intake.load_draft(current_council(request), request.session.get(DRAFT))
    if intake.first_unanswered(answers) != "check":
        return redirect(f"/concerns/new/{intake.first_unanswered(answers)}")
    return await _check_page(request, answers, {})


async def send(request: Request) -> Response:
    council = current_council(request)
    values = form_values(await request.form())
    draft_id = request.session.get(DRAFT)
    try:
        concern, key = await intake.submit(council, draft_id, current_user(request), client_ip(request), values.get("website", ""))
    except Invalid as error:
        answers = await intake.load_draft(council, draft_id)
        if "draft" in error.errors:
            return redirect(f"/concerns/new/{intake.first_unanswered(answers)}")
        return await _check_page(request, answers, error.errors, 422)
    except RateLimited as error:
        return await _check_page(request, await intake.load_draft(council, draft_id), {"send": error.message}, 429)
    # The draft's id stays in the session: the same form sent again comes back to this concern.
    return redirect(f"/concerns/status/{concern.reference}/{key}?sent=1")


async def status(request: Request) -> Response:
    return await _status_page(request, {}, {})


async def _status_page(request: Request, values: dict[str, str], errors: dict[str, str], status_code: int = 200) -> Response:
    view = await intake.reporter_view(current_council(request), request.path_params["reference"], request.path_params["key"])
    context = {"view": view, "sent": request.query_params.get("sent") == "1", "values": values, "errors": errors, "details_limit": DETAILS_LIMIT}
    response = render(request, "concerns/status.html", context, status_code=status_code)
    # The address holds the secret: it must not travel to other sites in a Referer header.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


async def add_information(request: Request) -> Response:
    values = form_values(await request.form())
    reference, key = request.path_params["reference"], request.path_params["key"]
    try:
        await intake.add_information(current_council(request), reference, key, values.get("information", ""), client_ip(request))
    except Invalid as error:
        return await _status_page(request, values, error.errors, 422)
    except RateLimited as error:
        return await _status_page(request, values, {"information": error.message}, 429)
    flash(request, "Thank you. We have added that to your concern.")
    return redirect(f"/concerns/status/{reference}/{key}")


routes = [
    Route("/concerns", start, methods=["GET"], name="concern_start"),
    *(
        route
        for step in intake.STEPS[:-1]
        for route in (
            Route(f"/concerns/new/{step}", step_form, methods=["GET"], name=f"concern_step_form_{step}"),
            Route(f"/concerns/new/{step}", step_save, methods=["POST"], name=f"concern_step_save_{step}"),
        )
    ),
    Route("/concerns/new/delete", draft_delete, methods=["POST"], name="concern_draft_delete"),
    Route("/concerns/new/check", check, methods=["GET"], name="concern_check"),
    Route("/concerns/new/check", send, methods=["POST"], name="concern_send"),
    Route("/concerns/status/{reference}/{key}", status, methods=["GET"], name="concern_status"),
    Route("/concerns/status/{reference}/{key}", add_information, methods=["POST"], name="concern_add_information"),
]
