"""Staff accounts: invitations, new links, forgotten passwords, leaving and handing over.

A coordinator invites a colleague by email: the message carries a single-use
sign-in link (48 hours; only its hash is stored, see ``dispatch/web/links.py``)
that opens a page to set a password. A new link makes the older unused ones
expire. Whoever forgot their password asks for a link on the login page: the
answer is the same whether or not the address exists, and an address gets at
most FORGOT_PER_HOUR links an hour (counted in the database by a keyed hash of
the address, whether or not it has an account: ``dispatch/throttle.py``).

A caseworker who leaves takes nothing with them: the requests that still need
someone at their organisation go to the colleague the coordinator names
(``hand_over``), and until someone takes them the coordination gets their news
(``messages._to_caseworker``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, delete, func, or_, select, update

from config.settings import Settings
from dispatch import audit, messages, throttle
from dispatch.deadlines import service as deadlines
from dispatch.deadlines.models import Deadline
from dispatch.errors import Conflict, InvalidInput, NotFound
from dispatch.jobs import flows as jobs
from dispatch.jobs.models import ConfirmationLink, JobReport, ReportState
from dispatch.outbox.service import ERASED, erase_staff_traces
from dispatch.requests.models import Request, RequestStatus
from dispatch.series.models import Series
from dispatch.users import service
from dispatch.users.models import ApiToken, Organisation, Role, User, UserDeadlineKind
from dispatch.users.schemas import Invitation, UserCreate, UserPublic
from dispatch.web import links
from dispatch.web.models import AccessLink, LinkPurpose, WebSession

INVITATION_LIFETIME = links.SIGN_IN_LINK_LIFETIME
#: A link asked for on the login page is short-lived: its owner is at the screen now.
FORGOT_LINK_LIFETIME = timedelta(minutes=60)
FORGOT_PER_HOUR = 3
FORGOT_SCOPE = "forgot_password_email"


def list_users(session: Session, *, include_inactive: bool = True) -> list[User]:
    query = select(User).order_by(col(User.name), col(User.id))
    if not include_inactive:
        query = query.where(col(User.active).is_(True))
    return list(session.exec(query))


def get_user(session: Session, *, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"There is no user with id {user_id}.")
    return user


def public_users(session: Session, users: list[User]) -> list[UserPublic]:
    """Accounts with their organisation's name and when they were last sent a link."""
    ids = [u.id for u in users]
    organisations = dict(session.exec(select(Organisation.id, Organisation.name)).all())
    invited: dict[int, datetime] = {}
    if ids:
        invited.update(
            {
                user_id: at
                for user_id, at in session.exec(
                    select(AccessLink.user_id, func.max(AccessLink.created_at))
                    .where(
                        col(AccessLink.purpose) == LinkPurpose.sign_in,
                        col(AccessLink.user_id).in_(ids),
                    )
                    .group_by(col(AccessLink.user_id))
                ).all()
                if user_id is not None
            }
        )
    return [
        UserPublic(
            id=u.id,
            email=u.email,
            name=u.name,
            role=u.role,
            organisation_id=u.organisation_id,
            organisation_name=organisations.get(u.organisation_id, ""),
            locale=u.locale,
            active=u.active,
            erased=u.erased_at is not None,
            has_password=u.password_hash is not None,
            last_invited_at=invited.get(u.id),
            created_at=u.created_at,
        )
        for u in users
    ]


def public_user(session: Session, user: User) -> UserPublic:
    return public_users(session, [user])[0]


@dataclass(frozen=True)
class OwnAccount:
    """What a staff member's own account page shows: who they are and their API tokens."""

    user: UserPublic
    #: Newest first, revoked ones too.
    tokens: list[ApiToken]
    #: How many working tokens they may hold (``Settings.max_api_tokens_per_user``).
    token_limit: int

    @property
    def active_tokens(self) -> int:
        return sum(1 for token in self.tokens if token.revoked_at is None)


def own_account(session: Session, *, user: User, token_limit: int) -> OwnAccount:
    return OwnAccount(
        user=public_user(session, user),
        tokens=service.list_tokens(session, user_id=user.id),
        token_limit=token_limit,
    )


def create_user(
    session: Session, *, data: UserCreate, actor: User, settings: Settings, now: datetime
) -> User:
    """A colleague's account, without a password; invited by email unless `data.invite` is off."""
    organisation = session.get(Organisation, data.organisation_id or actor.organisation_id)
    if organisation is None:
        raise InvalidInput(
            f"There is no organisation with id {data.organisation_id}.",
            field="organisation_id",
            reason="unknown_organisation",
            params={"id": data.organisation_id},
        )
    user = service.create_user(
        session,
        email=data.email,
        name=data.name,
        role=data.role,
        organisation=organisation,
        locale=data.locale,
        now=now,
        actor=actor,
    )
    if data.invite:
        invite(session, user_id=user.id, actor=actor, settings=settings, now=now)
    return user


