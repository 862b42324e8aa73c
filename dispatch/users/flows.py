"""Staff accounts: invitations, new links, forgotten passwords, leaving.

A coordinator invites a colleague by email: the message carries a single-use
sign-in link (48 hours; only its hash is stored, see ``dispatch/web/links.py``)
that opens a page to set a password. A new link makes the older unused ones
expire. Whoever forgot their password asks for a link on the login page: the
answer is the same whether or not the address exists, and an address gets at
most FORGOT_PER_HOUR links an hour (counted in the database by a keyed hash of
the address, whether or not it has an account: ``dispatch/throttle.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, func, select, update

from config.settings import Settings
from dispatch import audit, messages, throttle
from dispatch.errors import Conflict, InvalidInput, NotFound
from dispatch.users import service
from dispatch.users.models import ApiToken, Organisation, User
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
    if not user.active:
        user.active = True
        user.password_hash = None
        session.add(user)
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


def deactivate(session: Session, *, user_id: int, actor: User, now: datetime) -> User:
    """The account stops working at once: sessions end, tokens and links are revoked."""
    user = get_user(session, user_id=user_id)
    if user.id == actor.id:
        raise Conflict(
            "You cannot deactivate your own account; ask another coordinator.",
            reason="own_account",
        )
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
    return user


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
