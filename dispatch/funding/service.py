"""The funding policy at intake: refuse what the pool may not take, charge the rest to a source."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from dispatch import audit
from dispatch.errors import InvalidInput
from dispatch.funding.policy import (
    CATEGORY_NAMES,
    NEXT_STEP_TEXT,
    Category,
    FundingPolicy,
    OrganisationType,
)
from dispatch.requests.models import Request
from dispatch.users.models import Organisation, Role, User


class NotServed(InvalidInput):
    """The pool's funding does not cover this category; `params` name the next step."""

    code = "not_served"


class NoticeTooShort(InvalidInput):
    """The job starts sooner than the policy's notice and no urgency reason was given."""

    code = "notice_too_short"


def organisation_type(organisation: Organisation | None) -> OrganisationType | None:
    """The organisation's kind (public, non-profit) as the funding rules name it."""
    if organisation is None:
        return None
    return OrganisationType(str(organisation.kind))


def check_intake(
    *,
    policy: FundingPolicy,
    category: Category,
    start: datetime,
    urgency_reason: str | None,
    override_reason: str | None,
    actor: User,
    now: datetime,
    tz: ZoneInfo,
) -> None:
    """Refuse a request the policy does not allow, unless a coordinator overrides with a reason.

    A refused category answers ``not_served`` with the policy's next step; a
    start fewer working days ahead than the policy's notice, without an
    urgency reason, answers ``notice_too_short``.
    """
    if override_reason and actor.role == Role.coordinator:
        return
    check_category(policy=policy, category=category)
    check_notice(policy=policy, start=start, urgency_reason=urgency_reason, now=now, tz=tz)


def check_category(*, policy: FundingPolicy, category: Category) -> None:
    """A category the pool's funding does not cover answers ``not_served`` with the next step."""
    if policy.is_served(category):
        return
    refused = policy.refused[category]
    step = NEXT_STEP_TEXT[refused.next_step]
    contact = f" ({refused.contact})" if refused.contact else ""
    raise NotServed(
        f"The pool cannot take this request: its funding does not cover the category "
        f"'{CATEGORY_NAMES[category]}'. {step}{contact}",
        field="category",
        reason="not_served",
        params={
            "category": category.value,
            "next_step": refused.next_step.value,
            "contact": refused.contact,
        },
    )


def check_notice(
    *,
    policy: FundingPolicy,
    start: datetime,
    urgency_reason: str | None,
    now: datetime,
    tz: ZoneInfo,
) -> None:
    """A start sooner than the policy's notice needs an urgency reason (``notice_too_short``)."""
    if urgency_reason or not policy.notice_too_short(now=now, start=start, tz=tz):
        return
    days = policy.min_notice_working_days
    raise NoticeTooShort(
        f"The pool asks for {days} working days' notice; for a job sooner than that, "
        "say why it is urgent in urgency_reason.",
        field="urgency_reason",
        reason="notice_too_short",
        params={"days": days},
    )


def charge(
    *,
    policy: FundingPolicy,
    request: Request,
    organisation: Organisation | None,
) -> str:
    """The key of the funding source that pays `request`, by the policy's rules."""
    return policy.source_for(Category(request.category), organisation_type(organisation)).key


def change_source(
    session: Session,
    *,
    policy: FundingPolicy,
    request: Request,
    source: str,
    actor: User,
    now: datetime,
    reason: str | None = None,
) -> Request:
    """The coordinator charges a request to another funding source (audited, with the reason)."""
    if source not in policy.sources:
        known = ", ".join(policy.sources)
        raise InvalidInput(
            f"There is no funding source '{source}'; the policy has: {known}.",
            field="funding_source",
            reason="unknown_funding_source",
            params={"known": known},
        )
    before = request.funding_source
    if before == source:
        return request
    request.funding_source = source
    request.updated_at = now
    session.add(request)
    audit.record(
        session,
        at=now,
        actor_kind="user",
        actor_id=actor.id,
        action="request.funding_source",
        entity="request",
        entity_id=request.id,
        details={"from": before, "to": source, **({"reason": reason} if reason else {})},
    )
    session.flush()
    return request
