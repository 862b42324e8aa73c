"""Every table, imported in one place so the metadata is complete."""

from sqlmodel import SQLModel

from dispatch.allowances.models import AllowanceLine, AllowanceMonth
from dispatch.audit import AuditEvent
from dispatch.deadlines.models import Deadline
from dispatch.jobs.models import ConfirmationLink, JobReport
from dispatch.mediators.models import (
    Absence,
    AvailabilitySlot,
    Mediator,
    MediatorLanguage,
    PoolVersion,
)
from dispatch.offers.models import Assignment, Offer, OfferLink
from dispatch.outbox.models import Message
from dispatch.places.models import Place
from dispatch.requests.models import Request
from dispatch.series.models import Series
from dispatch.throttle import ThrottleHit
from dispatch.users.models import ApiToken, Organisation, OrganisationMediator, User
from dispatch.web.models import AccessLink, WebSession

metadata = SQLModel.metadata

__all__ = [
    "Absence",
    "AccessLink",
    "AllowanceLine",
    "AllowanceMonth",
    "ApiToken",
    "Assignment",
    "AuditEvent",
    "AvailabilitySlot",
    "ConfirmationLink",
    "Deadline",
    "JobReport",
    "Mediator",
    "MediatorLanguage",
    "Message",
    "Offer",
    "OfferLink",
    "Organisation",
    "OrganisationMediator",
    "Place",
    "PoolVersion",
    "Request",
    "ThrottleHit",
    "Series",
    "User",
    "WebSession",
    "metadata",
]
