"""The API's shapes of an organisation; the pages check their forms with the same ones."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from dispatch.users.models import OrganisationKind
from dispatch.validation import MAX_ID, Line, Timestamp

MediatorId = Annotated[int, Field(ge=1, le=MAX_ID)]
#: An organisation's list holds at most this many mediators.
MAX_LIST = 500


class WaveBandOverride(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lead_under_hours: float = Field(gt=0, le=1e9, allow_inf_nan=False)
    size: int = Field(ge=1, le=100)
    offer_minutes: int = Field(ge=5, le=14 * 24 * 60)


class PolicyOverrides(BaseModel):
    """Dispatch values that differ from config/policy.toml for this organisation's requests."""

    model_config = ConfigDict(extra="forbid")

    latest_offer_before_start_minutes: int | None = Field(default=None, ge=0, le=24 * 60)
    broadcast_offer_minutes: int | None = Field(default=None, ge=5, le=24 * 60)
    reconfirm_deadline_hours: int | None = Field(default=None, ge=0, le=72)
    bands: list[WaveBandOverride] | None = Field(default=None, min_length=1, max_length=10)

    def stored(self) -> dict[str, object] | None:
        """What the database keeps: only the values that are set (None: the pool's policy)."""
        values = self.model_dump(exclude_none=True)
        return values or None


def _distinct_lists(preferred: list[int] | None, excluded: list[int] | None) -> None:
    if preferred and excluded and set(preferred) & set(excluded):
        raise PydanticCustomError(
            "mediator_on_both_lists", "a mediator cannot be preferred and excluded at once"
        )


class OrganisationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Line(200)]
    kind: OrganisationKind = OrganisationKind.public
    policy: PolicyOverrides | None = None
    preferred_mediator_ids: list[MediatorId] = Field(default_factory=list, max_length=MAX_LIST)
    excluded_mediator_ids: list[MediatorId] = Field(default_factory=list, max_length=MAX_LIST)

    @model_validator(mode="after")
    def _lists(self) -> OrganisationCreate:
        _distinct_lists(self.preferred_mediator_ids, self.excluded_mediator_ids)
        return self


class OrganisationUpdate(BaseModel):
    """Fields left out stay; a list given replaces the list; `policy: null` drops the overrides."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Line(200)] | None = None
    kind: OrganisationKind | None = None
    policy: PolicyOverrides | None = None
    preferred_mediator_ids: list[MediatorId] | None = Field(default=None, max_length=MAX_LIST)
    excluded_mediator_ids: list[MediatorId] | None = Field(default=None, max_length=MAX_LIST)

    @model_validator(mode="after")
    def _lists(self) -> OrganisationUpdate:
        _distinct_lists(self.preferred_mediator_ids, self.excluded_mediator_ids)
        return self


class OrganisationPublic(BaseModel):
    id: int
    name: str
    kind: OrganisationKind
    policy: PolicyOverrides | None
    preferred_mediator_ids: list[int]
    excluded_mediator_ids: list[int]
    staff: int = Field(description="How many active staff accounts belong to it.")
    created_at: Timestamp
