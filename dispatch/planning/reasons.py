"""Why a mediator cannot take a request, in words: the engine's reasons in the reader's language.

The engine (matching/) says why with a rule's code and its params (times in
ISO 8601, km, minutes); this module puts them into a sentence from the
catalogs, with times in the town's zone and numbers as the reader writes
them. The API shows the English sentence next to the code and params; the
coordinator's pages show it in the page's language. A new rule in
matching/feasibility.py gets its sentence here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from locales import N_, Translator
from matching.feasibility import ParamValue

Params = Mapping[str, ParamValue]

GENDER_REQUIRED = {
    "f": N_("a woman is required"),
    "m": N_("a man is required"),
    "d": N_("a diverse person is required"),
}
#: The items of a mediator's clearance (matching.model.CLEARANCE_ITEMS), as the pages name them.
CLEARANCE_ITEMS = {
    "training": N_("basic training"),
    "confidentiality_pledge": N_("confidentiality pledge"),
    "police_certificate": N_("police certificate"),
    "listed_until": N_("listed-until date"),
}
LEVELS = {"native": N_("native"), "fluent": N_("fluent"), "basic": N_("basic")}


def _clock(value: ParamValue, t: Translator, tz: ZoneInfo) -> str:
    return t.time(datetime.fromisoformat(str(value)).astimezone(tz))


def _amount(value: ParamValue, t: Translator) -> str:
    """A number as given, without trailing zeros: 25 → "25", 2.5 → "2,5" in German."""
    return t.number(float(value), 0) if float(value).is_integer() else t.number(float(value), 2)


def _excluded(_params: Params, t: Translator, _tz: ZoneInfo) -> str:
    return t.gettext("excluded by the requesting organisation")


def _not_for_this_client(_params: Params, t: Translator, _tz: ZoneInfo) -> str:
    return t.gettext("marked \u201cnot again for this client\u201d")


def clearance_item(item: str, t: Translator) -> str:
    """One clearance item's name in `t`'s language (an unknown item as it is)."""
    return t.gettext(CLEARANCE_ITEMS[item]) if item in CLEARANCE_ITEMS else item


def _not_cleared(params: Params, t: Translator, _tz: ZoneInfo) -> str:
    """Missing items are named; a listing that ran out gives its last day."""
    parts = []
    missing = [item for item in str(params.get("missing") or "").split(",") if item]
    if missing:
        parts.append(
            t.ngettext(
                "not cleared: %(items)s missing",
                "not cleared: %(items)s missing",
                len(missing),
                items=", ".join(clearance_item(item, t) for item in missing),
            )
        )
    if params.get("expired"):
        parts.append(
            t.gettext(
                "not cleared: listed only until %(date)s",
                date=t.date(date.fromisoformat(str(params["listed_until"]))),
            )
        )
    return "; ".join(parts) or t.gettext("not cleared")


def _language(params: Params, t: Translator, _tz: ZoneInfo) -> str:
    return t.gettext("does not speak %(language)s", language=t.language(str(params["language"])))


def _level(params: Params, t: Translator, _tz: ZoneInfo) -> str:
    level = str(params["level"])
    return t.gettext(
        "speaks %(language)s only at %(level)s level",
        language=t.language(str(params["language"])),
        level=t.gettext(LEVELS[level]) if level in LEVELS else level,
    )


def _availability(params: Params, t: Translator, tz: ZoneInfo) -> str:
    return t.gettext(
        "not available %(start)s-%(end)s",
        start=_clock(params["start"], t, tz),
        end=_clock(params["end"], t, tz),
    )


def _busy(params: Params, t: Translator, tz: ZoneInfo) -> str:
    """A busy block (a job elsewhere, or an absence) in the way; the label is a place.

    An absence is entered by whole days (midnight to midnight): it is named by its
    days, as "00:00-00:00" would say nothing. A block over several days names the
    day beside each time."""
    start = datetime.fromisoformat(str(params["start"])).astimezone(tz)
    end = datetime.fromisoformat(str(params["end"])).astimezone(tz)
    if start.time() == time(0) and end.time() == time(0) and end > start:
        first, last = start.date(), (end - timedelta(days=1)).date()
        if first == last:
            return t.gettext("away all day on %(day)s", day=t.day(first))
        return t.gettext("away from %(first)s to %(last)s", first=t.day(first), last=t.day(last))
    if start.date() != end.date():
        values = {
            "start": f"{t.day(start)} {t.time(start)}",
            "end": f"{t.day(end)} {t.time(end)}",
        }
    else:
        values = {"start": t.time(start), "end": t.time(end)}
    place = str(params.get("label") or "")
    if "travel_minutes" in params:
        minutes = math.ceil(float(params["travel_minutes"]))
        if place:
            return t.gettext(
                "busy %(start)s-%(end)s at %(place)s, %(minutes)s min away",
                place=place,
                minutes=minutes,
                **values,
            )
        return t.gettext("busy %(start)s-%(end)s, %(minutes)s min away", minutes=minutes, **values)
    if place:
        return t.gettext("busy %(start)s-%(end)s at %(place)s", place=place, **values)
    return t.gettext("busy %(start)s-%(end)s", **values)


def _travel_radius(params: Params, t: Translator, _tz: ZoneInfo) -> str:
    return t.gettext(
        "lives %(distance)s km away, travels at most %(limit)s km",
        distance=t.number(float(params["distance_km"]), 1),
        limit=_amount(params["max_travel_km"], t),
    )


def _qualification(params: Params, t: Translator, _tz: ZoneInfo) -> str:
    return t.gettext(
        "lacks the %(qualification)s qualification",
        qualification=t.qualification(str(params["qualification"])),
    )


def _gender(params: Params, t: Translator, _tz: ZoneInfo) -> str:
    gender = str(params["gender"])
    return t.gettext(GENDER_REQUIRED[gender]) if gender in GENDER_REQUIRED else gender


def _minutes_cap(params: Params, t: Translator, _tz: ZoneInfo) -> str:
    return t.gettext(
        "over %(max)s min in the period (%(used)s + %(job)s)",
        max=_amount(params["max_minutes"], t),
        used=_amount(params["used"], t),
        job=_amount(params["job_minutes"], t),
    )


def _annual_limit(params: Params, t: Translator, _tz: ZoneInfo) -> str:
    left = int(params.get("left_cents", 0))
    if left <= 0:
        if "year" not in params:
            return t.gettext("allowances this year reached the annual limit")
        return t.gettext(
            "allowances in %(year)s reached the annual limit", year=str(params["year"])
        )
    return t.gettext(
        "a job expected to pay %(job)s would take %(year)s over the annual limit (%(left)s left)",
        job=t.currency(Decimal(int(params["job_cents"])) / 100),
        year=str(params["year"]),
        left=t.currency(Decimal(left) / 100),
    )


def _monthly_limit(params: Params, t: Translator, _tz: ZoneInfo) -> str:
    year, month = (int(part) for part in str(params["month"]).split("-"))
    named = t.date(date(year, month, 1), "LLLL y")
    left = int(params.get("left_cents", 0))
    if left <= 0:
        return t.gettext(
            "allowances in %(month)s reached the mediator's monthly limit", month=named
        )
    return t.gettext(
        "a job expected to pay %(job)s would take %(month)s over the mediator's monthly "
        "limit (%(left)s left)",
        job=t.currency(Decimal(int(params["job_cents"])) / 100),
        month=named,
        left=t.currency(Decimal(left) / 100),
    )


def _too_late(params: Params, t: Translator, _tz: ZoneInfo) -> str:
    return t.gettext(
        "%(travel)s min away, the job starts in %(left)s min",
        travel=math.ceil(float(params["travel_minutes"])),
        left=max(0, math.floor(float(params["minutes_left"]))),
    )


def _taken_back(_params: Params, t: Translator, _tz: ZoneInfo) -> str:
    return t.gettext("taken off this request by the coordinator")


def _gave_back(_params: Params, t: Translator, _tz: ZoneInfo) -> str:
    return t.gettext("gave this job back")


#: Every code of matching/feasibility.py and its sentence, and the service's own reasons
#: (a mediator who lost the job is not proposed for it again).
SENTENCES: dict[str, Callable[[Params, Translator, ZoneInfo], str]] = {
    "not_cleared": _not_cleared,
    "excluded": _excluded,
    "not_for_this_client": _not_for_this_client,
    "language": _language,
    "level": _level,
    "availability": _availability,
    "busy": _busy,
    "travel_radius": _travel_radius,
    "qualification": _qualification,
    "gender": _gender,
    "minutes_cap": _minutes_cap,
    "annual_limit": _annual_limit,
    "monthly_limit": _monthly_limit,
    "too_late": _too_late,
    "taken_back": _taken_back,
    "gave_back": _gave_back,
}


def describe(code: str, params: Params, *, t: Translator, tz: ZoneInfo) -> str:
    """The reason in `t`'s language; an unknown code is shown as it is."""
    sentence = SENTENCES.get(code)
    return sentence(params, t, tz) if sentence else code
