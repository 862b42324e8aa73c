"""Single-purpose links: a staff member's one-time sign-in, a mediator's own page.

Each link is a random token in a URL; only its SHA-256 is stored, with the
one thing it grants and when it stops working. A link for one purpose is
never accepted for another.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlmodel import Session, col, delete, select, update

from dispatch import audit
from dispatch.errors import NotFound, SprachpoolError
from dispatch.mediators.models import Mediator
from dispatch.security import hash_token
from dispatch.users.models import User
from dispatch.web.models import AccessLink, LinkPurpose

SIGN_IN_LINK_LIFETIME = timedelta(hours=48)
#: Long enough that the link in a confirmation still works on the day of the job.
MEDIATOR_LINK_LIFETIME = timedelta(days=60)
SIGN_IN_PATH = "/login/link/"
MEDIATOR_PATH = "/m/"


class LinkInvalid(SprachpoolError):
    """The link is unknown, used or expired; the page says which, kindly."""

    status_code = 410
    code = "link_invalid"


def _issue(
    session: Session,
    *,
    purpose: LinkPurpose,
    now: datetime,
    lifetime: timedelta,
    user_id: int | None = None,
    mediator_id: int | None = None,
) -> str:
    token = secrets.token_urlsafe(32)
    session.add(
        AccessLink(
            purpose=purpose,
            token_hash=hash_token(token),
            user_id=user_id,
            mediator_id=mediator_id,
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    session.flush()
    return token


def _find(session: Session, *, purpose: LinkPurpose, token: str, now: datetime) -> AccessLink:
    if not token or len(token) > 100:
        raise LinkInvalid("This link is not valid.")
    link = session.exec(
        select(AccessLink).where(
            AccessLink.token_hash == hash_token(token), AccessLink.purpose == purpose
        )
    ).first()
    if link is None:
        raise LinkInvalid("This link is not valid.")
    if link.used_at is not None:
        raise LinkInvalid("This link has been used already.")
    if now >= link.expires_at:
        raise LinkInvalid("This link has expired.")
    return link


def issue_sign_in_link(
    session: Session, *, user: User, now: datetime, lifetime: timedelta = SIGN_IN_LINK_LIFETIME
) -> str:
    """A one-time sign-in link (URL path) for a user who has no password yet or forgot it."""
    token = _issue(
        session,
        purpose=LinkPurpose.sign_in,
        now=now,
        lifetime=lifetime,
        user_id=user.id,
    )
    audit.record(
        session,
        at=now,
        actor_kind="system",
        actor_id=None,
        action="sign_in_link.issue",
        entity="user",
        entity_id=user.id,
    )
    return SIGN_IN_PATH + token


def sign_in_link_user(session: Session, *, token: str, now: datetime) -> User:
    """Whose link this is, without using it up (the page shows the form first)."""
    link = _find(session, purpose=LinkPurpose.sign_in, token=token, now=now)
    user = session.get(User, link.user_id)
    if user is None or not user.active:
        raise LinkInvalid("This link is not valid any more.")
    return user


def revoke_sign_in_links(session: Session, *, user_id: int, now: datetime) -> None:
    """Unused sign-in links of a user stop working (a new one was sent, or they left).

    They expire rather than vanish, so the rate limit still counts them.
    """
    session.exec(
        update(AccessLink)
        .where(
            col(AccessLink.purpose) == LinkPurpose.sign_in,
            col(AccessLink.user_id) == user_id,
            col(AccessLink.used_at).is_(None),
            col(AccessLink.expires_at) > now,
        )
        .values(expires_at=now)
    )


def redeem_sign_in_link(session: Session, *, token: str, now: datetime) -> User:
    """Use a sign-in link up; a second use is refused even within its lifetime.

    The conditional UPDATE settles two concurrent clicks: only one of them
    changes the row.
    """
    link = _find(session, purpose=LinkPurpose.sign_in, token=token, now=now)
    claimed = session.exec(
        update(AccessLink)
        .where(col(AccessLink.id) == link.id, col(AccessLink.used_at).is_(None))
        .values(used_at=now)
    )
    user = session.get(User, link.user_id)
    if claimed.rowcount != 1 or user is None or not user.active:
        raise LinkInvalid("This link has been used already.")
    audit.record(
        session,
        at=now,
        actor_kind="user",
        actor_id=user.id,
        action="sign_in_link.use",
        entity="user",
        entity_id=user.id,
    )
    return user


def issue_mediator_link(session: Session, *, mediator_id: int, now: datetime) -> str:
    """The URL path of a mediator's personal page, for their confirmation message.

    The dispatch workflow calls this and puts `settings.public_base_url + path`
    into the message; the page lists upcoming jobs and lets the mediator
    pause or resume themselves.
    """
    if session.get(Mediator, mediator_id) is None:
        raise NotFound(f"There is no mediator with id {mediator_id}.")
    return MEDIATOR_PATH + _issue(
        session,
        purpose=LinkPurpose.mediator_page,
        now=now,
        lifetime=MEDIATOR_LINK_LIFETIME,
        mediator_id=mediator_id,
    )


def revoke_mediator_links(session: Session, *, mediator_id: int) -> None:
    """Every personal-page link of a mediator stops working (they were erased)."""
    session.exec(
        delete(AccessLink).where(
            col(AccessLink.purpose) == LinkPurpose.mediator_page,
            col(AccessLink.mediator_id) == mediator_id,
        )
    )


def mediator_for_link(session: Session, *, token: str, now: datetime) -> Mediator:
    link = _find(session, purpose=LinkPurpose.mediator_page, token=token, now=now)
    mediator = session.get(Mediator, link.mediator_id)
    if mediator is None or mediator.erased_at is not None or not mediator.active:
        raise LinkInvalid("This link is not valid any more.")
    return mediator
