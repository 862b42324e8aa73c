"""What the Einsatzbestätigung takes and shows, for the API and the forms alike."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from dispatch.jobs.models import JobOutcome, ReportState
from dispatch.validation import MAX_ID, AwareDatetime, Line, Timestamp

#: Longest job a report may claim; a longer one is a typing mistake.
MAX_JOB_HOURS = 16
MAX_WAITING_MINUTES = 600
MAX_KM = 500
MAX_TICKET_EUROS = 500


class JobReportIn(BaseModel):
    """The mediator's figures after the job."""

    model_config = ConfigDict(extra="forbid")

    actual_start: AwareDatetime
    actual_end: AwareDatetime
    waiting_minutes: Annotated[int, Field(ge=0, le=MAX_WAITING_MINUTES)] = 0
    travel_km: Annotated[
        Decimal, Field(ge=0, le=MAX_KM, max_digits=4, decimal_places=1, allow_inf_nan=False)
    ] = Decimal("0")
    ticket_cost: Annotated[
        Decimal,
        Field(ge=0, le=MAX_TICKET_EUROS, max_digits=5, decimal_places=2, allow_inf_nan=False),
    ] = Decimal("0")
    outcome: JobOutcome = JobOutcome.done
    link_token: Annotated[str, Field(max_length=64)] | None = Field(
        default=None,
        description="The mediator's report link token (the part after /o/); "
        "without it, a coordinator's bearer token enters a report on their behalf.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> JobReportIn:
        if self.actual_end <= self.actual_start:
            raise PydanticCustomError("end_before_start", "actual_end must be after actual_start")
        if self.actual_end - self.actual_start > timedelta(hours=MAX_JOB_HOURS):
            raise PydanticCustomError(
                "job_too_long",
                "a job lasts at most {hours} hours; please check start and end",
                {"hours": MAX_JOB_HOURS},
            )
        return self


class ConfirmIn(BaseModel):
    """The requester's word on a report: it is right, or what is wrong with it."""

    model_config = ConfigDict(extra="forbid")

    decision: Literal["confirm", "dispute"] = "confirm"
    reason: Annotated[str, Line(500)] | None = Field(
        default=None, description="Needed to dispute: what does not match."
    )


class ApproveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["approve", "reject"] = "approve"
    reason: Annotated[str, Line(500)] | None = Field(
        default=None,
        description="Needed to approve a report the requester has not confirmed or has "
        "disputed, and to reject one.",
    )


class BulkApproveIn(ApproveIn):
    assignment_ids: Annotated[
        list[Annotated[int, Field(ge=1, le=MAX_ID)]], Field(min_length=1, max_length=500)
    ]


class JobReportPublic(BaseModel):
    id: int
    assignment_id: int
    request_id: int
    mediator_id: int
    actual_start: Timestamp
    actual_end: Timestamp
    minutes: int
    waiting_minutes: int
    travel_km: Decimal
    ticket_cost: Decimal
    outcome: JobOutcome
    state: ReportState
    reported_at: Timestamp
    confirmed_by_user_id: int | None
    confirmed_at: Timestamp | None
    dispute_reason: str | None
    approved_by_user_id: int | None
    approved_at: Timestamp | None
    approval_reason: str | None


class JobReportPage(BaseModel):
    items: list[JobReportPublic]
    total: int
