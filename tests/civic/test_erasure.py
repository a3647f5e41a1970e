"""Deleting your own account: each kind of data goes, or stays without the person's name on it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tortoise import timezone

from civic import accounts, erasure, mail, voting
from civic.accounts import LoginToken, OIDCIdentity, Session, User
from civic.audit import AuditLog
from civic.concerns import notices
from civic.concerns.models import Concern
from civic.errors import Conflict
from civic.mail import OutgoingEmail
from civic.schemes import help_requests, invitations, rota
from civic.schemes.models import Membership, NewsPost, OrganiserInvitation, Report
from civic.schemes.running import (
    Assignment,
    CalendarFeed,
    ContactConsent,
    Event,
    EventReply,
    HelpOffer,
    HelpRequest,
    SafeguardingCheck,
    ShiftOccurrence,
    SignUp,
)
from civic.voting.models import Allocation, Ballot
from tests.factories import (
    create_concern_ok,
    create_help_request_ok,
    create_post_ok,
    create_report_ok,
    create_round_ok,
    create_scheme_ok,
    create_shift_ok,
    create_user_ok,
    create_volunteer_ok,
    mail_to,
    organiser_of,
    vote_ok,
)


async def test_deleting_an_account_removes_the_person_and_their_sessions_and_sign_in_links(council):
    user = await create_user_ok(council)
    await accounts.open_session(user=user)
    await OIDCIdentity.create(user=user, provider="residents", subject="subject-1")
    await LoginToken.create(token_hash=f"hash-{user.id}", email=user.email, expires_at=timezone.now() + timedelta(minutes=15))
    await OutgoingEmail.create(to=user.email, subject="Your link to sign in", body="a link")
    await mail.queue(user.email.upper(), "Your shift tomorrow", "See you at 10.", council_id=council.id)  # as someone typed it
    someone_else = await mail.queue(f"not-{user.email}", "Your shift tomorrow", "See you at 10.", council_id=council.id)
    user_id, email = user.id, user.email

    await erasure.delete_account(user)

    assert not await User.filter(id=user_id).exists()
    assert not await Session.filter(user_id=user_id).exists()
    assert not await OIDCIdentity.filter(user_id=user_id).exists()
    assert not await LoginToken.filter(email=email).exists()
    assert not await mail_to(email).exists()
    assert await OutgoingEmail.exists(id=someone_else.id)


async def test_invitations_to_organise_sent_to_them_go_and_those_they_sent_stay_without_their_name(council):
    scheme = await create_scheme_ok(council)
    organiser = await organiser_of(scheme)
    invited = await create_user_ok(council)
    await invitations.invite(organiser, council, scheme.slug, invited.email)
    other = await create_scheme_ok(council)
    theirs = await invitations.invite(await organiser_of(other), council, other.slug, "friend@example.test")
    inviter = await organiser_of(other)
    await Membership.filter(scheme=other, user=inviter).update(role="member")  # so they may delete
    await OrganiserInvitation.filter(id=theirs.id).update(invited_by_id=inviter.id)

    await erasure.delete_account(invited)
    await erasure.delete_account(inviter)

    assert not await OrganiserInvitation.filter(email=invited.email).exists()
    kept = await OrganiserInvitation.get(id=theirs.id)
    assert kept.email == "friend@example.test" and kept.invited_by_id is None
    assert kept.status == "withdrawn"  # nobody is left to vouch for it


async def test_the_deletion_is_audited_without_their_details_and_what_they_did_stays_in_the_log(council):
    user = await create_user_ok(council)
    await accounts.signout_everywhere(user)
    user_id, email = user.id, user.email

    await erasure.delete_account(user)

    deleted = await AuditLog.get(action="user.deleted", target_id=str(user_id))
    assert deleted.actor_id is None  # type: ignore[attr-defined]
    assert email not in deleted.reason and user.display_name not in deleted.reason
    earlier = await AuditLog.get(action="user.signed_out_everywhere", target_id=str(user_id))
    assert earlier.actor_id is None  # type: ignore[attr-defined]


async def test_a_ballot_in_a_counted_round_stays_counted_without_the_voter(council):
    officer = await create_user_ok(council, role="officer")
    round_ = await create_round_ok(council, officer=officer)
    voter = await create_user_ok(council)
    await vote_ok(council, round_, voter, 60, 40)
    await voting.close_round(officer, council, round_.id)

    await erasure.delete_account(voter)

    ballot = await Ballot.get(round=round_)
    assert ballot.voter_id is None  # type: ignore[attr-defined]
    assert sorted(await Allocation.filter(ballot=ballot).values_list("shares", flat=True)) == [40, 60]


async def test_a_ballot_in_an_open_round_is_removed_so_it_cannot_count_twice(council):
    round_ = await create_round_ok(council)
    voter = await create_user_ok(council)
    await vote_ok(council, round_, voter, 100)

    await erasure.delete_account(voter)

    assert not await Ballot.filter(round=round_).exists()


async def test_memberships_go_with_their_consent_and_dbs_check(council):
    scheme = await create_scheme_ok(council)
    membership = await create_volunteer_ok(scheme, check="enhanced")

    await erasure.delete_account(membership.user)

    assert not await Membership.filter(id=membership.id).exists()
    assert not await ContactConsent.filter(membership_id=membership.id).exists()
    assert not await SafeguardingCheck.filter(membership_id=membership.id).exists()


async def test_rota_sign_ups_event_replies_assignments_and_calendar_feeds_go(council):
    scheme = await create_scheme_ok(council)
    volunteer = (await create_volunteer_ok(scheme)).user
    shift = await create_shift_ok(scheme)
    now = timezone.now()
    occurrence = await ShiftOccurrence.create(shift=shift, on=shift.starts_on, starts_at=now, ends_at=now + timedelta(hours=2))
    await SignUp.create(occurrence=occurrence, volunteer=volunteer)
    event = await Event.create(council=council, scheme=scheme, title="Coffee morning", place="Hall", starts_at=now, ends_at=now + timedelta(hours=1))
    await EventReply.create(event=event, user=volunteer)
    help_request = await create_help_request_ok(scheme)
    await Assignment.create(help_request=help_request, volunteer=volunteer)
    await CalendarFeed.create(council=council, user=volunteer, token_hash=f"feed-{volunteer.id}", token="secret")

    await erasure.delete_account(volunteer)

    for model, column in ((SignUp, "volunteer_id"), (EventReply, "user_id"), (Assignment, "volunteer_id"), (CalendarFeed, "user_id")):
        assert not await model.filter(**{column: volunteer.id}).exists(), model.__name__
    assert await HelpRequest.filter(id=help_request.id).exists()  # someone else asked for it


async def test_a_volunteer_deleting_their_account_reopens_their_jobs_and_frees_their_shifts_with_notice(council, mailbox):
    scheme = await create_scheme_ok(council)
    organiser = await organiser_of(scheme)
    volunteer = await create_volunteer_ok(scheme, user=await create_user_ok(council, display_name="Dora Departing"))
    request = await create_help_request_ok(scheme, home_visit="no")
    await help_requests.assign(organiser, council, scheme.slug, request.id, [str(volunteer.user.id)])
    await help_requests.accept_job(volunteer.user, council, scheme.slug, request.id)
    shift = await create_shift_ok(scheme, title="Pantry")
    await rota.sign_up(volunteer.user, council, scheme.slug, shift.id, shift.starts_on)
    already = len(mailbox.to(organiser.email))

    await erasure.delete_account(volunteer.user)

    assert (await HelpRequest.get(id=request.id)).status == "open"
    subjects = [m["Subject"] for m in (await mailbox.wait_for(organiser.email, count=already + 2))[already:]]
    assert f"A request to {scheme.name} needs another volunteer" in subjects
    [free] = [m for m in mailbox.to(organiser.email)[already:] if "has a free place" in m["Subject"]]
    assert "Dora Departing is no longer down for this shift" in mailbox.body(free)
    assert "2 of 2 places free" in mailbox.body(free)


async def test_someone_who_asked_for_help_deleting_their_account_stands_down_the_volunteers_and_tells_the_organisers(council, mailbox):
    scheme = await create_scheme_ok(council)
    organiser = await organiser_of(scheme)
    volunteer = await create_volunteer_ok(scheme)
    request = await create_help_request_ok(scheme, home_visit="no")
    await help_requests.assign(organiser, council, scheme.slug, request.id, [str(volunteer.user.id)])
    requester = await User.get(id=request.requester_id)
    already = len(mailbox.to(organiser.email))

    await erasure.delete_account(requester)

    assert not await HelpRequest.filter(id=request.id).exists()
    [_, stood_down] = await mailbox.wait_for(volunteer.user.email, count=2)
    assert stood_down["Subject"] == f"A job from {scheme.name} is cancelled"
    assert "no longer needed" in mailbox.body(stood_down)
    [told] = (await mailbox.wait_for(organiser.email, count=already + 1))[already:]
    assert told["Subject"] == f"A request for help to {scheme.name} is cancelled"
    assert "deleted their account" in mailbox.body(told)
    assert await AuditLog.filter(action="help_request.cancelled_by_requester", target_id=str(request.id), actor_id__isnull=True).exists()


async def test_help_requests_they_asked_for_are_removed(council):
    scheme = await create_scheme_ok(council)
    asked = await create_help_request_ok(scheme)

    await erasure.delete_account(await User.get(id=asked.requester_id))

    assert not await HelpRequest.filter(id=asked.id).exists()


async def test_offers_on_a_board_go_and_news_and_reports_stay_without_their_name(council):
    scheme = await create_scheme_ok(council)
    organiser = await organiser_of(scheme)
    await create_volunteer_ok(scheme, role="organiser")  # someone to hand the scheme to
    post = await create_post_ok(scheme, author=organiser)
    offer = await HelpOffer.create(council=council, scheme=scheme, author=organiser, text="I can drive on Tuesdays")
    report = await create_report_ok(await create_scheme_ok(council), reporter=organiser)

    await erasure.delete_account(organiser)

    assert not await HelpOffer.filter(id=offer.id).exists()
    assert (await NewsPost.get(id=post.id)).author_id is None  # type: ignore[attr-defined]
    assert (await Report.get(id=report.id)).reporter_id is None  # type: ignore[attr-defined]


async def test_a_concern_they_raised_stays_with_the_council_with_the_contact_details_given_in_it(council):
    reporter = await create_user_ok(council)
    concern, _ = await create_concern_ok(council, reporter=reporter, reporter_email=reporter.email)

    [about_it] = await notices.email_reporter(concern, council, "key", "Your concern: an update", "Follow it at {status_url}")
    await mail.queue(reporter.email, "Your link to sign in", "a link", council_id=council.id)

    await erasure.delete_account(reporter)

    kept = await Concern.get(id=concern.id)
    assert kept.reporter_id is None
    assert kept.reporter_email == reporter.email and kept.details
    # The message about it goes with the concern, when it is purged; the rest of their e-mail goes now.
    assert [row.id for row in await mail_to(reporter.email)] == [about_it.id]


async def test_council_staff_cannot_delete_their_account_until_their_role_is_removed(council):
    officer = await create_user_ok(council, role="officer")

    with pytest.raises(Conflict, match="An administrator at"):
        await erasure.delete_account(officer)

    assert await User.filter(id=officer.id).exists()


async def test_the_only_organiser_of_a_scheme_with_members_must_hand_it_over_or_close_it_first(council):
    scheme = await create_scheme_ok(council)
    organiser = await organiser_of(scheme)
    await create_volunteer_ok(scheme)

    found = await erasure.blockers(organiser)
    assert [link for link, _ in found[0].links] == [f"Add an organiser to {scheme.name}", f"Go to {scheme.name} to close it"]
    assert found[0].links[0][1].endswith(f"/schemes/{scheme.slug}/organisers")
    with pytest.raises(Conflict, match="only organiser"):
        await erasure.delete_account(organiser)
    assert await User.filter(id=organiser.id).exists()

    scheme.status = "closed"
    await scheme.save(update_fields=["status"])
    await erasure.delete_account(organiser)
    assert not await User.filter(id=organiser.id).exists()


async def test_a_suspended_person_can_still_delete_their_account(council):
    officer = await create_user_ok(council, role="officer")
    user = await create_user_ok(council)
    await accounts.suspend(officer, council, user, "Abusive posts")

    await erasure.delete_account(user)

    assert not await User.filter(id=user.id).exists()