def invite(
    session: Session, *, user_id: int, actor: User, settings: Settings, now: datetime
) -> Invitation:
    """Send a (new) sign-in link; older unused links expire. Brings a deactivated account back.

    A deactivated account comes back without its old password: whoever it was
    shut off for (someone who left, a password others knew) is not let in again
    by what they knew; the link to the address on file sets a new one.
    """
    user = get_user(session, user_id=user_id)
    if user.erased_at is not None:
        raise Conflict(
            "This account was erased; invite the person as a new account.",
            reason="account_erased",
        )
    if not user.active:
        user.active = True
        user.password_hash = None
        user.erasure_waiting_since = None
        session.add(user)
        deadlines.close(
            session,
            kinds=[UserDeadlineKind.erase_account],
            subject_id=user.id,
            now=now,
            outcome="invited back",
        )
    links.revoke_sign_in_links(session, user_id=user.id, now=now)
    path = links.issue_sign_in_link(session, user=user, now=now, lifetime=INVITATION_LIFETIME)
    messages.staff_invitation(
        session,
        settings,
        user=user,
        link_path=path,
        valid_hours=int(INVITATION_LIFETIME.total_seconds() // 3600),
        inviter=actor,
        now=now,
    )
    audit.record(
        session,
        at=now,
        actor_kind="user",
        actor_id=actor.id,
        action="user.invite",
        entity="user",
        entity_id=user.id,
    )
    session.flush()
    return Invitation(
        user=public_user(session, user), email=user.email, expires_at=now + INVITATION_LIFETIME
    )


def deactivate(
    session: Session,
    *,
    user_id: int,
    actor: User,
    now: datetime,
    settings: Settings,
    hand_to: int | None = None,
) -> User:
    """The account stops working at once: sessions end, tokens and links are revoked, the
    one-click confirmation links in their mailbox too. With `hand_to`, their open work
    goes to that colleague (``hand_over``), checked before anything changes."""
    user = get_user(session, user_id=user_id)
    if user.id == actor.id:
        raise Conflict(
            "You cannot deactivate your own account; ask another coordinator.",
            reason="own_account",
        )
    successor = _successor(session, user, hand_to, field="hand_to") if hand_to else None
    user.active = False
    session.add(user)
    session.exec(
        update(WebSession)
        .where(col(WebSession.user_id) == user.id, col(WebSession.ended_at).is_(None))
        .values(ended_at=now)
    )
    session.exec(
        update(ApiToken)
        .where(col(ApiToken.user_id) == user.id, col(ApiToken.revoked_at).is_(None))
        .values(revoked_at=now)
    )
    links.revoke_sign_in_links(session, user_id=user.id, now=now)
    session.exec(
        update(ConfirmationLink)
        .where(
            col(ConfirmationLink.user_id) == user.id,
            col(ConfirmationLink.used_at).is_(None),
            col(ConfirmationLink.expires_at) > now,
        )
        .values(expires_at=now)
    )
    audit.record(
        session,
        at=now,
        actor_kind="user",
        actor_id=actor.id,
        action="user.deactivate",
        entity="user",
        entity_id=user.id,
    )
    session.flush()
    schedule_erasure(
        session, user=user, due_at=now + timedelta(days=settings.staff_data_days), now=now
    )
    if successor is not None:
        _hand_over(session, user, successor, actor=actor, now=now, settings=settings)
    return user


# --- erasing ------------------------------------------------------------------------------

#: The name an erased staff member's record keeps (``outbox.ERASED``, as in messages).
ERASED_NAME = ERASED


def schedule_erasure(session: Session, *, user: User, due_at: datetime, now: datetime) -> None:
    """Erase the account's name and address at `due_at` (``users/scheduled.py``); each
    deactivation (or wait for open work) is a deadline of its own."""
    count = session.exec(
        select(func.count(col(Deadline.id))).where(
            Deadline.kind == UserDeadlineKind.erase_account, Deadline.subject_id == user.id
        )
    ).one()
    deadlines.schedule(
        session,
        kind=UserDeadlineKind.erase_account,
        subject_id=user.id,
        due_at=due_at,
        now=now,
        sequence=count,
    )


def erase(session: Session, *, user_id: int, actor: User | None, now: datetime) -> User:
    """Erase a staff member who left: their name and address, everywhere they went.

    Only a deactivated account (leaving comes first: sessions, tokens, links end)
    and only once nothing open still needs them (``open_work``: hand it over
    first), so no request loses the person its news go to. The record stays,
    nameless, so the requests they filed, the reports they confirmed and the audit
    log keep pointing at someone; its address becomes one that cannot receive
    mail and cannot be signed in with. Messages to them are emptied, messages naming
    them lose the name (``outbox.erase_staff_traces``). Erasing twice changes nothing.
    `actor` None: the retention period ran out (``STAFF_DATA_DAYS``).
    """
    user = get_user(session, user_id=user_id)
    if user.erased_at is not None:
        return user
    check_erasable(session, user=user, actor=actor, now=now)
    traces = [user.name, user.email]
    placeholder = f"erased-{user.id}@erased.invalid"
    user.name = ERASED_NAME
    user.email = user.email_key = placeholder
    user.password_hash = None
    user.failed_logins = 0
    user.locked_until = None
    user.erased_at = now
    user.erasure_waiting_since = None
    session.add(user)
    session.exec(delete(WebSession).where(col(WebSession.user_id) == user.id))
    session.exec(delete(AccessLink).where(col(AccessLink.user_id) == user.id))
    session.flush()
    erase_staff_traces(session, user_id=user.id, traces=traces)
    deadlines.close(
        session,
        kinds=[UserDeadlineKind.erase_account],
        subject_id=user.id,
        now=now,
        outcome="erased",
    )
    audit.record(
        session,
        at=now,
        actor_kind="user" if actor is not None else "system",
        actor_id=actor.id if actor is not None else None,
        action="user.erase",
        entity="user",
        entity_id=user.id,
    )
    session.flush()
    return user


def check_erasable(session: Session, *, user: User, actor: User | None, now: datetime) -> None:
    """Refuse (409) what ``erase`` would refuse: one's own account, an active one, one
    whose open work still needs it. The page asks "are you sure?" only after this."""
    if actor is not None and user.id == actor.id:
        raise Conflict(
            "You cannot erase your own account; ask another coordinator.",
            reason="own_account_erase",
        )
    if user.active:
        raise Conflict("Deactivate the account before erasing it.", reason="erase_active_account")
    open_requests = open_work(session, user_ids=[user.id], now=now).get(user.id, 0)
    if open_requests:
        needs = "request still needs" if open_requests == 1 else "requests still need"
        raise Conflict(
            f"{open_requests} open {needs} this caseworker; hand them to a colleague first.",
            reason="erase_open_work",
            params={"num": open_requests},
        )


# --- handing over -------------------------------------------------------------------------


@dataclass(frozen=True)
class HandedOver:
    """What a hand-over moved: requests (each date of a series counts) and series."""

    requests: int
    series: int
    to_user_id: int


def _needing_their_caseworker(now: datetime) -> sa.ColumnElement[bool]:
    """A request someone at the organisation still has to follow: not yet decided, out
    for offers, assigned (before or after the job, until the mediator reports), nobody
    found yet for a time still ahead, or a report waiting for its Einsatzbestätigung."""
    awaiting = select(JobReport.request_id).where(col(JobReport.state) == ReportState.reported)
    return or_(
        col(Request.status).in_(
            [RequestStatus.open, RequestStatus.offered, RequestStatus.assigned]
        ),
        sa.and_(col(Request.status) == RequestStatus.unfilled, col(Request.end) > now),
        col(Request.id).in_(awaiting),
    )


def open_work(session: Session, *, user_ids: list[int], now: datetime) -> dict[int, int]:
    """How many requests still need each of these caseworkers (only those with any)."""
    if not user_ids:
        return {}
    rows = session.exec(
        select(Request.created_by_user_id, func.count(col(Request.id)))
        .where(col(Request.created_by_user_id).in_(user_ids), _needing_their_caseworker(now))
        .group_by(col(Request.created_by_user_id))
    ).all()
    return dict(rows)


def colleagues(session: Session, user: User) -> list[User]:
    """Who could take over a caseworker's work: the active caseworkers of their organisation."""
    return list(
        session.exec(
            select(User)
            .where(
                User.organisation_id == user.organisation_id,
                col(User.role) == Role.caseworker,
                col(User.active).is_(True),
                User.id != user.id,
            )
            .order_by(col(User.name), col(User.id))
        )
    )


def _successor(session: Session, user: User, to_user_id: int, *, field: str) -> User:
    """The colleague named to take over, if they may: otherwise a 422 on `field`."""
    successor = session.get(User, to_user_id)
    if successor is None or successor.id not in {c.id for c in colleagues(session, user)}:
        raise InvalidInput(
            "Work can only be handed to an active caseworker of the same organisation.",
            field=field,
            reason="not_a_colleague",
        )
    return successor


def hand_over(
    session: Session,
    *,
    user_id: int,
    to_user_id: int,
    actor: User,
    now: datetime,
    settings: Settings,
) -> HandedOver:
    """Give a caseworker's open work to a colleague (on leave, or gone since)."""
    user = get_user(session, user_id=user_id)
    successor = _successor(session, user, to_user_id, field="to_user_id")
    return _hand_over(session, user, successor, actor=actor, now=now, settings=settings)


def _hand_over(
    session: Session,
    user: User,
    successor: User,
    *,
    actor: User,
    now: datetime,
    settings: Settings,
) -> HandedOver:
    """The colleague becomes the one who filed each open request and each running series:
    every later message about them reaches the colleague, and a job waiting for its
    confirmation is asked of them with a fresh link. The requests' idempotency keys
    are dropped: they were the leaver's retries, and could clash with the colleague's.
    The colleague is told once what they took over."""
    request_ids = list(
        session.exec(
            select(Request.id)
            .where(Request.created_by_user_id == user.id, _needing_their_caseworker(now))
            .order_by(col(Request.id))
        )
    )
    series_ids = list(
        session.exec(
            select(Series.id).where(
                Series.created_by_user_id == user.id,
                or_(
                    col(Series.id).in_(
                        select(Request.series_id).where(col(Request.id).in_(request_ids))
                    ),
                    col(Series.until) >= now.date(),
                ),
            )
        )
    )
    moved: dict[str, int | None] = {
        "created_by_user_id": successor.id,
        "idempotency_key": None,
        "idempotency_fingerprint": None,
    }
    if request_ids:
        session.exec(update(Request).where(col(Request.id).in_(request_ids)).values(**moved))
    if series_ids:
        session.exec(update(Series).where(col(Series.id).in_(series_ids)).values(**moved))
    session.flush()
    session.expire_all()
    for report in session.exec(
        select(JobReport)
        .where(
            col(JobReport.request_id).in_(request_ids),
            col(JobReport.state) == ReportState.reported,
        )
        .order_by(col(JobReport.id))
    ).all():
        request = session.get(Request, report.request_id)
        assert request is not None
        jobs.ask_for_confirmation(
            session, report=report, request=request, now=now, settings=settings
        )
    audit.record(
        session,
        at=now,
        actor_kind="user",
        actor_id=actor.id,
        action="user.hand_over",
        entity="user",
        entity_id=user.id,
        details={"to": successor.id, "requests": len(request_ids), "series": len(series_ids)},
    )
    if request_ids or series_ids:
        messages.work_handed_over(
            session,
            settings,
            user=successor,
            from_name=user.name,
            requests=len(request_ids),
            series=len(series_ids),
            now=now,
        )
    session.flush()
    return HandedOver(requests=len(request_ids), series=len(series_ids), to_user_id=successor.id)


def forgot_password(session: Session, *, email: str, settings: Settings, now: datetime) -> None:
    """Email a short-lived sign-in link to an active account with this address, if any.

    Says nothing back: the caller answers the same way whether or not a link went
    out, so the form does not tell which addresses have accounts.
    """
    email = email.strip()
    if not email or len(email) > 254:
        return
    # Counted before the lookup, for every address alike: the limit tells nothing either.
    if not throttle.allow(
        session,
        scope=FORGOT_SCOPE,
        key=email.lower(),
        limit=FORGOT_PER_HOUR,
        window=timedelta(hours=1),
        secret=settings.secret_key.get_secret_value(),
        now=now,
    ):
        return
    user = service.user_by_email(session, email)
    if user is None or not user.active:
        return
    links.revoke_sign_in_links(session, user_id=user.id, now=now)
    path = links.issue_sign_in_link(session, user=user, now=now, lifetime=FORGOT_LINK_LIFETIME)
    messages.sign_in_link(
        session,
        settings,
        user=user,
        link_path=path,
        valid_minutes=int(FORGOT_LINK_LIFETIME.total_seconds() // 60),
        now=now,
    )
    audit.record(
        session,
        at=now,
        actor_kind="system",
        actor_id=None,
        action="user.forgot_password",
        entity="user",
        entity_id=user.id,
    )
