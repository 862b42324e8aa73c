"""Organisations: who they are, which mediators they prefer or exclude, their own policy."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlmodel import Session, col, delete, func, select

from dispatch import audit
from dispatch.errors import Conflict, InvalidInput, NotFound
from dispatch.mediators.models import Mediator
from dispatch.organisations.schemas import (
    OrganisationCreate,
    OrganisationPublic,
    OrganisationUpdate,
    PolicyOverrides,
)
from dispatch.users.models import Organisation, OrganisationMediator, User

PREFERRED, EXCLUDED = "preferred", "excluded"


def list_organisations(session: Session) -> list[Organisation]:
    return list(session.exec(select(Organisation).order_by(col(Organisation.name))))


def get_organisation(session: Session, *, organisation_id: int) -> Organisation:
    organisation = session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound(f"There is no organisation with id {organisation_id}.")
    return organisation


def mediator_lists(session: Session, *, organisation_id: int) -> dict[str, list[int]]:
    """The organisation's preferred and excluded mediators, by id."""
    lists: dict[str, list[int]] = {PREFERRED: [], EXCLUDED: []}
    for entry in session.exec(
        select(OrganisationMediator)
        .where(OrganisationMediator.organisation_id == organisation_id)
        .order_by(col(OrganisationMediator.mediator_id))
    ):
        lists.setdefault(entry.kind, []).append(entry.mediator_id)
    return lists


def public(session: Session, organisation: Organisation) -> OrganisationPublic:
    lists = mediator_lists(session, organisation_id=organisation.id)
    return _public(organisation, lists, staff=staff_counts(session).get(organisation.id, 0))


def _public(
    organisation: Organisation, lists: dict[str, list[int]], *, staff: int
) -> OrganisationPublic:
    return OrganisationPublic(
        id=organisation.id,
        name=organisation.name,
        kind=organisation.kind,
        policy=PolicyOverrides.model_validate(organisation.policy) if organisation.policy else None,
        preferred_mediator_ids=lists.get(PREFERRED, []),
        excluded_mediator_ids=lists.get(EXCLUDED, []),
        staff=staff,
        created_at=organisation.created_at,
    )


def public_all(session: Session) -> list[OrganisationPublic]:
    """Every organisation with its lists, in three queries."""
    lists: dict[int, dict[str, list[int]]] = defaultdict(lambda: {PREFERRED: [], EXCLUDED: []})
    for entry in session.exec(
        select(OrganisationMediator).order_by(col(OrganisationMediator.mediator_id))
    ):
        lists[entry.organisation_id].setdefault(entry.kind, []).append(entry.mediator_id)
    counts = staff_counts(session)
    return [_public(o, lists[o.id], staff=counts.get(o.id, 0)) for o in list_organisations(session)]


def staff_counts(session: Session) -> dict[int, int]:
    return dict(
        session.exec(
            select(User.organisation_id, func.count())
            .where(col(User.active).is_(True))
            .group_by(col(User.organisation_id))
        ).all()
    )


def _name_is_free(session: Session, name: str, *, except_id: int | None = None) -> None:
    clash = session.exec(select(Organisation).where(Organisation.name == name)).first()
    if clash is not None and clash.id != except_id:
        raise Conflict(
            f"An organisation named '{name}' exists already (id {clash.id}).",
            field="name",
            reason="name_taken",
        )


def _check_mediators(session: Session, ids: list[int], *, field: str) -> None:
    if not ids:
        return
    known = set(
        session.exec(
            select(Mediator.id).where(col(Mediator.id).in_(ids), col(Mediator.erased_at).is_(None))
        )
    )
    for mediator_id in ids:
        if mediator_id not in known:
            raise InvalidInput(
                f"There is no mediator with id {mediator_id}.",
                field=field,
                reason="unknown_mediator",
                params={"id": mediator_id},
            )


def _set_lists(
    session: Session,
    *,
    organisation_id: int,
    preferred: list[int] | None,
    excluded: list[int] | None,
    now: datetime,
) -> None:
    if preferred is not None:
        _check_mediators(session, preferred, field="preferred_mediator_ids")
    if excluded is not None:
        _check_mediators(session, excluded, field="excluded_mediator_ids")
    current = mediator_lists(session, organisation_id=organisation_id)
    preferred = current[PREFERRED] if preferred is None else preferred
    excluded = current[EXCLUDED] if excluded is None else excluded
    if set(preferred) & set(excluded):
        raise InvalidInput(
            "A mediator cannot be preferred and excluded at once.",
            field="excluded_mediator_ids",
            reason="mediator_on_both_lists",
        )
    # Both lists go first, so a mediator may move from one list to the other.
    session.exec(
        delete(OrganisationMediator).where(
            col(OrganisationMediator.organisation_id) == organisation_id
        )
    )
    session.flush()
    for kind, ids in ((PREFERRED, preferred), (EXCLUDED, excluded)):
        for mediator_id in dict.fromkeys(ids):
            session.add(
                OrganisationMediator(
                    organisation_id=organisation_id,
                    mediator_id=mediator_id,
                    kind=kind,
                    created_at=now,
                )
            )
    session.flush()


def create_organisation(
    session: Session, *, data: OrganisationCreate, actor: User, now: datetime
) -> Organisation:
    _name_is_free(session, data.name)
    organisation = Organisation(
        name=data.name,
        kind=data.kind,
        policy=data.policy.stored() if data.policy else None,
        created_at=now,
    )
    session.add(organisation)
    session.flush()
    _set_lists(
        session,
        organisation_id=organisation.id,
        preferred=data.preferred_mediator_ids,
        excluded=data.excluded_mediator_ids,
        now=now,
    )
    audit.record(
        session,
        at=now,
        actor_kind="user",
        actor_id=actor.id,
        action="organisation.create",
        entity="organisation",
        entity_id=organisation.id,
        details={"kind": str(organisation.kind)},
    )
    return organisation


def update_organisation(
    session: Session, *, organisation_id: int, data: OrganisationUpdate, actor: User, now: datetime
) -> Organisation:
    organisation = get_organisation(session, organisation_id=organisation_id)
    changes = data.model_fields_set
    if data.name is not None:
        _name_is_free(session, data.name, except_id=organisation.id)
        organisation.name = data.name
    if data.kind is not None:
        organisation.kind = data.kind
    if "policy" in changes:
        organisation.policy = data.policy.stored() if data.policy else None
    session.add(organisation)
    if data.preferred_mediator_ids is not None or data.excluded_mediator_ids is not None:
        _set_lists(
            session,
            organisation_id=organisation.id,
            preferred=data.preferred_mediator_ids,
            excluded=data.excluded_mediator_ids,
            now=now,
        )
    audit.record(
        session,
        at=now,
        actor_kind="user",
        actor_id=actor.id,
        action="organisation.update",
        entity="organisation",
        entity_id=organisation.id,
        details={"fields": sorted(changes)},
    )
    return organisation
