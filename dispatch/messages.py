"""Every message the service sends: one function per kind, saying what, to whom, in which language.

Each function writes its message to the outbox (``outbox.service.enqueue``)
in the caller's transaction, so a change and the messages it causes commit
together or not at all. The texts themselves are templates in
``notifications/templates/<locale>.toml``; a function here chooses the
recipient, their channels and language, the fields the template fills in,
and the idempotency key (purpose and recipient, so a step that runs again
sends nothing twice).

To add a kind of message: its templates and ``SPECS`` entry in
``notifications/``, and one function here; callers never call ``enqueue``.
SMS replies (TwiML answers to a mediator's text) are rendered, not queued:
they are here too, at the end.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from sqlmodel import Session

from config.settings import Settings
from dispatch.funding.policy import NextStep
from dispatch.jobs.models import JobReport
from dispatch.mediators.models import Mediator
from dispatch.offers.models import Assignment, Offer
from dispatch.outbox.service import enqueue
from dispatch.places.models import Place
from dispatch.requests.models import Mode, Request
from dispatch.users.models import Organisation, User
from notifications import templates
from notifications.channels import ChannelName

#: Coordinator alerts and SMS to staff are in German (the town's staff language).
STAFF_LOCALE = "de"


# --- what a message about a job may say -------------------------------------------


def place_of(session: Session, request: Request) -> Place | None:
    return session.get(Place, request.place_id) if request.place_id else None


def job_fields(session: Session, request: Request) -> dict[str, Any]:
    """What every message about a job may say: no client, no notes (those stay on the page).

    The language goes as its tag: the message names it in the reader's language.
    An in-person job without a place name says its address is on the link's page;
    a home visit says "home visit" (mode ``home_visit``), so whoever is asked knows
    before accepting, while the street still reaches only the one who holds it.
    """
    place = place_of(session, request)
    place_name = place.name if place else None
    home_visit = request.mode == Mode.in_person and request.home_visit
    return {
        "language": request.language,
        "start": request.start,
        "end": request.end,
        "mode": "home_visit" if home_visit else f"{request.mode}",
        "place": place_name,
    }


#: "59269 Beckum" in "Lindenstraße 3, 59269 Beckum": a German postcode and the town after it.
_AREA = re.compile(r"(?:^|,)\s*(\d{5}\s+[^\W\d][^,]*?)\s*$")


def area_of(address: str | None) -> str | None:
    """The postcode and town of an address ("59269 Beckum"), or None when it has none.

    An offer for a job at an address (a home visit, or in person with no place)
    names its area, so whoever is asked can judge the way there before saying
    yes; the street reaches only the one who holds the job. Addresses the
    geocoder settled are written "street, postcode town" (`geocoding.short_address`).
    """
    match = _AREA.search(address or "")
    return " ".join(match.group(1).split()) if match else None


def offer_place(session: Session, request: Request) -> str | None:
    """What an offer says for where: the place's name, or the address's area."""
    place = place_of(session, request)
    if place is not None:
        return place.name
    return area_of(request.address) if request.mode == Mode.in_person else None


def connection_fields(request: Request) -> dict[str, Any]:
    """Phone and video: who calls whom and the number or link, for the assigned mediator only.

    Never in an offer (anyone asked would see it) nor in an SMS.
    """
    return {
        "call_direction": f"{request.call_direction}" if request.call_direction else None,
        "connection": request.connection,
    }


def mediator_channels(mediator: Mediator) -> list[tuple[ChannelName, str]]:
    """(channel, address) pairs the mediator wants offers on, in their order."""
    pairs: list[tuple[ChannelName, str]] = []
    for channel in mediator.channels or ["sms"]:
        pair: tuple[ChannelName, str] | None = None
        if channel == "sms" and mediator.phone:
            pair = ("sms", mediator.phone)
        elif channel == "email" and mediator.email:
            pair = ("email", mediator.email)
        if pair is not None and pair not in pairs:
            pairs.append(pair)
    if not pairs:  # preferred channel without an address: use what there is
        if mediator.phone:
            pairs.append(("sms", mediator.phone))
        elif mediator.email:
            pairs.append(("email", mediator.email))
    return pairs


def request_link(settings: Settings, request: Request) -> str:
    """Where the caseworker sees the request: its own page (status, history, change, copy)."""
    return f"{settings.public_base_url.rstrip('/')}/requests/{request.id}"


def confirmations_link(settings: Settings) -> str:
    """Where a caseworker finds every job that waits for their confirmation."""
    return f"{settings.public_base_url.rstrip('/')}/confirmations"


def dashboard_link(settings: Settings, request: Request) -> str:
    """Where the coordinator sees the request, its offers and candidates."""
    return f"{settings.public_base_url.rstrip('/')}/dashboard/requests/{request.id}"


def _organisation_name(session: Session, request: Request) -> str | None:
    organisation = session.get(Organisation, request.organisation_id)
    return organisation.name if organisation else None


# --- the three kinds of recipient ----------------------------------------------------


def _to_mediator(
    session: Session,
    mediator: Mediator,
    *,
    kind: str,
    key: str,
    now: datetime,
    request: Request,
    offer_id: int | None,
    sms: dict[str, Any] | None,
    email: dict[str, Any] | None,
    fresh: bool = False,
    not_before: datetime | None = None,
) -> None:
    """On each of the mediator's channels, in their language (`fresh`, `not_before`: see
    `enqueue`)."""
    for channel, address in mediator_channels(mediator):
        fields, other = (sms, email) if channel == "sms" else (email, sms)
        if fields is None:
            continue
        # The other channel's fields go along, so a failed SMS can become an email (and back).
        enqueue(
            session,
            key=f"{key}:{channel}",
            kind=kind,
            channel=channel,
            to=address,
            recipient_kind="mediator",
            recipient_id=mediator.id,
            locale=mediator.message_locale,
            now=now,
            request_id=request.id,
            offer_id=offer_id,
            fallback=other,
            fresh=fresh,
            not_before=not_before,
            **fields,
        )


def _to_coordinator(
    session: Session,
    settings: Settings,
    *,
    kind: str,
    key: str,
    now: datetime,
    request: Request,
    email: dict[str, Any],
    sms: dict[str, Any] | None,
    fresh: bool = False,
) -> None:
    """To COORDINATOR_EMAIL and, if set, COORDINATOR_PHONE, in German (`fresh`: see `enqueue`).

    `sms` None: by email only (news that can wait for the coordinator's desk).
    """
    if settings.coordinator_email:
        enqueue(
            session,
            key=f"{key}:email",
            kind=kind,
            channel="email",
            to=settings.coordinator_email,
            recipient_kind="coordinator",
            recipient_id=None,
            locale=STAFF_LOCALE,
            now=now,
            request_id=request.id,
            fresh=fresh,
            **email,
        )
    if settings.coordinator_phone and sms is not None:
        enqueue(
            session,
            key=f"{key}:sms",
            kind=kind,
            channel="sms",
            to=settings.coordinator_phone,
            recipient_kind="coordinator",
            recipient_id=None,
            locale=STAFF_LOCALE,
            now=now,
            request_id=request.id,
            fresh=fresh,
            **sms,
        )


def _to_caseworker(
    session: Session,
    settings: Settings,
    *,
    kind: str,
    key: str,
    now: datetime,
    request: Request,
    fresh: bool = False,
    **fields: Any,
) -> None:
    """An email to whoever filed the request, in their language; `key` says what about.

    Every change a caseworker has to act on reaches them this way: a
    confirmation (again, when the mediator changed), a mediator who is not
    coming, nobody found, a cancellation by the coordinator. The key names the
    recipient, so a colleague who took the request over (``users.flows.hand_over``)
    is told what the leaver was. A caseworker who has left and handed it to nobody
    yet cannot read it: the coordination gets it (COORDINATOR_EMAIL), without a name
    in the greeting, rather than nobody.
    """
    creator = session.get(User, request.created_by_user_id)
    if creator is not None and creator.active and creator.email:
        to, recipient_kind, recipient_id = creator.email, "user", creator.id
        locale, name = creator.locale or STAFF_LOCALE, creator.name
        key = f"{key}:caseworker:{creator.id}"
    elif settings.coordinator_email:
        to, recipient_kind, recipient_id = settings.coordinator_email, "coordinator", None
        locale, name = STAFF_LOCALE, None
        key = f"{key}:caseworker:coordination"
        fields["forwarded_for"] = creator.name if creator is not None else None
    else:
        return
    fields.setdefault("request_link", request_link(settings, request))
    enqueue(
        session,
        key=key,
        kind=kind,
        channel="email",
        to=to,
        recipient_kind=recipient_kind,
        recipient_id=recipient_id,
        locale=locale,
        now=now,
        request_id=request.id,
        fresh=fresh,
        request_number=request.id,
        client_ref=request.client_ref,
        recipient_name=name,
        language=request.language,
        start=request.start,
        end=request.end,
        **fields,
    )


# --- to staff about their account -----------------------------------------------------


def _to_staff(
    session: Session, *, kind: str, key: str, user: User, now: datetime, **fields: Any
) -> None:
    """An email to a staff member about their own account, in their language."""
    enqueue(
        session,
        key=f"{key}:user:{user.id}",
        kind=kind,
        channel="email",
        to=user.email,
        recipient_kind="user",
        recipient_id=user.id,
        locale=user.locale or STAFF_LOCALE,
        now=now,
        recipient_name=user.name,
        **fields,
    )


def work_handed_over(
    session: Session,
    settings: Settings,
    *,
    user: User,
    from_name: str,
    requests: int,
    series: int,
    now: datetime,
) -> None:
    """A colleague's open requests are now `user`'s: how many, and where they are."""
    _to_staff(
        session,
        kind="requests_handed_over_caseworker",
        key=f"handover:{now.isoformat()}:{requests}:{series}",
        user=user,
        now=now,
        from_name=from_name,
        requests=requests,
        series=series,
        link=f"{settings.public_base_url.rstrip('/')}/requests",
    )


def _to_coordination(
    session: Session, settings: Settings, *, key: str, kind: str, now: datetime, **fields: Any
) -> None:
    """An e-mail to COORDINATOR_EMAIL about no request (an erasure that waits); none when
    it is not set. `_to_coordinator` is the one for news about a request."""
    if not settings.coordinator_email:
        return
    enqueue(
        session,
        key=f"{key}:email",
        kind=kind,
        channel="email",
        to=settings.coordinator_email,
        recipient_kind="coordinator",
        recipient_id=None,
        locale=STAFF_LOCALE,
        now=now,
        **fields,
    )


def mediator_erasure_waiting(
    session: Session,
    settings: Settings,
    *,
    mediator_id: int,
    euros: Decimal,
    open_jobs: int,
    jobs_to_come: int,
    since: datetime,
    now: datetime,
) -> None:
    """To COORDINATOR_EMAIL: the automatic erasure of a mediator out of the pool waits for
    what is owed to them or their jobs; once per waiting period (`since` is in the key).

    It names nobody, only the link to their page: erasing the mediator later finds no
    message about them without a request to scrub, and this one needs none.
    """
    _to_coordination(
        session,
        settings,
        key=f"mediator_erasure_waiting:{mediator_id}:{since.isoformat()}",
        kind="mediator_erasure_waiting_coordinator",
        now=now,
        euros=euros,
        open_jobs=open_jobs,
        jobs_to_come=jobs_to_come,
        link=f"{settings.public_base_url.rstrip('/')}/dashboard/pool/{mediator_id}",
    )


def staff_erasure_waiting(
    session: Session,
    settings: Settings,
    *,
    user: User,
    requests: int,
    since: datetime,
    now: datetime,
) -> None:
    """To COORDINATOR_EMAIL: the automatic erasure of `user`, who left, waits for `requests`
    open requests nobody took over; once per waiting period (`since` is in the key)."""
    _to_coordination(
        session,
        settings,
        key=f"staff_erasure_waiting:{user.id}:{since.isoformat()}",
        kind="staff_erasure_waiting_coordinator",
        now=now,
        name=user.name,
        requests=requests,
        link=f"{settings.public_base_url.rstrip('/')}/dashboard/staff",
    )


def staff_invitation(
    session: Session,
    settings: Settings,
    *,
    user: User,
    link_path: str,
    valid_hours: int,
    inviter: User | None,
    now: datetime,
) -> None:
    """The coordinator invited `user`: a one-time link to set a password, and where to sign in.

    The key holds the link's own path hash, so every new invitation is sent.
    """
    base = settings.public_base_url.rstrip("/")
    _to_staff(
        session,
        kind="staff_invitation",
        key=f"invite:{link_key(link_path)}",
        user=user,
        now=now,
        link=base + link_path,
        valid_hours=valid_hours,
        role=str(user.role),
        login=f"{base}/login",
        inviter_name=inviter.name if inviter is not None else None,
    )


def sign_in_link(
    session: Session,
    settings: Settings,
    *,
    user: User,
    link_path: str,
    valid_minutes: int,
    now: datetime,
) -> None:
    """A sign-in link the user asked for on the login page (forgot the password)."""
    _to_staff(
        session,
        kind="signin_link",
        key=f"signin:{link_key(link_path)}",
        user=user,
        now=now,
        link=settings.public_base_url.rstrip("/") + link_path,
        valid_minutes=valid_minutes,
    )


def link_key(link_path: str) -> str:
    """A short stand-in for a link in an idempotency key: never the token itself."""
    return hashlib.sha256(link_path.encode()).hexdigest()[:16]


# --- to mediators ---------------------------------------------------------------------


def offer(
    session: Session,
    *,
    mediator: Mediator,
    request: Request,
    offer: Offer,
    link: str,
    now: datetime,
    fresh: bool = False,
) -> None:
    """The job, its link and reply code, until when it is open.

    `fresh`: the offer was created in this transaction, so no message can carry
    its key yet and the lookup for one is skipped (the unique key still holds).
    """
    fields = {**job_fields(session, request), "place": offer_place(session, request)}
    common = {**fields, "link": link, "code": offer.short_code, "subject": request.qualification}
    _to_mediator(
        session,
        mediator,
        kind="offer",
        key=f"offer:{offer.id}",
        now=now,
        request=request,
        offer_id=offer.id,
        sms=common,
        fresh=fresh,
        email={
            **common,
            "expires_at": offer.expires_at,
            "notes": request.notes,
            "organisation": _organisation_name(session, request),
            "recipient_name": mediator.name,
            "unknown_to_client": request.unknown_to_client or None,
        },
    )


def assignment_confirmed_mediator(
    session: Session,
    *,
    mediator: Mediator,
    request: Request,
    offer: Offer,
    assignment: Assignment,
    link: str,
    now: datetime,
) -> None:
    """The job is yours: where exactly and whom to ask (email, with the calendar file)."""
    fields = job_fields(session, request)
    place = place_of(session, request)
    _to_mediator(
        session,
        mediator,
        kind="assignment_confirmed_mediator",
        key=f"confirmed:{assignment.id}",
        now=now,
        request=request,
        offer_id=offer.id,
        sms={**fields, "link": link},
        email={
            **fields,
            "link": link,
            "event_uid": f"assignment-{assignment.id}@sprachpool",
            "address": request.address or (place.address if place else None),
            "subject": request.qualification,
            "notes": request.notes,
            "organisation": _organisation_name(session, request),
            "contact_name": request.contact_name or (place.contact_hint if place else None),
            "contact_phone": request.contact_phone,
            "recipient_name": mediator.name,
            **connection_fields(request),
        },
    )


def cancelled_mediator(
    session: Session,
    *,
    mediator: Mediator,
    request: Request,
    assignment: Assignment,
    now: datetime,
) -> None:
    """The job is no longer yours (the calendar event is withdrawn by the same UID)."""
    fields = job_fields(session, request)
    _to_mediator(
        session,
        mediator,
        kind="cancelled_mediator",
        key=f"cancelled:{assignment.id}",
        now=now,
        request=request,
        offer_id=None,
        sms={"language": fields["language"], "start": request.start},
        email={
            "language": fields["language"],
            "start": request.start,
            "end": request.end,
            "event_uid": f"assignment-{assignment.id}@sprachpool",
            "place": fields["place"],
            "recipient_name": mediator.name,
        },
    )


def series_cancelled_mediator(
    session: Session, *, mediator: Mediator, jobs: list[tuple[Request, Assignment]], now: datetime
) -> None:
    """Several of your jobs in one series are cancelled at once: one message with every date
    (its calendar file withdraws them all), where one per job made a phone buzz five times."""
    first, first_assignment = jobs[0]
    _to_mediator(
        session,
        mediator,
        kind="series_cancelled_mediator",
        key=f"series-cancelled:{first_assignment.id}",
        now=now,
        request=first,
        offer_id=None,
        sms={"language": first.language, "starts": [request.start for request, _ in jobs]},
        email={
            "language": first.language,
            "starts": [request.start for request, _ in jobs],
            "ends": [request.end for request, _ in jobs],
            "event_uids": [f"assignment-{assignment.id}@sprachpool" for _, assignment in jobs],
            "recipient_name": mediator.name,
        },
    )


def offer_withdrawn(
    session: Session,
    *,
    mediator: Mediator,
    request: Request,
    offer_id: int,
    language: str,
    start: datetime,
    now: datetime,
    not_before: datetime | None = None,
) -> None:
    """Your offer is no longer open (someone else took the job, or it was cancelled or changed).

    `language` and `start` are the ones the offer named, which a change may have
    moved since. `not_before`: the news waits for the end of the quiet hours.
    The offer was withdrawn in this transaction, once, so its key is new (`fresh`).
    """
    _to_mediator(
        session,
        mediator,
        kind="offer_withdrawn",
        key=f"withdrawn:{offer_id}",
        now=now,
        request=request,
        offer_id=offer_id,
        sms={"language": language, "start": start},
        email={"language": language, "start": start, "recipient_name": mediator.name},
        fresh=True,
        not_before=not_before,
    )


def request_changed_mediator(
    session: Session,
    *,
    mediator: Mediator,
    request: Request,
    offer: Offer,
    assignment: Assignment,
    changed: list[str],
    link: str,
    now: datetime,
    by_coordination: bool = False,
) -> None:
    """Your job changed and is still yours: what changed, and the job as it is now.

    The calendar file updates the event by its UID. The key carries the
    moment, so every change is told once. `by_coordination`: the coordinator
    changed it (or its place), so it does not say the caseworker did.
    """
    fields = job_fields(session, request)
    place = place_of(session, request)
    what = sorted({CHANGE_WORDS.get(name, "details") for name in changed})
    _to_mediator(
        session,
        mediator,
        kind="request_changed_mediator",
        key=f"changed:{assignment.id}:{now.isoformat()}",
        now=now,
        request=request,
        offer_id=offer.id,
        sms={
            "language": request.language,
            "start": request.start,
            "end": request.end,
            "link": link,
        },
        email={
            **fields,
            "link": link,
            "changed": what,
            "event_uid": f"assignment-{assignment.id}@sprachpool",
            "address": request.address or (place.address if place else None),
            "notes": request.notes,
            "contact_name": request.contact_name or (place.contact_hint if place else None),
            "contact_phone": request.contact_phone,
            "changed_by": "coordination" if by_coordination else None,
            "recipient_name": mediator.name,
            **connection_fields(request),
        },
    )


#: A changed field as the mediator's message names it.
CHANGE_WORDS = {
    "start": "time",
    "end": "time",
    "language": "language",
    "min_level": "language",
    "mode": "mode",
    "place_id": "place",
    "location": "place",
    "address": "place",
    "home_visit": "place",
    "call_direction": "connection",
    "connection": "connection",
    "contact_name": "contact",
    "contact_phone": "contact",
    "notes": "notes",
    "category": "category",
    "urgency_reason": "details",
}


def released_after_change_mediator(
    session: Session,
    *,
    mediator: Mediator,
    request: Request,
    assignment: Assignment,
    start: datetime,
    end: datetime,
    now: datetime,
    why: Literal["coordination", "place_moved", "place_moved_busy"] | None = None,
) -> None:
    """The job was changed so that it no longer fits you: you are released (the old times).

    The calendar file withdraws the event as a cancellation does. `why` says who
    changed it, when not the caseworker: the coordination, or it moved the place
    (beyond the distance you travel; `place_moved_busy`: too far from another of your
    jobs to travel between them in time).
    """
    fields = job_fields(session, request)
    _to_mediator(
        session,
        mediator,
        kind="released_after_change_mediator",
        key=f"released:{assignment.id}",
        now=now,
        request=request,
        offer_id=None,
        sms={"language": fields["language"], "start": start},
        email={
            "language": fields["language"],
            "start": start,
            "end": end,
            "event_uid": f"assignment-{assignment.id}@sprachpool",
            "recipient_name": mediator.name,
            "why": why,
        },
    )


def reminder_24h(
    session: Session,
    *,
    mediator: Mediator,
    request: Request,
    offer: Offer,
    assignment: Assignment,
    hours: int,
    link: str,
    now: datetime,
) -> None:
    """The day before: a reminder that asks to reconfirm with one tap (or JA <code>)."""
    fields = job_fields(session, request)
    _to_mediator(
        session,
        mediator,
        kind="reminder_24h",
        key=f"reminder:{assignment.id}:{hours}",
        now=now,
        request=request,
        offer_id=offer.id,
        sms={**fields, "link": link, "code": offer.short_code},
        email={
            **fields,
            "link": link,
            "code": offer.short_code,
            "recipient_name": mediator.name,
            "address": request.address,
            **connection_fields(request),
        },
    )


def reminder_2h(
    session: Session,
    *,
    mediator: Mediator,
    request: Request,
    offer: Offer,
    assignment: Assignment,
    hours: int,
    link: str,
    now: datetime,
) -> None:
    """Shortly before the start: when and where."""
    fields = job_fields(session, request)
    when_where = {
        "language": fields["language"],
        "start": request.start,
        "mode": fields["mode"],
        "place": fields["place"],
    }
    _to_mediator(
        session,
        mediator,
        kind="reminder_2h",
        key=f"reminder:{assignment.id}:{hours}",
        now=now,
        request=request,
        offer_id=offer.id,
        sms={**when_where, "link": link},
        email={
            **when_where,
            "link": link,
            "recipient_name": mediator.name,
            "address": request.address,
            **connection_fields(request),
        },
    )


def completion_request(
    session: Session,
    *,
    mediator: Mediator,
    request: Request,
    offer: Offer | None,
    assignment: Assignment,
    link: str,
    now: datetime,
    reminder: bool = False,
) -> None:
    """After the job: report times, travel and outcome by the link (`reminder`: 3 days late)."""
    language = request.language
    _to_mediator(
        session,
        mediator,
        kind="completion_request",
        key=f"report-reminder:{assignment.id}" if reminder else f"report:{assignment.id}",
        now=now,
        request=request,
        offer_id=offer.id if offer else None,
        sms={
            "language": language,
            "start": request.start,
            "link": link,
            "reminder": reminder or None,
        },
        email={
            "language": language,
            "start": request.start,
            "link": link,
            "recipient_name": mediator.name,
            "reminder": reminder or None,
        },
    )


def _about_a_past_job(
    session: Session,
    mediator: Mediator,
    *,
    kind: str,
    key: str,
    request: Request,
    now: datetime,
    **email: Any,
) -> None:
    """News about a job that is over: the SMS names it by language and day, the email by its
    times too, with `email`'s extra fields."""
    _to_mediator(
        session,
        mediator,
        kind=kind,
        key=key,
        now=now,
        request=request,
        offer_id=None,
        sms={"language": request.language, "start": request.start},
        email={
            "language": request.language,
            "start": request.start,
            "end": request.end,
            "recipient_name": mediator.name,
            **email,
        },
    )


def job_rejected_mediator(
    session: Session, *, mediator: Mediator, request: Request, report: JobReport, now: datetime
) -> None:
    """The coordinator rejected your report: this job is not paid, and why (by email only:
    the coordinator's words may name the client, which no SMS does)."""
    _about_a_past_job(
        session,
        mediator,
        kind="job_rejected_mediator",
        key=f"rejected:{report.id}",
        request=request,
        now=now,
        reason=report.approval_reason,
    )


def no_show_mediator(
    session: Session,
    *,
    mediator: Mediator,
    request: Request,
    assignment: Assignment,
    now: datetime,
) -> None:
    """The requester recorded that nobody came: said neutrally (they may have been ill), and
    that the coordination will get in touch; before, they never heard of it."""
    _about_a_past_job(
        session,
        mediator,
        kind="no_show_mediator",
        key=f"no-show:{assignment.id}",
        request=request,
        now=now,
    )


# --- to the caseworker who filed the request ------------------------------------------------


def assignment_confirmed_caseworker(
    session: Session,
    settings: Settings,
    *,
    request: Request,
    assignment: Assignment,
    mediator: Mediator,
    replaces: bool,
    now: datetime,
) -> None:
    """Who comes, and their phone; `replaces`: instead of the mediator confirmed before."""
    fields = job_fields(session, request)
    _to_caseworker(
        session,
        settings,
        kind="assignment_confirmed_caseworker",
        key=f"confirmed:{assignment.id}",
        now=now,
        request=request,
        mode=fields["mode"],
        place=fields["place"],
        mediator_name=mediator.name,
        mediator_phone=mediator.phone or "-",
        replaces=replaces or None,
    )


def job_confirmation_caseworker(
    session: Session,
    settings: Settings,
    *,
    request: Request,
    report: JobReport,
    mediator_name: str,
    confirm_link: str,
    now: datetime,
    reminder: bool = False,
) -> None:
    """The Einsatzbestätigung: the mediator's report, to confirm or dispute with one click."""
    _to_caseworker(
        session,
        settings,
        kind="job_confirmation_caseworker",
        key=f"confirm-reminder:{report.id}" if reminder else f"confirm:{report.id}",
        now=now,
        request=request,
        mode=f"{request.mode}",
        mediator_name=mediator_name,
        actual_start=report.actual_start,
        actual_end=report.actual_end,
        outcome=str(report.outcome),
        confirm_link=confirm_link,
        request_link=confirmations_link(settings),
        reminder=reminder or None,
    )


def assignment_cancelled_caseworker(
    session: Session,
    settings: Settings,
    *,
    request: Request,
    assignment: Assignment,
    now: datetime,
    after_change: bool = False,
) -> None:
    """The mediator confirmed to you is not coming; we are looking again (names nobody).

    `after_change`: the caseworker's own change released them, which the message
    says, so it does not read as though the mediator had dropped out.
    """
    _to_caseworker(
        session,
        settings,
        kind="assignment_cancelled_caseworker",
        key=f"unassigned:{assignment.id}",
        now=now,
        request=request,
        after_change=after_change or None,
    )


def request_changed_caseworker(
    session: Session,
    settings: Settings,
    *,
    request: Request,
    changed: list[str],
    changed_by: str,
    news: str | None,
    now: datetime,
) -> None:
    """Someone else (the coordinator, a colleague) changed your request: what, and what holds now.

    `news` says what became of the dispatch: ``kept`` (the mediator stays),
    ``released`` (they cannot serve the new terms; we are asking others),
    ``searching`` (offers go out for the new terms); None when there is
    nothing to add (a request nobody can take hears so in its own message).
    The key carries the moment, so every change is told once.
    """
    fields = job_fields(session, request)
    _to_caseworker(
        session,
        settings,
        kind="request_changed_caseworker",
        key=f"request-changed:{request.id}:{now.isoformat()}",
        now=now,
        request=request,
        mode=fields["mode"],
        place=fields["place"],
        changed=sorted({CHANGE_WORDS.get(name, "details") for name in changed}),
        changed_by=changed_by,
        news=news,
    )


def request_unfilled_caseworker(
    session: Session,
    settings: Settings,
    *,
    request: Request,
    key: str,
    dropped_out: bool,
    now: datetime,
    fresh: bool = False,
) -> None:
    """Nobody found: what to do now. `dropped_out`: the one confirmed is not coming either.

    `fresh`: `key` names a request filed in this transaction (see `enqueue`).
    """
    _to_caseworker(
        session,
        settings,
        kind="request_unfilled_caseworker",
        key=key,
        now=now,
        request=request,
        fresh=fresh,
        dropped_out=dropped_out or None,
    )


def request_at_risk_caseworker(
    session: Session,
    settings: Settings,
    *,
    request: Request,
    key: str,
    next_step: str,
    contact: str,
    now: datetime,
    fresh: bool = False,
) -> None:
    """Told early: nobody yet and probably nobody in time; what to plan (the policy's step).

    `fresh`: `key` names a request filed in this transaction (see `enqueue`).
    """
    _to_caseworker(
        session,
        settings,
        kind="request_at_risk_caseworker",
        key=key,
        now=now,
        request=request,
        fresh=fresh,
        next_step=NextStep(next_step).value,
        contact=contact or None,
    )


def request_cancelled_caseworker(
    session: Session, settings: Settings, *, request: Request, now: datetime
) -> None:
    """Someone else (the coordinator) cancelled your request, and why."""
    _to_caseworker(
        session,
        settings,
        kind="request_cancelled_caseworker",
        key=f"request-cancelled:{request.id}",
        now=now,
        request=request,
        reason=request.cancel_reason,
    )


def series_cancelled_caseworker(
    session: Session, settings: Settings, *, requests: list[Request], now: datetime
) -> None:
    """Someone else cancelled several occurrences of your series: one email with every date
    and the reason, named by the first occurrence (its page shows the series)."""
    first = requests[0]
    _to_caseworker(
        session,
        settings,
        kind="series_cancelled_caseworker",
        key=f"series-cancelled:{first.id}",
        now=now,
        request=first,
        starts=[request.start for request in requests],
        reason=first.cancel_reason,
    )


# --- alerts to the coordinator ------------------------------------------------------


def _alert_coordinator(
    session: Session,
    settings: Settings,
    *,
    kind: str,
    key: str,
    request: Request,
    now: datetime,
    fresh: bool = False,
    by_sms: bool = True,
    **email: Any,
) -> None:
    """An alert about one request: the e-mail names the job and its organisation; a short SMS
    unless `by_sms` is False. `email` may name its own `link` (another page than the request's)."""
    language = request.language
    link = dashboard_link(settings, request)
    _to_coordinator(
        session,
        settings,
        kind=kind,
        key=key,
        now=now,
        request=request,
        email={
            "language": language,
            "start": request.start,
            "end": request.end,
            "organisation": _organisation_name(session, request) or "-",
            "link": link,
            **email,
        },
        sms={"language": language, "start": request.start, "link": link} if by_sms else None,
        fresh=fresh,
    )


def alert_unfilled_coordinator(
    session: Session,
    settings: Settings,
    *,
    request: Request,
    key: str,
    reason: str,
    now: datetime,
    fresh: bool = False,
) -> None:
    """A request nobody (more) can take, and why (`reason`: a code the template words).

    `fresh`: `key` names a request filed in this transaction (see `enqueue`).
    """
    _alert_coordinator(
        session,
        settings,
        kind="alert_unfilled_coordinator",
        key=f"{key}:coordinator",
        request=request,
        now=now,
        fresh=fresh,
        reason=reason,
    )


def alert_late_cancellation_coordinator(
    session: Session,
    settings: Settings,
    *,
    request: Request,
    assignment: Assignment,
    mediator: Mediator,
    now: datetime,
) -> None:
    """A mediator gave a job back within a day of its start."""
    _alert_coordinator(
        session,
        settings,
        kind="alert_late_cancellation_coordinator",
        key=f"late-cancel:{assignment.id}",
        request=request,
        now=now,
        mediator_name=mediator.name,
        cancelled_by="die Sprachmittlerin / der Sprachmittler",
    )


def alert_at_risk_coordinator(
    session: Session,
    settings: Settings,
    *,
    request: Request,
    assignment: Assignment,
    mediator: Mediator | None,
    now: datetime,
) -> None:
    """No reconfirmation in time: the job is at risk."""
    _alert_coordinator(
        session,
        settings,
        kind="alert_at_risk_coordinator",
        key=f"at-risk:{assignment.id}",
        request=request,
        now=now,
        reason="not_reconfirmed",
        mediator_name=mediator.name if mediator else None,
    )


def alert_disputed_coordinator(
    session: Session,
    settings: Settings,
    *,
    request: Request,
    report: JobReport,
    mediator_name: str,
    now: datetime,
) -> None:
    """The requester disputed a report: the coordinator decides on it (email only).

    Before, a dispute showed only on the approvals page, where nobody looked for it.
    """
    _alert_coordinator(
        session,
        settings,
        kind="alert_disputed_coordinator",
        key=f"disputed:{report.id}:coordinator",
        request=request,
        now=now,
        by_sms=False,
        mediator_name=mediator_name,
        dispute_reason=report.dispute_reason or "-",
        link=f"{settings.public_base_url.rstrip('/')}/dashboard/job-reports",
    )


def alert_no_show_coordinator(
    session: Session,
    settings: Settings,
    *,
    request: Request,
    assignment: Assignment,
    mediator: Mediator | None,
    now: datetime,
) -> None:
    """The requester recorded that the mediator did not come: the coordination gets in touch
    with them (email only; the mediator is told so)."""
    _alert_coordinator(
        session,
        settings,
        kind="alert_no_show_coordinator",
        key=f"no-show:{assignment.id}:coordinator",
        request=request,
        now=now,
        by_sms=False,
        mediator_name=mediator.name if mediator else "-",
    )


# --- answers to a mediator's SMS (TwiML replies, not queued) --------------------------------


def _reply(kind: str, locale: str | None, **fields: Any) -> str:
    return templates.render(kind, "sms", locale, **fields).body


def sms_help(locale: str | None, *, contact_phone: str | None) -> str:
    """What one can text us; also the answer to strangers."""
    return _reply("sms_help", locale, contact_phone=contact_phone)


def sms_give_back(locale: str | None, *, contact_phone: str | None) -> str:
    """NEIN to a job already accepted: a text cannot give it back (nobody would know why,
    and a stray NEIN to a reminder must not cancel a job), so say how to."""
    return _reply("sms_give_back", locale, contact_phone=contact_phone)


def sms_which_offer(locale: str | None, *, open_offers: int) -> str:
    """A JA or NEIN without a code: with several offers open, which one? With none, none."""
    return _reply("sms_which_offer", locale, open_offers=open_offers)


def sms_paused(locale: str | None) -> str:
    return _reply("sms_paused", locale)


def sms_resumed(locale: str | None) -> str:
    return _reply("sms_resumed", locale)


def sms_unknown_code(locale: str | None, *, code: str | None) -> str:
    return _reply("sms_unknown_code", locale, code=code)


def sms_accept_ok(
    session: Session, locale: str | None, *, request: Request, late: bool = False
) -> str:
    """Yes was taken (or reconfirmed): the job, briefly; `late`: after the offer had run out."""
    fields = job_fields(session, request)
    return _reply(
        "sms_accept_ok",
        locale,
        language=fields["language"],
        start=request.start,
        place=fields["place"],
        late=late,
    )


def sms_decline_ok(locale: str | None) -> str:
    return _reply("sms_decline_ok", locale)


def sms_cannot_take(session: Session, locale: str | None, *, request: Request, why: str) -> str:
    """JA to an offer still open that the engine's rules no longer let them take:
    `why` "busy" (a job they hold) or "over_limit" (their allowance limit)."""
    return _reply(
        "sms_cannot_take",
        locale,
        language=job_fields(session, request)["language"],
        start=request.start,
        why=why,
    )


def sms_offer_withdrawn(session: Session, locale: str | None, *, request: Request) -> str:
    """The answer came too late: the offer is no longer open."""
    return _reply(
        "offer_withdrawn",
        locale,
        language=job_fields(session, request)["language"],
        start=request.start,
    )
