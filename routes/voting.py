"""Shareholder voting: rounds, the ballot, results and exports, and the officers' pages that run them."""

from __future__ import annotations

import re
from typing import Any

from markupsafe import Markup, escape
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from civic import voting
from civic.errors import Conflict, Forbidden, Invalid
from civic.kept import Kept
from civic.voting import ballots as ballot_rules
from civic.voting import rounds as round_rules
from civic.voting.exchange import MAX_FILE_BYTES
from civic.voting.models import ELIGIBILITIES, METHODS
from civic.voting.parsing import datetime_local_value, format_money, when
from civic.voting.report import PROGRESS_NAMES
from routes.web import current_council, current_user, flash, form_values, page_number, redirect, render, templates

templates.env.filters.setdefault("money", format_money)
templates.env.filters.setdefault("when", when)
templates.env.globals.update(
    METHOD_NAMES=round_rules.METHOD_NAMES,
    METHOD_HINTS=round_rules.METHOD_HINTS,
    METHOD_EXPLAINED=round_rules.METHOD_EXPLAINED,
    ELIGIBILITY_NAMES=round_rules.ELIGIBILITY_NAMES,
    ROUND_STATUS_NAMES=round_rules.STATUS_NAMES,
    PROGRESS_NAMES=PROGRESS_NAMES,
    show_code=voting.show_code,
)


def _actor(request: Request) -> tuple[Any, Any]:
    return current_user(request), current_council(request)


def _id(request: Request, name: str = "round_id") -> str:
    return request.path_params[name]


# Residents


async def rounds_index(request: Request) -> Response:
    rounds = await voting.list_rounds(*_actor(request))
    return render(request, "voting/rounds.html", {"rounds": rounds})


async def round_page(request: Request) -> Response:
    view = await round_rules.round_view(*_actor(request), _id(request))
    receipt_kept = bool(request.session.get("receipts", {}).get(str(view.round.id)))
    return render(request, "voting/round.html", {"view": view, "round": view.round, "receipt_kept": receipt_kept})


# The ballot's priorities with their − and + controls are most of its page, and the same for every voter
# of a round once it has opened (its priorities and rules are fixed then, see rounds.FIXED_SECONDS)
# but for the numbers in the boxes. So each process renders them once per round, with a marker for
# each number, and fills in the voter's numbers.
_kept_controls: Kept[Markup] = Kept(64, lifetime=round_rules.FIXED_SECONDS)
_NUMBER_MARK = re.compile(f"\x00({ballot_rules.FIELD_PREFIX}\\d+)\x00")


def share_controls(page: ballot_rules.BallotPage, values: dict[str, str], errors: dict[str, str]) -> Markup:
    """The share controls as the `share_controls` macro renders them; kept per open round when nothing is in error."""
    macro = templates.env.get_template("voting/_share_controls.html").module.share_controls  # type: ignore[attr-defined]
    if errors or page.round.status == "draft":
        return macro(page, values, errors)
    marked = _kept_controls.get(page.round.id)
    if marked is None:
        marks = {f"{ballot_rules.FIELD_PREFIX}{p.id}": f"\x00{ballot_rules.FIELD_PREFIX}{p.id}\x00" for p in page.priorities}
        marked = macro(page, marks, {})
        if len(_NUMBER_MARK.findall(marked)) != len(marks):  # a marker-like text in a priority: never kept
            return macro(page, values, errors)
        _kept_controls.put(page.round.id, marked)
    return Markup(_NUMBER_MARK.sub(lambda found: str(escape(values.get(found.group(1)) or "0")), marked))


def _ballot_context(page: ballot_rules.BallotPage, values: dict[str, str], errors: dict[str, str], notice: str = "") -> dict[str, Any]:
    values = {**values, **page.shares.values}
    return {
        "page": page,
        "round": page.round,
        "values": values,
        "errors": errors,
        "notice": notice,
        "report_emails": page.report_emails,
        "share_controls": lambda: share_controls(page, values, errors),
    }


async def ballot_form(request: Request) -> Response:
    user, council = _actor(request)
    page = await voting.ballot_page(user, council, _id(request))
    if page.eligibility.needs_signin:
        raise Forbidden("Sign in to vote.")
    values = {"code": request.query_params.get("code", "")}
    return render(request, "voting/ballot.html", _ballot_context(page, values, {}))


