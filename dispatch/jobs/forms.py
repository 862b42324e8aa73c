"""The mediator's report form: times of day on the job's date, figures with a decimal comma.

The form is checked by the API's schema (``JobReportIn``), so a page and the
API refuse the same things; errors are placed beside their field by the
schema's error location and code, never by the wording.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from dispatch.jobs.models import JobOutcome
from dispatch.jobs.schemas import JobReportIn
from dispatch.validation import clock_time
from locales import N_, western_digits

FIELDS = ("actual_start", "actual_end", "waiting_minutes", "travel_km", "ticket_cost", "outcome")

#: What each refusal says beside its field, by field and, where it matters, by code (msgids).
MESSAGES: dict[str, str] = {
    "actual_start": N_("Please enter a time such as 09:30."),
    "actual_end": N_("Please enter a time such as 10:45."),
    "end_before_start": N_("The end must be after the start."),
    "job_too_long": N_("A job lasts at most 16 hours; please check start and end."),
    "end_in_future": N_("The end cannot be in the future."),
    "not_on_the_day": N_("Please check the times: they are far from the booked time."),
    "waiting_minutes": N_("Please enter whole minutes from 0 to 600."),
    "travel_km": N_("Please enter km from 0 to 500, e.g. 12,5."),
    "ticket_cost": N_("Please enter euros from 0 to 500, e.g. 3,40."),
    "outcome": N_("Please choose how the job went."),
}

#: The outcomes as the mediator reads them (msgids).
OUTCOME_NAMES: dict[JobOutcome, str] = {
    JobOutcome.done: N_("The job took place"),
    JobOutcome.client_no_show: N_("The client did not come"),
    JobOutcome.cancelled_on_site: N_("Cancelled when I was there"),
}


@dataclass
class ReportForm:
    """What was typed (kept on a refusal) and the msgid of each field's error."""

    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def blank(cls, *, start: datetime, end: datetime, tz: ZoneInfo) -> ReportForm:
        return cls(
            {
                "actual_start": start.astimezone(tz).strftime("%H:%M"),
                "actual_end": end.astimezone(tz).strftime("%H:%M"),
                "waiting_minutes": "0",
                "travel_km": "0",
                "ticket_cost": "0",
                "outcome": JobOutcome.done.value,
            }
        )

    def place(self, field_name: str, code: str | None) -> None:
        """Put an error beside its field: the code's own text where there is one."""
        if field_name not in self.errors:
            self.errors[field_name] = MESSAGES.get(code or "", MESSAGES.get(field_name, ""))


def _western(text: str) -> str:
    """Digits of any script as 0-9, and the Arabic decimal separator (U+066B) as a point.

    A mediator whose phone writes Arabic or Persian types ١٢٫٥ or ۱۲٫۵ for 12.5 (their SMS
    codes are read the same way, see notifications/sms_commands.py).
    """
    return western_digits(text.strip()).replace("\u066b", ".")


def _time_on(day: date, text: str, tz: ZoneInfo) -> datetime | None:
    moment = clock_time(_western(text))
    return None if moment is None else datetime.combine(day, moment, tzinfo=tz)


def _amount(text: str) -> str:
    return _western(text).replace(",", ".") or "0"


def parse_report_form(
    raw: dict[str, str], *, day: date, tz: ZoneInfo
) -> tuple[ReportForm, JobReportIn | None]:
    """The form as typed, and the report it makes (None when something is wrong)."""
    form = ReportForm({name: raw.get(name, "").strip() for name in FIELDS})
    start = _time_on(day, form.values["actual_start"], tz)
    end = _time_on(day, form.values["actual_end"], tz)
    if start is None:
        form.place("actual_start", None)
    if end is None:
        form.place("actual_end", None)
    payload: dict[str, Any] = {
        "actual_start": start,
        "actual_end": end,
        "waiting_minutes": _western(form.values["waiting_minutes"]) or "0",
        "travel_km": _amount(form.values["travel_km"]),
        "ticket_cost": _amount(form.values["ticket_cost"]),
        "outcome": form.values["outcome"] or None,
    }
    try:
        data = JobReportIn.model_validate(payload)
    except ValidationError as exc:
        for error in exc.errors():
            location = [str(part) for part in error.get("loc", ())]
            code = str(error.get("type", ""))
            if code in ("end_before_start", "job_too_long"):
                form.place("actual_end", code)
            elif location and location[0] in FIELDS:
                form.place(location[0], None)
        return form, None
    if form.errors:
        return form, None
    return form, data
