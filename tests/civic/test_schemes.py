"""The schemes domain: slugs, text, checks, the directory's search, decisions, what organisers may change, reports and the demo."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

import pytest
from tortoise import Tortoise, timezone

from civic import accounts, demo, worker
from civic.audit import AuditLog
from civic.councils import Council, Ward
from civic.db import is_postgres
from civic.errors import Conflict, Forbidden, Invalid, NotFound
from civic.schemes import access, board, directory, invitations, moderation, organising, proposals, volunteers
from civic.schemes.directory import Filters, Results
from civic.schemes.models import INVITATION_LIFETIME, Membership, NewsPost, OrganiserInvitation, Report, Scheme
from civic.schemes.text import one_line, paragraphs, searchable, slugify, valid_phone
from tests.factories import (
    create_council_ok,
    create_post_ok,
    create_report_ok,
    create_scheme_ok,
    create_user_ok,
    create_volunteer_ok,
    mail_to,
    organiser_of,
    scheme_values,
    use_settings,
    ward,
)
from tests.peers import need


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Cwtch Cymunedol – Llŷn", "cwtch-cymunedol-llyn"),
        ("Łódź żółw Club", "lodz-zolw-club"),
        ("<script>alert(1)</script>", "script-alert-1-script"),
        ("🎉🎉", ""),
        ("St Anne's Street Pastors", "st-anne-s-street-pastors"),
        ("x" * 100, "x" * 60),
    ],
)
def test_slugs_are_plain_ascii_made_from_the_name(name, slug):
    assert slugify(name) == slug


def test_text_is_kept_as_typed_without_invisible_control_characters():
    assert one_line("  Tea\n\tand\x00 chat  ") == "Tea and chat"
    assert paragraphs("One\r\n\r\nTwo\x07\n") == "One\n\nTwo"
    assert paragraphs("<b>ŵ</b> 🎉") == "<b>ŵ</b> 🎉"


@pytest.mark.parametrize(("raw", "ok"), [("01632 960 123", True), ("+44 1632 960123", True), ("(01632) 960-123", True), ("123", False), ("call me", False)])
def test_phone_numbers_are_checked_loosely(raw, ok):
    assert valid_phone(raw) is ok


@pytest.mark.parametrize(
    ("page", "pages", "numbers"),
    [(1, 1, [1]), (1, 3, [1, 2, 3]), (5, 10, [1, None, 4, 5, 6, None, 10]), (10, 10, [1, None, 9, 10]), (2, 4, [1, 2, 3, 4])],
)
def test_page_links_show_the_ends_and_the_pages_either_side(page, pages, numbers):
    assert Results(filters=Filters(), page=page, pages=pages).page_numbers == numbers


def test_filters_from_a_query_string_ignore_what_they_do_not_know():
    filters = Filters.from_query({"q": "  food\nbank ", "category": "bananas", "who": "carers", "ward": "x", "page": "-3"})
    assert (filters.words, filters.category, filters.audience, filters.ward, filters.page) == ("food bank", "", "carers", "", 1)
    assert Filters(words="tea", page=2).query_string() == "q=tea&page=2"


async def test_search_words_are_matched_literally_not_as_patterns(council):
    await create_scheme_ok(council, name="100% Volunteer Run", summary="Tea")
    await create_scheme_ok(council, name="Ordinary", summary="Coffee")
    assert [s.name for s in (await directory.search(council, Filters(words="%"))).schemes] == ["100% Volunteer Run"]
    assert (await directory.search(council, Filters(words="_"))).total == 0


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Community Café", "community cafe"),
        ("CRÈCHE", "creche"),
        ("naïve", "naive"),
        ("Straße", "strasse"),
        ("Łódź Øresund", "lodz oresund"),
        ("Cwtch Cymunedol – Llŷn", "cwtch cymunedol – llyn"),
        ("St Anne’s", "st anne's"),  # the apostrophe a phone types
        ("ﬁsh ㎒", "fish mhz"),
        ("Πολιτιστικό Κέντρο", "πολιτιστικο κεντρο"),
        ("日本語", "日本語"),
    ],
)
def test_searched_text_is_compared_without_accents_or_capitals(text, folded):
    assert searchable(text) == folded


async def _found(council, words: str) -> list[str]:
    return [s.name for s in (await directory.search(council, Filters(words=words))).schemes]


async def test_search_finds_words_whatever_their_accents_and_capitals_in_every_searched_field(council):
    await create_scheme_ok(council, name="Community Café", summary="Tea and toast")
    await create_scheme_ok(council, name="Little Ones", summary="A crèche while you shop")
    await create_scheme_ok(council, name="Art Club", summary="Painting", description="Naïve painting for beginners.")
    await create_scheme_ok(council, name="Walkers", summary="Walks", venue="Łódź Street, by the STRAẞE café")
    await create_scheme_ok(council, name="Plain Cafe", summary="Coffee")
    assert await _found(council, "cafe") == ["Community Café", "Plain Cafe", "Walkers"]
    assert await _found(council, "CAFÉ") == ["Community Café", "Plain Cafe", "Walkers"]
    assert await _found(council, "community cafe") == ["Community Café"]
    assert await _found(council, "Creche") == ["Little Ones"]
    assert await _found(council, "crèche") == ["Little Ones"]
    assert await _found(council, "naive beginners") == ["Art Club"]
    assert await _found(council, "lodz strasse") == ["Walkers"]
    assert await _found(council, "Straße") == ["Walkers"]
    assert await _found(council, "cafés") == []


async def test_search_follows_a_scheme_its_organiser_edits(council):
    organiser = await create_user_ok(council)
    scheme = await create_scheme_ok(council, organiser=organiser, name="Lunch Club", summary="Soup on Mondays")
    abbey = await ward(council, "Abbey")
    await proposals.update(organiser, council, scheme.slug, scheme_values([abbey], name="Crêpe Club", summary="Pancakes on Mondays"))
    assert await _found(council, "crepe") == ["Crêpe Club"]
    assert await _found(council, "pancakes") == ["Crêpe Club"]
    assert await _found(council, "soup") == []
    assert (await Scheme.get(id=scheme.id)).search_text.startswith("crepe club\npancakes on mondays\n")


async def test_search_results_are_kept_for_the_configured_time_and_no_longer(council):
    await create_scheme_ok(council, name="Kept Kettle Club", summary="Tea")
    with use_settings(public_cache_seconds=0.5):
        first = await directory.search(council, Filters(words="kettle"))
        assert [s.name for s in first.schemes] == ["Kept Kettle Club"]
        await create_scheme_ok(council, name="Kettle Two", summary="Tea")
        # Within the lifetime the same search is answered from memory; another search is not.
        assert await directory.search(council, Filters(words="kettle")) is first
        assert (await directory.search(council, Filters(words="kettle", page=2))).total == 2
        await asyncio.sleep(0.6)
        assert [s.name for s in (await directory.search(council, Filters(words="kettle"))).schemes] == ["Kept Kettle Club", "Kettle Two"]
    with use_settings(public_cache_seconds=0):
        await create_scheme_ok(council, name="Kettle Three", summary="Tea")
        assert (await directory.search(council, Filters(words="kettle"))).total == 3


async def test_a_scheme_page_is_kept_for_visitors_not_signed_in_and_never_for_signed_in_people(council):
    officer = await create_user_ok(council, role="officer")
    organiser = await create_user_ok(council)
    scheme = await create_scheme_ok(council, organiser=organiser, name="Kept Lunch Club")
    with use_settings(public_cache_seconds=0.5):
        seen = await organising.scheme_page(None, council, scheme.slug)
        await moderation.hide_scheme(officer, council, scheme.slug, "Misleading claims about funding")
        # Anonymous visitors may see the page they were shown for the lifetime; signed-in people never do.
        assert await organising.scheme_page(None, council, scheme.slug) is seen
        assert (await organising.scheme_page(organiser, council, scheme.slug)).scheme.hidden
        with pytest.raises(NotFound):
            await organising.scheme_page(await create_user_ok(council), council, scheme.slug)
        await asyncio.sleep(0.6)
        with pytest.raises(NotFound):
            await organising.scheme_page(None, council, scheme.slug)


async def test_near_reads_neighbours_both_ways(council):
    abbey, castlefields, harbourside = [await ward(council, n) for n in ("Abbey", "Castlefields", "Harbourside")]
    await abbey.neighbours.add(castlefields)
    await harbourside.neighbours.add(abbey)
    assert [w.name for w in await directory.near(abbey)] == ["Abbey", "Castlefields", "Harbourside"]
    assert [w.name for w in await directory.near(castlefields)] == ["Castlefields", "Abbey"]


async def test_wards_of_another_council_cannot_be_chosen(council):
    other = await create_council_ok()
    with pytest.raises(Invalid) as error:
        await proposals.check_details(council, scheme_values([await Ward.get(council=other, name="Abbey")]))
    assert set(error.value.errors) == {"wards"}


async def test_an_anonymous_or_suspended_person_cannot_propose(council):
    values = scheme_values([await ward(council)])
    with pytest.raises(Forbidden):
        await proposals.propose(None, council, values)
    with pytest.raises(Forbidden):
        await proposals.propose(await create_user_ok(council, suspended=True), council, values)


async def test_an_officer_of_another_council_is_told_a_pending_scheme_does_not_exist(council):
    scheme = await create_scheme_ok(council, status="pending")
    stranger = await create_user_ok(await create_council_ok(), role="officer")
    with pytest.raises(NotFound):
        await proposals.approve(stranger, council, scheme.slug)
    with pytest.raises(NotFound):
        await proposals.decline(stranger, council, scheme.slug, "No")
    assert (await Scheme.get(id=scheme.id)).status == "pending"


async def test_only_a_pending_scheme_can_be_approved_or_declined(council):
    officer = await create_user_ok(council, role="officer")
    scheme = await create_scheme_ok(council)
    with pytest.raises(Conflict):
        await proposals.approve(officer, council, scheme.slug)
    with pytest.raises(Conflict):
        await proposals.decline(officer, council, scheme.slug, "Too late")


async def test_a_removed_organiser_loses_the_scheme(council):
    organiser, helper = await create_user_ok(council), await create_user_ok(council)
    scheme = await create_scheme_ok(council, organiser, status="pending")
    await invitations.invite(organiser, council, scheme.slug, helper.email)
    with pytest.raises(NotFound):  # invited to a pending scheme, but not yet an organiser of it
        await access.find(helper, council, scheme.slug)
    membership = await invitations.accept(helper, council, scheme.slug)
    assert (await access.find(helper, council, scheme.slug))[1].is_organiser
    await organising.remove_organiser(organiser, council, scheme.slug, membership.id)
    with pytest.raises(NotFound):  # pending, and no longer theirs
        await access.find(helper, council, scheme.slug)
    assert [s.id for s in await organising.my_schemes(helper, council)] == []


@pytest.mark.parametrize("how", ["removed", "stepped down", "made a volunteer", "suspended"])
async def test_invitations_sent_by_someone_who_no_longer_organises_are_withdrawn(council, how):
    scheme = await create_scheme_ok(council)
    organiser = await organiser_of(scheme)
    other = await create_volunteer_ok(scheme, role="organiser")
    invited = await create_user_ok(council)
    invitation = await invitations.invite(other.user, council, scheme.slug, invited.email)

    if how == "removed":
        await organising.remove_organiser(organiser, council, scheme.slug, other.id)
    elif how == "stepped down":
        await organising.remove_organiser(other.user, council, scheme.slug, other.id)
    elif how == "made a volunteer":
        await volunteers.set_role(organiser, council, scheme.slug, other.id, "volunteer")
    else:
        await accounts.suspend(await create_user_ok(council, role="officer"), council, other.user, "Abusive posts")

    assert (await OrganiserInvitation.get(id=invitation.id)).status == "withdrawn"
    assert await AuditLog.filter(action="scheme.organiser_invitation_withdrawn", reason__startswith=f"invitation {invitation.id}:").exists()
    with pytest.raises(NotFound):
        await invitations.accept(invited, council, scheme.slug)
    assert not await access.is_organiser(invited, scheme)


async def test_an_invitation_whose_sender_no_longer_organises_cannot_be_accepted_and_they_hear_nothing(council, mailbox):
    scheme = await create_scheme_ok(council)
    other = await create_volunteer_ok(scheme, role="organiser")
    invited = await create_user_ok(council)
    invitation = await invitations.invite(other.user, council, scheme.slug, invited.email)
    # As it was left before removal withdrew what they had sent.
    await Membership.filter(id=other.id).update(status="removed")

    with pytest.raises(Conflict, match=f"The person who invited you no longer organises {scheme.name}"):
        await invitations.accept(invited, council, scheme.slug)

    assert not await access.is_organiser(invited, scheme)
    assert (await OrganiserInvitation.get(id=invitation.id)).status == "withdrawn"
    assert not [m for m in mailbox.to(other.user.email) if "is now an organiser" in m["Subject"]]


async def test_someone_removed_since_is_not_told_that_their_invitation_was_declined(council, mailbox):
    scheme = await create_scheme_ok(council)
    other = await create_volunteer_ok(scheme, role="organiser")
    invited = await create_user_ok(council)
    await invitations.invite(other.user, council, scheme.slug, invited.email)
    await Membership.filter(id=other.id).update(status="removed")

    await invitations.decline(invited, council, scheme.slug)

    assert not [m for m in mailbox.to(other.user.email) if "will not be an organiser" in m["Subject"]]


async def sent_ago(invitation: OrganiserInvitation, age: timedelta) -> None:
    """As if the invitation had been sent `age` ago."""
    await OrganiserInvitation.filter(id=invitation.id).update(created_at=timezone.now() - age)


async def test_an_invitation_can_be_accepted_until_it_lapses_fourteen_days_after_it_was_sent(council):
    scheme = await create_scheme_ok(council)
    organiser = await organiser_of(scheme)
    invited = await create_user_ok(council)
    invitation = await invitations.invite(organiser, council, scheme.slug, invited.email)
    await sent_ago(invitation, INVITATION_LIFETIME - timedelta(minutes=1))
    assert not (await invitations.invitation_page(invited, council, scheme.slug)).lapsed
    await invitations.accept(invited, council, scheme.slug)
    assert await access.is_organiser(invited, scheme)
    assert INVITATION_LIFETIME == timedelta(days=14)


async def test_a_lapsed_invitation_cannot_be_accepted_or_declined_and_says_who_to_ask(council, mailbox):
    scheme = await create_scheme_ok(council)
    organiser = await organiser_of(scheme)
    invited = await create_user_ok(council)
    invitation = await invitations.invite(organiser, council, scheme.slug, invited.email)
    await sent_ago(invitation, INVITATION_LIFETIME + timedelta(minutes=1))

    page = await invitations.invitation_page(invited, council, scheme.slug)
    assert page.lapsed and page.ask == str(organiser)
    assert await invitations.mine(invited, council) == []  # nothing waits for their answer
    with pytest.raises(Conflict, match=f"This invitation has lapsed. Ask {organiser} to invite you again."):
        await invitations.accept(invited, council, scheme.slug)
    with pytest.raises(Conflict, match="nothing to decline"):
        await invitations.decline(invited, council, scheme.slug)

    assert not await access.is_organiser(invited, scheme)
    assert (await OrganiserInvitation.get(id=invitation.id)).status == "pending"  # lapsed by its age alone
    assert not [m for m in mailbox.to(organiser.email) if invited.email in m["Subject"] or "now an organiser" in m["Subject"]]


async def test_a_lapsed_invitation_can_be_sent_again_and_the_new_one_accepted(council):
    scheme = await create_scheme_ok(council)
    organiser = await organiser_of(scheme)
    invited = await create_user_ok(council)
    first = await invitations.invite(organiser, council, scheme.slug, invited.email)
    with pytest.raises(Invalid, match="already invited"):
        await invitations.invite(organiser, council, scheme.slug, invited.email)
    await sent_ago(first, INVITATION_LIFETIME + timedelta(days=1))

    again = await invitations.invite(organiser, council, scheme.slug, invited.email)

    assert (await OrganiserInvitation.get(id=first.id)).status == "lapsed"
    assert [i.id for i in await invitations.pending(scheme)] == [again.id]  # each address once on the list
    assert [i.id for i in await invitations.mine(invited, council)] == [again.id]
    await invitations.accept(invited, council, scheme.slug)
    assert await access.is_organiser(invited, scheme)


async def test_invitations_are_forgotten_thirty_days_after_they_are_answered_withdrawn_or_lapsed(council):
    # An invitation holds an address someone typed: it is kept only while it still tells someone something.
    scheme = await create_scheme_ok(council)
    organiser = await organiser_of(scheme)
    accepting, declining, declined_lately, waiting_person = [await create_user_ok(council) for _ in range(4)]
    accepted = await invitations.invite(organiser, council, scheme.slug, accepting.email)
    await invitations.accept(accepting, council, scheme.slug)
    declined = await invitations.invite(organiser, council, scheme.slug, declining.email)
    await invitations.decline(declining, council, scheme.slug)
    kept_declined = await invitations.invite(organiser, council, scheme.slug, declined_lately.email)
    await invitations.decline(declined_lately, council, scheme.slug)
    withdrawn = await invitations.invite(organiser, council, scheme.slug, "withdrawn.invitee@example.test")
    await invitations.withdraw(organiser, council, scheme.slug, withdrawn.id)
    lapsed_long_ago = await invitations.invite(organiser, council, scheme.slug, "lapsed.long.ago@example.test")
    lapsed_lately = await invitations.invite(organiser, council, scheme.slug, "lapsed.lately@example.test")
    waiting = await invitations.invite(organiser, council, scheme.slug, waiting_person.email)
    month_ago = timezone.now() - timedelta(days=31)
    await OrganiserInvitation.filter(id__in=[accepted.id, declined.id, withdrawn.id]).update(answered_at=month_ago, created_at=month_ago)
    await OrganiserInvitation.filter(id=kept_declined.id).update(answered_at=timezone.now() - timedelta(days=29), created_at=month_ago)
    await sent_ago(lapsed_long_ago, INVITATION_LIFETIME + timedelta(days=31))
    await sent_ago(lapsed_lately, INVITATION_LIFETIME + timedelta(days=29))
    await OrganiserInvitation.filter(id=lapsed_lately.id).update(status="lapsed")

    [job] = [job for job in worker.JOBS if job.target == "civic.schemes.invitations:forget_settled"]
    results = await worker.run_once([job])
    assert results[job.name] >= 4

    connection = Tortoise.get_connection("default")
    placeholder = "$1" if connection.capabilities.dialect == "postgres" else "?"
    stored = [row["email"] for row in await connection.execute_query_dict(f"SELECT email FROM organiser_invitation WHERE scheme_id = {placeholder} ORDER BY id", [scheme.id])]
    assert stored == [declined_lately.email, "lapsed.lately@example.test", waiting_person.email]
    # What the organisers and the invited see of those kept is as before.
    assert [i.id for i in await invitations.pending(scheme)] == [waiting.id]
    assert not (await invitations.invitation_page(waiting_person, council, scheme.slug)).lapsed
    assert await access.is_organiser(accepting, scheme)  # forgetting the invitation leaves the organiser be
    assert (await worker.run_once([job]))[job.name] == 0  # running again changes nothing


async def test_two_organisers_inviting_one_address_at_the_same_moment_make_one_invitation(council):
    need(is_postgres(), "PostgreSQL")
    scheme = await create_scheme_ok(council)
    organiser, other = await organiser_of(scheme), (await create_volunteer_ok(scheme, role="organiser")).user
    address = f"both-{scheme.slug}@example.test"
    async def invite(inviter):
        try:
            return await invitations.invite(inviter, council, scheme.slug, address)
        except Invalid as refused:
            return refused

    answers = await asyncio.gather(invite(organiser), invite(other), invite(organiser), invite(other))

    sent = [a for a in answers if isinstance(a, OrganiserInvitation)]
    assert len(sent) == 1
    assert [a.errors for a in answers if isinstance(a, Invalid)] == [{"email": f"You have already invited {address}. They have not answered yet."}] * 3
    assert await OrganiserInvitation.filter(scheme=scheme, email=address, status="pending").count() == 1
    assert [i.id for i in await invitations.pending(scheme)] == [sent[0].id]
    assert await mail_to(address).count() == 1


async def test_removing_a_lapsed_invitation_marks_it_lapsed_rather_than_withdrawn(council):
    scheme = await create_scheme_ok(council)
    organiser = await organiser_of(scheme)
    other = await create_volunteer_ok(scheme, role="organiser")
    invited = await create_user_ok(council)
    waiting = await invitations.invite(organiser, council, scheme.slug, f"waiting-{invited.email}")
    lapsed = await invitations.invite(other.user, council, scheme.slug, invited.email)
    await sent_ago(lapsed, INVITATION_LIFETIME)

    assert (await invitations.withdraw(organiser, council, scheme.slug, lapsed.id)).status == "lapsed"
    assert (await invitations.withdraw(organiser, council, scheme.slug, waiting.id)).status == "withdrawn"
    with pytest.raises(Conflict, match="already lapsed"):  # pressed twice
        await invitations.withdraw(organiser, council, scheme.slug, lapsed.id)
    assert await AuditLog.filter(action="scheme.organiser_invitation_withdrawn", reason=f"invitation {lapsed.id}: it had lapsed").exists()
    assert await invitations.pending(scheme) == []
    # Its link still says it lapsed; once its sender stops organising, it says to ask someone who still does.
    assert (await invitations.invitation_page(invited, council, scheme.slug)).ask == str(other.user)
    await organising.remove_organiser(organiser, council, scheme.slug, other.id)
    page = await invitations.invitation_page(invited, council, scheme.slug)
    assert page.lapsed and page.ask == "one of its organisers"
    with pytest.raises(Conflict, match="Ask one of its organisers to invite you again"):
        await invitations.accept(invited, council, scheme.slug)


async def test_a_report_needs_a_reason_from_the_list(council):
    scheme = await create_scheme_ok(council)
    with pytest.raises(Invalid) as error:
        await moderation.report(await create_user_ok(council), council, scheme.slug, None, "bored", "Details")
    assert set(error.value.errors) == {"reason"}


# What organisers may change, said once for the page and the change alike


async def test_news_shows_why_it_cannot_be_changed_exactly_when_changing_it_is_refused(council):
    organiser, officer = await create_user_ok(council), await create_user_ok(council, role="officer")
    scheme = await create_scheme_ok(council, organiser)
    plain, reported, hidden = [await create_post_ok(scheme, organiser, title=title) for title in ("Plain", "Reported", "Hidden")]
    await create_report_ok(scheme, post=reported)
    await create_report_ok(scheme, post=hidden)
    await moderation.hide_post(officer, council, hidden.id, "Names a child")

    page = await organising.news_page(organiser, council, scheme.slug)
    assert {post.title: page.fixed.get(post.id) for post in page.news} == {
        "Plain": None,
        "Reported": organising.Unchangeable(
            f"{council.name} is looking at this news, so it cannot be changed for now.",
            f"Someone has reported this news and {council.name} is looking at it, so it cannot be changed until they have decided. "
            f"If it needs correcting urgently, contact {council.name}.",
        ),
        "Hidden": organising.Unchangeable(
            f"{council.name} has hidden this news, so it cannot be changed.",
            f"{council.name} has hidden this news, so it cannot be changed. If you think it should be shown again, contact {council.name}.",
        ),
    }
    for post in page.news:
        if fixed := page.fixed.get(post.id):
            with pytest.raises(Conflict, match=re.escape(fixed.answer)):
                await organising.update_news(organiser, council, scheme.slug, post.id, "New title", "New words")
        else:
            await organising.update_news(organiser, council, scheme.slug, post.id, "New title", "New words")
    assert (await organising.news_page(await create_user_ok(council), council, scheme.slug)).fixed == {}  # for organisers only

    await Scheme.filter(id=scheme.id).update(status="closed")
    closed = await organising.news_page(organiser, council, scheme.slug)
    assert {fixed.line for fixed in closed.fixed.values()} == {"This scheme has closed, so its news can no longer be changed."}
    assert len(closed.fixed) == 3


async def test_news_shows_why_it_cannot_be_deleted_exactly_when_deleting_it_is_refused(council):
    organiser, officer = await create_user_ok(council), await create_user_ok(council, role="officer")
    scheme = await create_scheme_ok(council, organiser)
    titles = ("Plain", "Reported", "Dismissed", "Hidden", "Hidden unreported")
    plain, reported, dismissed, hidden, unreported = [await create_post_ok(scheme, organiser, title=title) for title in titles]
    await create_report_ok(scheme, post=reported)
    await moderation.dismiss(officer, council, (await create_report_ok(scheme, post=dismissed)).id, "Nothing wrong")
    await moderation.hide_post(officer, council, (await create_report_ok(scheme, post=hidden)).post_id, "Names a child")
    await moderation.hide_post(officer, council, unreported.id, "Gives a child's school")  # an officer saw it; nobody reported it

    page = await organising.news_page(organiser, council, scheme.slug)
    answer = f"Someone has reported this news to {council.name}, so it cannot be deleted."
    either = f"It has been reported to {council.name}, so it cannot be deleted either."
    assert {post.title: page.kept.get(post.id) for post in page.news} == {
        "Plain": None,
        "Reported": organising.Unchangeable(either, answer),
        "Dismissed": organising.Unchangeable(
            f"It has been reported to {council.name}, so it cannot be deleted. You can still change it.", f"{answer} You can change it instead."
        ),
        "Hidden": organising.Unchangeable(either, answer),
        "Hidden unreported": organising.Unchangeable(
            f"Nor can it be deleted while {council.name} has it hidden.",
            f"{council.name} has hidden this news, so it cannot be deleted while it is hidden. If you think it should be shown again, contact {council.name}.",
        ),
    }
    for post in page.news:
        if kept := page.kept.get(post.id):
            with pytest.raises(Conflict, match=re.escape(kept.answer)):
                await organising.news_post_to_delete(organiser, council, scheme.slug, post.id)
            with pytest.raises(Conflict, match=re.escape(kept.answer)):
                await organising.delete_news(organiser, council, scheme.slug, post.id)
        else:
            await organising.delete_news(organiser, council, scheme.slug, post.id)
    assert not await NewsPost.filter(id=plain.id).exists()
    assert set(await NewsPost.filter(scheme=scheme).values_list("title", flat=True)) == {"Reported", "Dismissed", "Hidden", "Hidden unreported"}
    assert (await organising.news_page(await create_user_ok(council), council, scheme.slug)).kept == {}  # for organisers only
    await moderation.restore_post(officer, council, unreported.id, "The school is public knowledge")
    await organising.delete_news(organiser, council, scheme.slug, unreported.id)  # once shown again, as any unreported news
    assert not await NewsPost.filter(id=unreported.id).exists()


async def test_an_event_shows_why_it_cannot_be_changed_exactly_when_changing_it_is_refused(council):
    from datetime import datetime, timezone

    from civic.schemes import events
    from civic.schemes.running import Event

    scheme = await create_scheme_ok(council)
    organiser = await organiser_of(scheme)
    made = datetime(2031, 5, 1, 9, tzinfo=timezone.utc)
    values = {"title": "Coffee", "place": "The hall", "date": "2031-05-06", "start_time": "10:00", "end_time": "11:00"}
    event = await events.create_event(organiser, council, scheme.slug, values, now=made)

    for now, says in ((made, ""), (datetime(2031, 5, 6, 12, tzinfo=timezone.utc), "This event is over, so it cannot be changed or cancelled.")):
        page = await events.event_page(organiser, council, scheme.slug, event.id, now=now)
        assert page.fixed == says
        if says:
            with pytest.raises(Conflict, match=says):
                await events.update_event(organiser, council, scheme.slug, event.id, values, now=now)
            with pytest.raises(Conflict, match=says):
                await events.cancel_event(organiser, council, scheme.slug, event.id, "Tidying up", now=now)
            with pytest.raises(Conflict, match=says):  # said before asking for a reason the page never offered to give
                await events.cancel_event(organiser, council, scheme.slug, event.id, "", now=now)
    assert not (await Event.get(id=event.id)).cancelled
    assert (await events.event_page(await create_user_ok(council), council, scheme.slug, event.id, now=datetime(2031, 5, 6, 12, tzinfo=timezone.utc))).fixed == ""
    await Scheme.filter(id=scheme.id).update(status="closed")
    closed = "This scheme has closed, so its events can no longer be changed or cancelled."
    assert (await events.event_page(organiser, council, scheme.slug, event.id, now=made)).fixed == closed
    with pytest.raises(Conflict, match=closed):
        await events.update_event(organiser, council, scheme.slug, event.id, {**values, "title": "Tea"}, now=made)
    with pytest.raises(Conflict, match=closed):
        await events.cancel_event(organiser, council, scheme.slug, event.id, "Tidying up", now=made)
    assert (await Event.get(id=event.id)).title == "Coffee"


async def test_an_event_under_way_can_still_be_called_off(council):
    from datetime import UTC, datetime

    from civic.schemes import events
    from civic.schemes.running import Event

    scheme = await create_scheme_ok(council)
    organiser = await organiser_of(scheme)
    made = datetime(2031, 5, 1, 9, tzinfo=UTC)
    values = {"title": "Coffee", "place": "The hall", "date": "2031-05-06", "start_time": "10:00", "end_time": "11:00"}
    event = await events.create_event(organiser, council, scheme.slug, values, now=made)
    under_way = datetime(2031, 5, 6, 9, 30, tzinfo=UTC)  # 10:30 in London
    assert (await events.event_page(organiser, council, scheme.slug, event.id, now=under_way)).fixed == ""
    await events.cancel_event(organiser, council, scheme.slug, event.id, "Fire alarm", now=under_way)
    assert (await Event.get(id=event.id)).cancel_reason == "Fire alarm"
    with pytest.raises(Conflict, match="This event is already cancelled."):
        await events.cancel_event(organiser, council, scheme.slug, event.id, "Fire alarm", now=under_way)


async def test_a_reply_cannot_be_taken_back_once_the_event_has_started(council):
    from datetime import UTC, datetime

    from civic.audit import AuditLog
    from civic.schemes import events
    from civic.schemes.running import EventReply

    scheme = await create_scheme_ok(council)
    made = datetime(2031, 5, 1, 9, tzinfo=UTC)
    values = {"title": "Coffee", "place": "The hall", "date": "2031-05-06", "start_time": "10:00", "end_time": "11:00"}
    event = await events.create_event(await organiser_of(scheme), council, scheme.slug, values, now=made)
    came, changed_mind = await create_user_ok(council), await create_user_ok(council)
    for person in (came, changed_mind):
        await events.reply(person, council, scheme.slug, event.id, now=made)

    await events.cancel_reply(changed_mind, council, scheme.slug, event.id, now=datetime(2031, 5, 6, 8, 59, tzinfo=UTC))  # a minute before 10am in London
    for now in (datetime(2031, 5, 6, 9, tzinfo=UTC), datetime(2031, 5, 7, 9, tzinfo=UTC)):  # as it starts, and the day after
        with pytest.raises(Conflict, match="This event has started, so you can no longer take back your reply"):
            await events.cancel_reply(came, council, scheme.slug, event.id, now=now)
    # The organisers' record of who said they were coming stays as it was on the day.
    assert [r.user_id for r in await EventReply.filter(event=event)] == [came.id]  # type: ignore[attr-defined]
    # Taking a reply back is in the audit log as the reply is, once: the refused attempts left nothing.
    [taken_back] = await AuditLog.filter(action="event.reply_taken_back", council=council)
    assert (taken_back.actor_id, taken_back.target_type, taken_back.target_id) == (changed_mind.id, "Event", str(event.id))  # type: ignore[attr-defined]


# Offers of help reported to the council


async def _offer(scheme, author, text: str = "I can mow lawns on Saturdays"):
    return await board.post_offer(author, await Council.get(id=scheme.council_id), scheme.slug, text)


async def test_an_offer_of_help_is_reported_once_by_each_person_and_officers_see_it_in_the_queue(council):
    scheme = await create_scheme_ok(council)
    author, reporter = await create_user_ok(council), await create_user_ok(council)
    offer = await _offer(scheme, author)

    row = await moderation.report(reporter, council, scheme.slug, None, "spam", "Selling a mower, not lending one", offer_id=offer.id)
    assert (row.offer_id, row.post_id, row.about_offer) == (offer.id, None, True)  # type: ignore[attr-defined]
    with pytest.raises(Conflict, match="already reported"):
        await moderation.report(reporter, council, scheme.slug, None, "spam", "Again", offer_id=offer.id)
    await moderation.report(reporter, council, scheme.slug, None, "wrong", "The scheme's times are wrong")  # the scheme itself is another thing
    assert await AuditLog.filter(action="report.made", target_id=str(row.id)).exists()

    queue = await moderation.queue(await create_user_ok(council, role="officer"), council)
    [about_offer] = [r for r in queue.reports if r.about_offer]
    assert (about_offer.offer.text, moderation.report_author(about_offer).id) == ("I can mow lawns on Saturdays", author.id)
    section = await moderation.reports_section(council)
    assert "Spam or advertising: an offer of help on " + scheme.name in [item.text for item in section.items]


async def test_an_offer_taken_down_or_hidden_cannot_be_reported_by_the_public(council):
    scheme = await create_scheme_ok(council)
    author, officer = await create_user_ok(council), await create_user_ok(council, role="officer")
    hidden, removed = await _offer(scheme, author, "Cheap tickets"), await _offer(scheme, author, "Old offer")
    await moderation.hide_offer(officer, council, hidden.id, "Selling")
    await board.remove_offer(author, council, scheme.slug, removed.id)
    resident = await create_user_ok(council)
    for offer in (hidden, removed):
        with pytest.raises(NotFound):
            await moderation.report(resident, council, scheme.slug, None, "spam", "Spam", offer_id=offer.id)
    other = await create_scheme_ok(council)
    with pytest.raises(NotFound):  # an offer is reported through its own scheme
        await moderation.report(resident, council, other.slug, None, "spam", "Spam", offer_id=(await _offer(scheme, author)).id)


async def test_hiding_an_offer_takes_it_off_the_board_tells_the_reporters_and_its_author_and_restoring_brings_it_back(council, mailbox):
    scheme = await create_scheme_ok(council)
    author, reporter, officer = await create_user_ok(council), await create_user_ok(council), await create_user_ok(council, role="officer")
    offer = await _offer(scheme, author, "Lifts to the surgery, £5 a time")
    report = await moderation.report(reporter, council, scheme.slug, None, "spam", "Charging for lifts", offer_id=offer.id)
    with pytest.raises(Forbidden):
        await moderation.hide_offer(reporter, council, offer.id, "Not mine to hide")
    elsewhere = await create_council_ok()
    with pytest.raises(NotFound):  # another council's officers are told it does not exist
        await moderation.hide_offer(await create_user_ok(elsewhere, role="officer"), elsewhere, offer.id, "Elsewhere")
    with pytest.raises(Invalid):
        await moderation.hide_offer(officer, council, offer.id, " ")

    await moderation.hide_offer(officer, council, offer.id, "Lifts here are free")

    assert (await Report.get(id=report.id)).status == "hidden"
    public = await board.board(reporter, council, scheme.slug)
    assert public[2] == []
    assert [o.id for o in (await board.board(await organiser_of(scheme), council, scheme.slug))[2]] == [offer.id]  # organisers see what was hidden
    [told_reporter] = await mail_to(reporter.email)
    assert "hidden the offer of help from the site" in told_reporter.body and "Lifts here are free" in told_reporter.body
    [told_author] = await mail_to(author.email)
    assert told_author.subject == f"Your offer of help on {scheme.name} has been hidden"
    assert "‘Lifts to the surgery, £5 a time’" in told_author.body and "Lifts here are free" in told_author.body
    assert [o.id for o in (await moderation.queue(officer, council)).hidden_offers] == [offer.id]
    with pytest.raises(Conflict):
        await moderation.hide_offer(officer, council, offer.id, "Again")

    await moderation.restore_offer(officer, council, offer.id, "They stopped charging")
    assert [o.id for o in (await board.board(reporter, council, scheme.slug))[2]] == [offer.id]
    with pytest.raises(Conflict):
        await moderation.restore_offer(officer, council, offer.id, "Again")
    entries = await AuditLog.filter(target_type="HelpOffer", target_id=str(offer.id), action__in=["help_offer.hidden", "help_offer.restored"]).order_by("id")
    assert [(e.action, e.reason) for e in entries] == [("help_offer.hidden", "Lifts here are free"), ("help_offer.restored", "They stopped charging")]


async def test_an_offer_the_council_hid_is_taken_down_only_by_its_officers_until_restored(council):
    from civic.schemes.running import HelpOffer

    scheme = await create_scheme_ok(council)
    organiser, author, officer = await organiser_of(scheme), await create_user_ok(council), await create_user_ok(council, role="officer")
    offer, other = await _offer(scheme, author, "Cheap tickets"), await _offer(scheme, author, "Spare tickets")
    await moderation.hide_offer(officer, council, offer.id, "Touting")
    await moderation.hide_offer(officer, council, other.id, "Touting")
    kept = f"{council.name} has hidden this offer, so it cannot be taken down while it is hidden. If you think it should be shown again, contact {council.name}."
    for who in (organiser, author):
        with pytest.raises(Conflict, match=re.escape(kept)):
            await board.remove_offer(who, council, scheme.slug, offer.id)
    assert (await HelpOffer.get(id=offer.id)).removed_at is None
    assert [o.id for o in (await moderation.queue(officer, council)).hidden_offers] == [other.id, offer.id]  # still there to decide on

    await board.remove_offer(officer, council, scheme.slug, other.id)  # the council may
    assert (await HelpOffer.get(id=other.id)).removed_at is not None
    with pytest.raises(Conflict, match="This offer has been taken down from the board, so there is nothing to restore."):
        await moderation.restore_offer(officer, council, other.id, "Shown by mistake")
    assert (await HelpOffer.get(id=other.id)).hidden

    await moderation.restore_offer(officer, council, offer.id, "They were not touting")
    await board.remove_offer(author, council, scheme.slug, offer.id)
    assert (await HelpOffer.get(id=offer.id)).removed_by_id == author.id  # type: ignore[attr-defined]


async def test_the_person_who_offered_can_be_stopped_from_posting_from_the_report(council):
    scheme = await create_scheme_ok(council)
    author, officer = await create_user_ok(council), await create_user_ok(council, role="officer")
    report = await moderation.report(await create_user_ok(council), council, scheme.slug, None, "offensive", "Abuse", offer_id=(await _offer(scheme, author, "Abuse")).id)
    assert (await moderation.suspend_author(officer, council, report.id, "Abusive offer")).id == author.id
    assert (await accounts.User.get(id=author.id)).suspended


async def test_the_demo_has_schemes_across_categories_and_wards_one_pending_one_reported_and_loads_twice(database):
    try:
        await demo.seed()
        first = await Scheme.filter(council__slug="northmere").prefetch_related("categories", "wards")
        await demo.seed()
    finally:
        # The demo council answers at 127.0.0.1, where the browser tests expect their own council.
        await Council.filter(slug="northmere").update(hostnames="northmere.test")
    assert await Scheme.filter(council__slug="northmere").count() == len(first) >= 8
    assert len({row.category for s in first for row in s.categories}) >= 6
    assert len({w.name for s in first for w in s.wards}) == 6
    assert [s.name for s in first if s.status == "pending"] == ["Northmere Repair Café"]
    assert await Report.filter(council__slug="northmere", status="open").count() == 1