async def ballot_save(request: Request) -> Response:
    user, council = _actor(request)
    values = form_values(await request.form())
    report_emails = values.get("report_emails") == "yes"
    if values.get("step"):
        page = await voting.preview(user, council, _id(request), values, values["step"])
        page.report_emails = report_emails
        return render(request, "voting/ballot.html", _ballot_context(page, values, {}, "Not saved yet: choose Save my ballot when you are ready."), block="form")
    try:
        saved = await voting.cast_ballot(
            user, council, _id(request), values, code=values.get("code"), report_emails=report_emails,
            ask_if_shares_left=values.get("shares_left") != "yes",
        )
    except voting.SharesLeft as left:
        page = await voting.preview(user, council, _id(request), values)
        page.report_emails = report_emails
        context = _ballot_context(page, values, {})
        context["shares_left"] = left.left
        return render(request, "voting/ballot.html", context, block="form")
    except Invalid as error:
        page = await voting.preview(user, council, _id(request), values)
        page.report_emails = report_emails
        return render(request, "voting/ballot.html", _ballot_context(page, values, error.errors), status_code=422, block="form")
    request.session.setdefault("receipts", {})[str(saved.ballot.round_id)] = saved.receipt  # type: ignore[attr-defined]
    return redirect(f"/rounds/{saved.ballot.round_id}/ballot/receipt")  # type: ignore[attr-defined]


async def ballot_preview(request: Request) -> Response:
    user, council = _actor(request)
    values = form_values(await request.form())
    page = await voting.preview(user, council, _id(request), values)
    return render(request, "voting/ballot.html", _ballot_context(page, values, {}), block="shares_left")


async def ballot_receipt(request: Request) -> Response:
    user, council = _actor(request)
    round_ = await voting.visible_round(user, council, _id(request))
    receipt = request.session.get("receipts", {}).get(str(round_.id))
    if not receipt:
        return redirect(f"/rounds/{round_.id}/ballot")
    context = {"round": round_, "receipt": receipt, "digest": voting.receipt_hash(round_.id, receipt), "shares": await voting.receipt_shares(round_, receipt)}
    return render(request, "voting/receipt.html", context)


async def results_page(request: Request) -> Response:
    user, council = _actor(request)
    try:
        published = await voting.published_results(user, council, _id(request))
    except Conflict as error:
        round_ = await voting.visible_round(user, council, _id(request))
        return render(request, "voting/results.html", {"round": round_, "hidden": error.message})
    return render(request, "voting/results.html", {"round": published.round, "results": published.results, "turnout": published.turnout})


async def results_csv(request: Request) -> Response:
    published = await voting.published_results(*_actor(request), _id(request))
    return Response(
        voting.results_csv(published),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="round-{published.round.id}-results.csv"'},
    )


async def results_api(request: Request) -> Response:
    published = await voting.published_results(*_actor(request), _id(request))
    round_ = published.round
    return JSONResponse(
        {
            "round": {"id": round_.id, "title": round_.title, "status": round_.status, "method": round_.method, "published_at": round_.published_at.isoformat() if round_.published_at else None},
            "turnout": published.turnout,
            **published.results,
        }
    )


async def ballot_list(request: Request) -> Response:
    user, council = _actor(request)
    page = page_number(request.query_params.get("page", "1"))
    try:
        listing = await voting.ballot_list(user, council, _id(request), request.query_params.get("receipt", ""), page)
    except Conflict as error:
        round_ = await voting.visible_round(user, council, _id(request))
        return render(request, "voting/ballots.html", {"round": round_, "hidden": error.message})
    return render(request, "voting/ballots.html", {"round": listing.round, "listing": listing})


async def export_pb(request: Request) -> Response:
    filename, text = await voting.export_pabulib(*_actor(request), _id(request))
    return Response(text, media_type="text/plain; charset=utf-8", headers={"Content-Disposition": f'attachment; filename="{filename}"'})


async def report_stop_form(request: Request) -> Response:
    round_ = await voting.stop_page(request.path_params["token"])
    return render(request, "voting/report_stop.html", {"round": round_, "token": request.path_params["token"], "stopped": False})


