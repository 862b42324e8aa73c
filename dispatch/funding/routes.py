"""API of the funding policy: the categories a caseworker can choose, and charging a request."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from dispatch.deps import ClockDep, CoordinatorUser, CurrentUser, IdPath, SessionDep, SettingsDep
from dispatch.funding import policy as funding_policy
from dispatch.funding import service
from dispatch.funding.policy import CATEGORY_NAMES
from dispatch.requests import service as requests
from dispatch.requests.schemas import FundingSourceChange, RequestPublic

router = APIRouter(prefix="/api/v1", tags=["funding"])


class CategoryPublic(BaseModel):
    key: str
    name: str
    served: bool
    next_step: str | None
    contact: str | None


class CategoryList(BaseModel):
    min_notice_working_days: int
    items: list[CategoryPublic]


@router.get("/categories", response_model=CategoryList)
def list_categories(_user: CurrentUser, settings: SettingsDep) -> CategoryList:
    """The categories (Einsatzbereiche), which ones the pool serves, and the notice it asks for."""
    policy = funding_policy.policy_of(settings)
    items = []
    for category, name in CATEGORY_NAMES.items():
        refused = policy.refused.get(category)
        items.append(
            CategoryPublic(
                key=category.value,
                name=name,
                served=refused is None,
                next_step=refused.next_step.value if refused else None,
                contact=(refused.contact or None) if refused else None,
            )
        )
    return CategoryList(min_notice_working_days=policy.min_notice_working_days, items=items)


@router.post("/requests/{request_id}/funding-source", response_model=RequestPublic)
def change_funding_source(
    request_id: IdPath,
    body: FundingSourceChange,
    session: SessionDep,
    user: CoordinatorUser,
    clock: ClockDep,
    settings: SettingsDep,
) -> RequestPublic:
    """Charge the request to another funding source than the policy's rule chose (audited)."""
    request = service.change_source(
        session,
        policy=funding_policy.policy_of(settings),
        request=requests.get_request(session, request_id=request_id, actor=user),
        source=body.funding_source,
        actor=user,
        now=clock.now(),
        reason=body.reason,
    )
    return requests.to_public(session, request, actor=user)