async def report_stop(request: Request) -> Response:
    round_ = await voting.stop_report_emails(request.path_params["token"])
    return render(request, "voting/report_stop.html", {"round": round_, "token": request.path_params["token"], "stopped": True})


# Officers


def _round_form_context(values: dict[str, str], errors: dict[str, str], wards: list[Any], chosen: list[str], round_: Any = None) -> dict[str, Any]:
    return {
        "values": values,
        "errors": errors,
        "wards": wards,
        "chosen_wards": chosen,
        "round": round_,
        "method_choices": [(m, round_rules.METHOD_NAMES[m], round_rules.METHOD_HINTS[m]) for m in METHODS],
        "eligibility_choices": [(e, round_rules.ELIGIBILITY_NAMES[e]) for e in ELIGIBILITIES],
    }


async def officer_rounds(request: Request) -> Response:
    user, council = _actor(request)
    await ballot_rules.require_staff(user, council)
    return render(request, "voting/admin/rounds.html", {"rounds": await voting.list_rounds(user, council)})


async def round_new(request: Request) -> Response:
    user, council = _actor(request)
    await ballot_rules.require_staff(user, council)
    values = {"shares_per_resident": "100", "minimum_priorities": "1", "method": "split", "eligibility": "residents"}
    wards = await round_rules.council_wards(council)
    return render(request, "voting/admin/round_form.html", _round_form_context(values, {}, wards, []))


async def round_create(request: Request) -> Response:
    user, council = _actor(request)
    form = await request.form()
    values, chosen = form_values(form), [str(w) for w in form.getlist("wards")]
    try:
        round_ = await voting.create_round(user, council, values, chosen)
    except Invalid as error:
        wards = await round_rules.council_wards(council)
        return render(request, "voting/admin/round_form.html", _round_form_context(values, error.errors, wards, chosen), status_code=422)
    flash(request, "Draft round created. Add its priorities, then open it.")
    return redirect(f"/officer/rounds/{round_.id}")


async def _admin_page(request: Request, errors: dict[str, str] | None = None, values: dict[str, str] | None = None, status: int = 200) -> Response:
    view = await round_rules.round_view(*_actor(request), _id(request), staff=True)
    context = {"view": view, "round": view.round, "errors": errors or {}, "values": values or {}, "progress_choices": list(PROGRESS_NAMES.items())}
    return render(request, "voting/admin/round.html", context, status_code=status)


async def round_admin(request: Request) -> Response:
    return await _admin_page(request)


async def round_edit(request: Request) -> Response:
    user, council = _actor(request)
    round_ = await voting.staff_round(user, council, _id(request))
    round_rules.require_draft(round_)
    values = {
        "title": round_.title,
        "explanation": round_.explanation,
        "budget": "" if round_.budget is None else str(round_.budget),
        "shares_per_resident": str(round_.shares_per_resident),
        "minimum_priorities": str(round_.minimum_priorities),
        "max_shares_per_priority": "" if round_.max_shares_per_priority is None else str(round_.max_shares_per_priority),
        "opens_at": datetime_local_value(round_.opens_at),
        "closes_at": datetime_local_value(round_.closes_at),
        "method": round_.method,
        "eligibility": round_.eligibility,
    }
    chosen = [str(w.id) for w in await round_.wards.all()]
    return render(request, "voting/admin/round_form.html", _round_form_context(values, {}, await round_rules.council_wards(council), chosen, round_))


async def round_update(request: Request) -> Response:
    user, council = _actor(request)
    form = await request.form()
    values, chosen = form_values(form), [str(w) for w in form.getlist("wards")]
    try:
        round_ = await voting.update_round(user, council, _id(request), values, chosen)
    except Invalid as error:
        round_ = await voting.staff_round(user, council, _id(request))
        return render(request, "voting/admin/round_form.html", _round_form_context(values, error.errors, await round_rules.council_wards(council), chosen, round_), status_code=422)
    flash(request, "Rules saved.")
    return redirect(f"/officer/rounds/{round_.id}")


async def priority_create(request: Request) -> Response:
    user, council = _actor(request)
    values = form_values(await request.form())
    try:
        priority = await voting.add_priority(user, council, _id(request), values)
    except Invalid as error:
        return await _admin_page(request, error.errors, values, status=422)
    flash(request, f"Priority added: {priority.title}.")
    return redirect(f"/officer/rounds/{_id(request)}#priorities")


async def priority_edit(request: Request) -> Response:
    user, council = _actor(request)
    round_, priority = await voting.staff_priority(user, council, _id(request), _id(request, "priority_id"))
    round_rules.require_draft(round_)
    values = {
        "title": priority.title,
        "description": priority.description,
        "cost": "" if priority.cost is None else str(priority.cost),
        "ward": str(priority.ward.id) if priority.ward else "",
    }
    return render(request, "voting/admin/priority_form.html", {"round": round_, "priority": priority, "values": values, "errors": {}, "wards": await round_rules.council_wards(council)})


async def priority_update(request: Request) -> Response:
    user, council = _actor(request)
    values = form_values(await request.form())
    try:
        await voting.update_priority(user, council, _id(request), _id(request, "priority_id"), values)
    except Invalid as error:
        round_, priority = await voting.staff_priority(user, council, _id(request), _id(request, "priority_id"))
        context = {"round": round_, "priority": priority, "values": values, "errors": error.errors, "wards": await round_rules.council_wards(council)}
        return render(request, "voting/admin/priority_form.html", context, status_code=422)
    flash(request, "Priority saved.")
    return redirect(f"/officer/rounds/{_id(request)}#priorities")


async def priority_remove(request: Request) -> Response:
    await voting.remove_priority(*_actor(request), _id(request), _id(request, "priority_id"))
    flash(request, "Priority removed.")
    return redirect(f"/officer/rounds/{_id(request)}#priorities")


async def round_open(request: Request) -> Response:
    try:
        await voting.open_round(*_actor(request), _id(request))
    except Invalid as error:
        return await _admin_page(request, error.errors, status=422)
    flash(request, "The round is open. Its rules and priorities are now fixed.")
    return redirect(f"/officer/rounds/{_id(request)}")


async def round_close_form(request: Request) -> Response:
    preview = await voting.close_preview(*_actor(request), _id(request))
    return render(request, "voting/admin/close.html", {"round": preview.round, "ballots": preview.ballots})


async def round_close(request: Request) -> Response:
    await voting.close_round(*_actor(request), _id(request))
    flash(request, "Voting has closed. Publish the results when you are ready.")
    return redirect(f"/officer/rounds/{_id(request)}")


async def round_publish_form(request: Request) -> Response:
    round_, ballots = await voting.publish_preview(*_actor(request), _id(request))
    return render(request, "voting/admin/publish.html", {"round": round_, "ballots": ballots})


async def round_publish(request: Request) -> Response:
    await voting.publish_results(*_actor(request), _id(request))
    flash(request, "Results published.")
    return redirect(f"/rounds/{_id(request)}/results")


async def codes_create(request: Request) -> Response:
    user, council = _actor(request)
    values = form_values(await request.form())
    try:
        batch = await voting.generate_codes(user, council, _id(request), values)
    except Invalid as error:
        return await _admin_page(request, error.errors, values, status=422)
    flash(request, f"{batch.size} voting codes made. Download them or print them below.")
    return redirect(f"/officer/rounds/{_id(request)}#codes")


async def codes_csv(request: Request) -> Response:
    round_, batch, codes = await voting.code_batch(*_actor(request), _id(request), _id(request, "batch_id"))
    ballot = voting.ballot_url(current_council(request), round_)
    lines = ["code,round,ward,label,link"]
    ward = batch.ward.name if batch.ward else ""
    for code in codes:
        shown = voting.show_code(code.code)
        lines.append(",".join([shown, _csv(round_.title), _csv(ward), _csv(batch.label), f"{ballot}?code={shown}"]))
    return Response(
        "\r\n".join(lines) + "\r\n",
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="round-{round_.id}-codes-{batch.id}.csv"'},
    )


def _csv(text: str) -> str:
    text = "'" + text if text[:1] in ("=", "+", "-", "@") else text
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\r\n') else text


async def codes_print(request: Request) -> Response:
    round_, batch, codes = await voting.code_batch(*_actor(request), _id(request), _id(request, "batch_id"))
    context = {"round": round_, "batch": batch, "codes": codes, "ballot_url": voting.ballot_url(current_council(request), round_)}
    return render(request, "voting/admin/codes_print.html", context)


async def paper_form(request: Request) -> Response:
    page = await voting.paper_page(*_actor(request), _id(request))
    return render(request, "voting/admin/paper.html", {"page": page, "round": page.round, "values": page.shares.values, "errors": {}})


async def paper_save(request: Request) -> Response:
    user, council = _actor(request)
    values = form_values(await request.form())
    if values.get("step"):
        page = await voting.paper_page(user, council, _id(request), values, values["step"])
        return render(request, "voting/admin/paper.html", {"page": page, "round": page.round, "values": {**values, **page.shares.values}, "errors": {}, "notice": "Not saved yet."}, block="form")
    try:
        saved = await voting.enter_paper_ballot(user, council, _id(request), values.get("code", ""), values)
    except Invalid as error:
        page = await voting.paper_page(user, council, _id(request), values)
        return render(request, "voting/admin/paper.html", {"page": page, "round": page.round, "values": values, "errors": error.errors}, status_code=422, block="form")
    flash(request, f"Paper ballot saved. Its receipt code is {saved.receipt_shown}: give it to the voter if they want to check their ballot later.")
    return redirect(f"/officer/rounds/{_id(request)}/paper")


async def progress_create(request: Request) -> Response:
    user, council = _actor(request)
    values = form_values(await request.form())
    try:
        update = await voting.post_progress(user, council, _id(request), _id(request, "priority_id"), values)
    except Invalid as error:
        prefixed = {f"progress-{_id(request, 'priority_id')}-{k}": v for k, v in error.errors.items()}
        form = {f"progress-{_id(request, 'priority_id')}-{k}": v for k, v in values.items()}
        return await _admin_page(request, prefixed, form, status=422)
    flash(request, f"Progress posted. {update.emailed} backer{'s' if update.emailed != 1 else ''} told by email.")
    return redirect(f"/officer/rounds/{_id(request)}#report")


async def import_form(request: Request) -> Response:
    user, council = _actor(request)
    await ballot_rules.require_staff(user, council)
    return render(request, "voting/admin/import.html", {"values": {"with_ballots": "yes"}, "errors": {}})


async def import_save(request: Request) -> Response:
    user, council = _actor(request)
    await ballot_rules.require_staff(user, council)
    form = await request.form(max_part_size=MAX_FILE_BYTES)
    upload = form.get("file")
    values = form_values(form)
    text, name = "", ""
    if isinstance(upload, UploadFile):
        raw = await upload.read(MAX_FILE_BYTES + 1)
        name = upload.filename or "upload.pb"
        if len(raw) > MAX_FILE_BYTES:
            return render(request, "voting/admin/import.html", {"values": values, "errors": {"file": "The file must be smaller than 20 MB"}}, status_code=422)
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            return render(request, "voting/admin/import.html", {"values": values, "errors": {"file": "The file must be UTF-8 text, as Pabulib files are"}}, status_code=422)
    try:
        round_ = await voting.import_pabulib(user, council, name, text, with_ballots=values.get("with_ballots") == "yes")
    except Invalid as error:
        return render(request, "voting/admin/import.html", {"values": values, "errors": error.errors}, status_code=422)
    flash(request, f"Imported {name} as a draft round.")
    return redirect(f"/officer/rounds/{round_.id}")


async def identity_form(request: Request) -> Response:
    user, council = _actor(request)
    await ballot_rules.require_staff(user, council)
    return render(request, "voting/admin/identity.html", {"values": {}, "errors": {}})


async def identity_save(request: Request) -> Response:
    user, council = _actor(request)
    values = form_values(await request.form())
    try:
        resident = await voting.verify_identity(user, council, values.get("email", ""), values.get("evidence", ""))
    except Invalid as error:
        return render(request, "voting/admin/identity.html", {"values": values, "errors": error.errors}, status_code=422, block="form")
    flash(request, f"{resident.email} has had their identity checked and can vote in rounds that require it.")
    return redirect("/officer/rounds/identity")


routes = [
    Route("/rounds", rounds_index, methods=["GET"], name="rounds_index"),
    Route("/rounds/report/stop/{token}", report_stop_form, methods=["GET"], name="report_stop_form"),
    Route("/rounds/report/stop/{token}", report_stop, methods=["POST"], name="report_stop"),
    Route("/rounds/{round_id}", round_page, methods=["GET"], name="round_page"),
    Route("/rounds/{round_id}/ballot", ballot_form, methods=["GET"], name="ballot_form"),
    Route("/rounds/{round_id}/ballot", ballot_save, methods=["POST"], name="ballot_save"),
    Route("/rounds/{round_id}/ballot/preview", ballot_preview, methods=["POST"], name="ballot_preview"),
    Route("/rounds/{round_id}/ballot/receipt", ballot_receipt, methods=["GET"], name="ballot_receipt"),
    Route("/rounds/{round_id}/results", results_page, methods=["GET"], name="results_page"),
    Route("/rounds/{round_id}/results.csv", results_csv, methods=["GET"], name="results_csv"),
    Route("/rounds/{round_id}/ballots", ballot_list, methods=["GET"], name="ballot_list"),
    Route("/rounds/{round_id}/export.pb", export_pb, methods=["GET"], name="export_pb"),
    Route("/api/v1/rounds/{round_id}/results", results_api, methods=["GET"], name="results_api"),
    Route("/officer/rounds", officer_rounds, methods=["GET"], name="officer_rounds"),
    Route("/officer/rounds", round_create, methods=["POST"], name="round_create"),
    Route("/officer/rounds/new", round_new, methods=["GET"], name="round_new"),
    Route("/officer/rounds/import", import_form, methods=["GET"], name="import_form"),
    Route("/officer/rounds/import", import_save, methods=["POST"], name="import_save"),
    Route("/officer/rounds/identity", identity_form, methods=["GET"], name="identity_form"),
    Route("/officer/rounds/identity", identity_save, methods=["POST"], name="identity_save"),
    Route("/officer/rounds/{round_id}", round_admin, methods=["GET"], name="round_admin"),
    Route("/officer/rounds/{round_id}/edit", round_edit, methods=["GET"], name="round_edit"),
    Route("/officer/rounds/{round_id}/edit", round_update, methods=["POST"], name="round_update"),
    Route("/officer/rounds/{round_id}/priorities", priority_create, methods=["POST"], name="priority_create"),
    Route("/officer/rounds/{round_id}/priorities/{priority_id}/edit", priority_edit, methods=["GET"], name="priority_edit"),
    Route("/officer/rounds/{round_id}/priorities/{priority_id}/edit", priority_update, methods=["POST"], name="priority_update"),
    Route("/officer/rounds/{round_id}/priorities/{priority_id}/remove", priority_remove, methods=["POST"], name="priority_remove"),
    Route("/officer/rounds/{round_id}/priorities/{priority_id}/progress", progress_create, methods=["POST"], name="progress_create"),
    Route("/officer/rounds/{round_id}/open", round_open, methods=["POST"], name="round_open"),
    Route("/officer/rounds/{round_id}/close", round_close_form, methods=["GET"], name="round_close_form"),
    Route("/officer/rounds/{round_id}/close", round_close, methods=["POST"], name="round_close"),
    Route("/officer/rounds/{round_id}/publish", round_publish_form, methods=["GET"], name="round_publish_form"),
    Route("/officer/rounds/{round_id}/publish", round_publish, methods=["POST"], name="round_publish"),
    Route("/officer/rounds/{round_id}/codes", codes_create, methods=["POST"], name="codes_create"),
    Route("/officer/rounds/{round_id}/codes/{batch_id}.csv", codes_csv, methods=["GET"], name="codes_csv"),
    Route("/officer/rounds/{round_id}/codes/{batch_id}", codes_print, methods=["GET"], name="codes_print"),
    Route("/officer/rounds/{round_id}/paper", paper_form, methods=["GET"], name="paper_form"),
    Route("/officer/rounds/{round_id}/paper", paper_save, methods=["POST"], name="paper_save"),
]
