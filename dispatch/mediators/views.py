"""The coordinator's pool pages: the list with filters, adding and editing a mediator,
absences, pause and resume, erasure with a confirmation, a person's history, the CSV
upload with a preview, and the pool's export for German Excel.

Every form is checked by the API's own schemas (MediatorCreate / MediatorUpdate) and
services, so the pages and the JSON API accept exactly the same; errors are placed
beside their field by the error's location and code, in the reader's language.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session, select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from config import data as config_data
from config.settings import Settings
from dispatch import geocoding
from dispatch.allowances.service import (
    AllowanceOwed,
    Month,
    month_totals_for,
    monthly_counts,
    rules_for,
)
from dispatch.deps import ClockDep, IdPath, SessionDep, SettingsDep
from dispatch.errors import InvalidInput, NotFound
from dispatch.mediators import flows, importer, service
from dispatch.mediators.models import CLEARANCE_FIELDS, Level, TravelMode
from dispatch.mediators.schemas import (
    MESSAGE_LOCALES,
    AbsenceIn,
    MediatorCreate,
    MediatorPublic,
    MediatorUpdate,
    WeeklySlot,
)
from dispatch.places.models import Place
from dispatch.users.models import User
from dispatch.validation import calendar_day, normalise_language, whole_number
from dispatch.web import forms, maps
from dispatch.web import service as pages
from dispatch.web.account import safe_next
from dispatch.web.auth import CoordinatorPageUser, CsrfChecked
from dispatch.web.rendering import formatter, render
from dispatch.web.schema_forms import EntryForm
from dispatch.web.spreadsheets import Cell, Sheet, sheet_response
from locales import N_, Text

router = APIRouter(prefix="/dashboard/pool", include_in_schema=False)

#: Empty rows under a mediator's availability and languages, for adding without JavaScript.
EMPTY_SLOT_ROWS = 3
EMPTY_LANGUAGE_ROWS = 2
MAX_SLOT_ROWS = 50
MAX_LANGUAGE_ROWS = 20
#: The largest CSV the upload takes (a pool of some thousand people fits easily).
MAX_UPLOAD_BYTES = 2_000_000
#: Area filter: distances offered around a place.
AREA_KM = (2, 5, 10, 20, 30)

#: What the form says beside a field that is wrong, whatever the error.
FIELD_MESSAGES = {
    "name": N_("Please give the name."),
    "phone": N_("Please use the international format, e.g. +49 151 12345678."),
    "email": N_("Please give a valid email address."),
    "languages": N_("Please pick each language once, with its level."),
    "german_level": N_("Please pick an option from the list."),
    "gender": N_("Please pick an option from the list."),
    "channels": N_("Please pick an option from the list."),
    "message_locale": N_("Please pick an option from the list."),
    "travel_mode": N_("Please pick an option from the list."),
    "max_travel_km": N_("Please give a distance between 1 and 500 km."),
    "max_hours_per_week": N_("Please give between 1 and 60 hours."),
    "monthly_limit": N_("Please give an amount in euros above 0 and up to 100,000, e.g. 250."),
    "qualifications": N_("Please pick an option from the list."),
    "home": N_("Please give both latitude and longitude, e.g. 51.7553 and 8.0403."),
    "address": N_("This address was not found; please check it or give the point."),
    "trained_on": N_("Please give a valid date."),
    "pledge_signed_on": N_("Please give a valid date."),
    "police_certificate_seen_on": N_("Please give a valid date."),
    "listed_until": N_("Please give a valid date."),
    "absence_start": N_("Please give a valid date."),
    "absence_end": N_("Please give a valid date."),
}
#: The mediator service's refusals (their reason codes), in the reader's words.
SERVICE_MESSAGES = {
    "no_contact": N_("A mediator needs a phone number or an email address."),
    "sms_without_phone": N_("SMS is chosen, but there is no phone number."),
    "email_without_address": N_("Email is chosen, but there is no email address."),
    "geocoder_unavailable": N_(
        "The address search does not answer right now; please give the point."
    ),
    "outside_area": N_("This address lies outside the pool's area; please check it."),
    **geocoding.POINT_MESSAGES,
    "day_in_future": N_(
        "This day lies in the future, but it records when something happened: today at the "
        "latest. Please check the year."
    ),
    "absence_order": N_("The absence must end on or after its first day."),
    "phone_taken": N_(
        "This number already belongs to %(name)s in the pool: SMS replies from it could "
        "not tell who answered."
    ),
}
SCALARS = (
    "name",
    "phone",
    "email",
    "german_level",
    "gender",
    "message_locale",
    "travel_mode",
    "max_travel_km",
    "max_hours_per_week",
    "monthly_limit",
    "address",
    "home_lat",
    "home_lon",
    *CLEARANCE_FIELDS,
)


@dataclass
class MediatorForm:
    """What was typed (to show it again) and what is wrong, by field."""

    values: dict[str, str] = field(default_factory=dict)
    lists: dict[str, list[str]] = field(default_factory=dict)
    languages: list[dict[str, str]] = field(default_factory=list)
    slots: list[dict[str, str]] = field(default_factory=list)
    errors: dict[str, Text] = field(default_factory=dict)
    slot_errors: dict[int, Text] = field(default_factory=dict)
    #: The home was just set by a click on the map: the form is shown again to save it.
    point_set: bool = False

    def error(self, name: str, message: Text | None = None) -> None:
        fallback = FIELD_MESSAGES.get(name.split("-")[0], forms.CHECK_FIELD)
        self.errors.setdefault(name, message or Text(fallback))

    @classmethod
    def of(cls, mediator: MediatorPublic | None) -> MediatorForm:
        """The form filled with a mediator's data (or blank, for a new one)."""
        if mediator is None:
            return cls(
                values={"travel_mode": "car", "message_locale": "de"},
                lists={"channels": ["sms"], "qualifications": []},
                languages=_blank_languages([]),
                slots=_blank_slots([]),
            )
        values = {
            name: "" if getattr(mediator, name) is None else str(getattr(mediator, name))
            for name in SCALARS
            if hasattr(mediator, name)
        }
        for name in ("max_travel_km", "max_hours_per_week"):
            number = getattr(mediator, name)
            values[name] = "" if number is None else f"{number:g}"
        if mediator.monthly_limit is not None:
            # 250.00 is shown as 250; cents only where there are some.
            limit = mediator.monthly_limit
            values["monthly_limit"] = str(
                limit.quantize(Decimal(1)) if limit == limit.to_integral() else limit
            )
        if mediator.home is not None:
            values["home_lat"], values["home_lon"] = str(mediator.home.lat), str(mediator.home.lon)
        return cls(
            values=values,
            lists={"channels": list(mediator.channels), "qualifications": mediator.qualifications},
            languages=_blank_languages(
                [{"language": s.language, "level": s.level} for s in mediator.languages]
            ),
            slots=_blank_slots(mediator.availability),
        )


def _blank_languages(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    return rows + [{"language": "", "level": "fluent"} for _ in range(EMPTY_LANGUAGE_ROWS)]


def _blank_slots(availability: list[WeeklySlot]) -> list[dict[str, str]]:
    rows = [{"weekday": str(s.weekday), "start": s.start, "end": s.end} for s in availability]
    return rows + [{"weekday": "0", "start": "", "end": ""} for _ in range(EMPTY_SLOT_ROWS)]


def _number(text: str) -> float | str:
    """A number as people type it here ("7,5"); what is not one goes to the schema as it is."""
    try:
        return float(text.replace(",", "."))
    except ValueError:
        return text


def parse_slots(
    form: dict[str, str],
) -> tuple[list[dict[str, str]], list[WeeklySlot], dict[int, Text]]:
    """Availability rows from the form; a row without times is left out (that removes a slot).

    Each row is checked by the API's own WeeklySlot; its first error is shown
    beside the row, by the error's code in the reader's language.
    """
    rows, slots, errors = [], [], {}
    for index in range(MAX_SLOT_ROWS):
        if f"weekday-{index}" not in form:
            break
        row = {
            name: form.get(f"{name}-{index}", "").strip() for name in ("weekday", "start", "end")
        }
        rows.append(row)
        if not row["start"] and not row["end"]:
            continue
        try:
            number = whole_number(row["weekday"])
            weekday: int | str = row["weekday"] if number is None else number
            slots.append(
                WeeklySlot.model_validate(
                    {"weekday": weekday, "start": row["start"], "end": row["end"]}
                )
            )
        except ValidationError as exc:
            first = exc.errors()[0]
            errors[len(rows) - 1] = forms.message_for(first["type"], first.get("ctx"))
    return rows, slots, errors


def _home(form: MediatorForm, settings: Settings) -> dict[str, float | str] | None | str:
    """The home point: geocoded from an address when one is typed (and a geocoder is
    configured), else the latitude and longitude typed; "" when there is an error."""
    v = form.values
    if v["address"]:
        geocoder = geocoding.geocoder_from_settings(settings)
        if geocoder is not None:
            try:
                matches = geocoder.search(v["address"], limit=1)
            except geocoding.GeocoderUnavailable:
                form.error("address", Text(SERVICE_MESSAGES["geocoder_unavailable"]))
                return ""
            if not matches:
                form.error("address")
                return ""
            match = matches[0]
            if not geocoding.pool_area(settings).contains(match.lat, match.lon):
                form.error("address", Text(SERVICE_MESSAGES["outside_area"]))
                return ""
            v["home_lat"], v["home_lon"] = f"{match.lat:.5f}", f"{match.lon:.5f}"
            return {"lat": match.lat, "lon": match.lon}
        if not (v["home_lat"] and v["home_lon"]):
            form.error("address", Text(SERVICE_MESSAGES["geocoder_unavailable"]))
            return ""
    if not v["home_lat"] and not v["home_lon"]:
        return None
    if not (v["home_lat"] and v["home_lon"]):
        form.error("home")
        return ""
    return {"lat": _number(v["home_lat"]), "lon": _number(v["home_lon"])}


def parse_mediator_form(
    raw: FormData, *, settings: Settings, new: bool
) -> tuple[MediatorForm, MediatorCreate | MediatorUpdate | None]:
    """Check the form; the API body when everything is right, else errors beside the fields."""
    text = {k: v for k, v in raw.items() if isinstance(v, str)}
    form = MediatorForm(
        values={name: text.get(name, "").strip() for name in SCALARS},
        lists={
            name: [v for v in raw.getlist(name) if isinstance(v, str)]
            for name in ("channels", "qualifications")
        },
    )
    v = form.values
    body: dict[str, Any] = {
        name: v[name] or None
        for name in ("name", "phone", "email", "german_level", "gender", *CLEARANCE_FIELDS)
    }
    if not v["name"]:
        form.error("name")
    body["message_locale"] = v["message_locale"] or "de"
    body["travel_mode"] = v["travel_mode"] or "car"
    for name in ("max_travel_km", "max_hours_per_week"):
        body[name] = _number(v[name]) if v[name] else None
    # Euros stay exact: "250,50" goes to the schema's Decimal as "250.50", never as a float.
    body["monthly_limit"] = v["monthly_limit"].replace(",", ".") if v["monthly_limit"] else None
    body["channels"] = form.lists["channels"]
    body["qualifications"] = form.lists["qualifications"]
    click = maps.clicked_point(text, settings)
    if click == "outside":
        form.error(
            "home", Text(N_("Please click inside the circle: the pool serves only that area."))
        )
    elif click is not None:
        # The click answers where the person lives; only the point is kept, so the
        # address typed to find it has done its work.
        v["home_lat"], v["home_lon"] = f"{click[0]:.5f}", f"{click[1]:.5f}"
        v["address"] = ""
        form.point_set = True
    home = _home(form, settings)
    if home != "":
        body["home"] = home
    row_of: list[int] = []  # body index -> form row
    languages = []
    for index in range(MAX_LANGUAGE_ROWS):
        if f"lang-{index}" not in text:
            break
        row = {"language": text[f"lang-{index}"].strip(), "level": text.get(f"level-{index}", "")}
        form.languages.append(row)
        if row["language"]:
            languages.append(dict(row))
            row_of.append(index)
    if not languages:
        form.error("lang-0", Text(N_("Please pick at least one language.")))
    body["languages"] = languages
    form.slots, slots, form.slot_errors = parse_slots(text)
    body["availability"] = slots
    schema = MediatorCreate if new else MediatorUpdate
    try:
        data = schema.model_validate(body)
    except ValidationError as exc:
        for error in exc.errors():
            location = tuple(error["loc"])
            name = str(location[0]) if location else "languages"
            if name == "languages" and len(location) > 1 and isinstance(location[1], int):
                name = f"lang-{row_of[location[1]]}" if location[1] < len(row_of) else "lang-0"
            elif name == "languages":
                name = "lang-0"
            elif name == "home":
                name = "address" if v["address"] else "home"
            message = forms.CODE_MESSAGES.get(error["type"])
            form.error(
                name, forms.message_for(error["type"], error.get("ctx")) if message else None
            )
        return form, None
    return form, (None if form.errors or form.slot_errors or form.point_set else data)


def _choices(request: Request) -> dict[str, Any]:
    """The lists a mediator form offers, in the page's language where they have names."""
    fmt = formatter(request)
    known = config_data.languages().values()
    return {
        "language_choices": sorted(known, key=lambda k: fmt.language(k.tag).casefold()),
        "levels": [level.value for level in Level],
        "travel_modes": [mode.value for mode in TravelMode],
        "message_locales": MESSAGE_LOCALES,
        "qualification_choices": sorted(config_data.qualifications()),
        "weekdays": range(7),
    }


def _form_page(
    request: Request,
    user: User,
    form: MediatorForm,
    *,
    mediator: MediatorPublic | None,
    settings: Settings,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "coordinator/mediator_form.html",
        {
            "form": form,
            "m": mediator,
            "suggested_monthly_limit": rules_for(settings.allowance_file).monthly_limit_suggested,
            "map_pictures": maps.MAP_PICTURES,
            **_choices(request),
        },
        status_code=status_code,
        user=user,
    )


def _service_error(form: MediatorForm, exc: InvalidInput) -> None:
    message = SERVICE_MESSAGES.get(exc.reason or "")
    form.error(exc.field or "name", Text(message, exc.params) if message else None)


# --- the list ---------------------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
def pool(
    request: Request,
    session: SessionDep,
    user: CoordinatorPageUser,
    clock: ClockDep,
    settings: SettingsDep,
    q: Annotated[str, Query(max_length=100)] = "",
    language: Annotated[str, Query(max_length=12)] = "",
    level: Literal["", "basic", "fluent", "native"] = "",
    state: Literal["all", "available", "paused", "left"] = "all",
    qualification: Annotated[str, Query(max_length=40)] = "",
    clearance: Literal["", "cleared", "waiting", "expiring"] = "",
    near: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
    km: Annotated[int, Query(ge=1, le=500)] = 10,
    changed: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
    erased: bool = False,
    imported: Annotated[str, Query(max_length=30, pattern=r"^(\d+-\d+)?$")] = "",
) -> HTMLResponse:
    tag = None
    if language:
        try:
            tag = normalise_language(language)
        except ValueError as exc:
            raise InvalidInput(str(exc), field="language", reason="unknown_language") from exc
    items, _ = service.list_mediators(
        session,
        language=tag,
        min_level=Level(level) if level and tag else None,
        active=state != "left",
        paused={"all": None, "available": False, "paused": True, "left": None}[state],
        search=q.strip() or None,
        limit=500,
    )
    places = list(session.exec(select(Place).where(Place.active).order_by(Place.name)))
    place = next((p for p in places if p.id == near), None)
    items = service.filter_pool(
        items,
        today=clock.now().astimezone(settings.tz).date(),
        qualification=qualification or None,
        clearance=clearance or None,
        near=(place.lat, place.lon) if place else None,
        within_km=km if place else None,
    )
    today = clock.now().astimezone(settings.tz).date()
    return render(
        request,
        "coordinator/pool.html",
        {
            "items": items,
            "gaps": {m.id: service.clearance_gaps(m, today=today) for m in items},
            "total": len(items),
            "q": q,
            "language": tag or "",
            "level": level,
            "state": state,
            "qualification": qualification,
            "clearance": clearance,
            "near": near,
            "km": km,
            "places": places,
            "area_km": AREA_KM,
            "changed": changed,
            "erased": erased,
            "imported": [int(n) for n in imported.split("-")] if imported else None,
            "query": request.url.query,
            **_choices(request),
        },
        user=user,
    )


@router.get("/export.{kind}")
def export_pool(
    request: Request,
    kind: Literal["csv", "xlsx"],
    session: SessionDep,
    _user: CoordinatorPageUser,
    clock: ClockDep,
    settings: SettingsDep,
) -> Response:
    """The whole pool for German Excel (semicolons, BOM, German headers) or as .xlsx."""
    items, today = _pool_today(session, clock.now(), settings)
    return sheet_response(pool_sheet(items, request=request, today=today), kind=kind)


def _pool_today(
    session: Session, now: datetime, settings: Settings
) -> tuple[list[MediatorPublic], date]:
    """Who is in the pool (paused too), for a download, and the town's day it is for."""
    items, _ = service.list_mediators(session, active=True, limit=10_000)
    return items, now.astimezone(settings.tz).date()


def pool_sheet(items: list[MediatorPublic], *, request: Request, today: date) -> Sheet:
    fmt = formatter(request)
    t = fmt.t
    headers = [
        t.gettext("Name"),
        t.gettext("Phone"),
        t.gettext("Email"),
        t.gettext("Languages"),
        t.gettext("German"),
        t.gettext("Travels by"),
        t.gettext("Max. km"),
        t.gettext("Hours per week"),
        t.gettext("Subjects"),
        t.gettext("Status"),
        t.gettext("Basic training"),
        t.gettext("Confidentiality pledge"),
        t.gettext("Police certificate seen"),
        t.gettext("Listed until"),
        t.gettext("Cleared"),
    ]
    rows: list[list[Cell]] = []
    for m in items:
        rows.append(
            [
                m.name,
                m.phone or "",
                m.email or "",
                ", ".join(
                    f"{fmt.language(s.language)} ({fmt.level(s.level)})" for s in m.languages
                ),
                fmt.level(m.german_level) if m.german_level else "",
                fmt.travel(m.travel_mode),
                m.max_travel_km,
                m.max_hours_per_week,
                ", ".join(fmt.qualification(q) for q in m.qualifications),
                t.gettext("paused") if m.paused else t.gettext("available"),
                *(getattr(m, name) for name in CLEARANCE_FIELDS),
                t.gettext("no") if service.clearance_gaps(m, today=today) else t.gettext("yes"),
            ]
        )
    return Sheet(
        title=t.gettext("Pool"), filename=f"sprachpool-pool-{today}", headers=headers, rows=rows
    )


# --- the CSV upload -----------------------------------------------------------------------


def _upload_page(
    request: Request,
    user: User,
    *,
    text: str = "",
    rows: list[importer.RowDone] | None = None,
    errors: list[str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "coordinator/pool_import.html",
        {
            "text": text,
            "rows": rows,
            "errors": errors or [],
            "columns": importer.COLUMNS,
            "added": sum(1 for r in rows or [] if r.action == "add"),
            "updated": sum(1 for r in rows or [] if r.action == "update"),
            "same": sum(1 for r in rows or [] if r.action == "same"),
        },
        status_code=status_code,
        user=user,
    )


@router.get("/import", response_class=HTMLResponse)
def import_page(request: Request, user: CoordinatorPageUser) -> HTMLResponse:
    return _upload_page(request, user)


@router.post("/import", dependencies=[CsrfChecked])
async def preview_import(
    request: Request,
    session: SessionDep,
    user: CoordinatorPageUser,
    clock: ClockDep,
    settings: SettingsDep,
) -> Response:
    """Read the file and show what would be added, updated or refused; nothing is written.

    The rows are written and rolled back (as `sprachpool mediators import
    --dry-run` does), so what the database would refuse is shown here, not
    only after "import".
    """
    content = None
    async with request.form() as form:
        upload = form.get("file")
        if upload is not None and not isinstance(upload, str):
            content = await upload.read(MAX_UPLOAD_BYTES + 1)
    if content is not None and len(content) > MAX_UPLOAD_BYTES:
        return _upload_page(request, user, errors=[forms_text(request, "too_big")], status_code=422)
    text = importer.read_upload(content) if content else ""
    if text is None:
        return _upload_page(
            request, user, errors=[forms_text(request, "not_utf8")], status_code=422
        )
    if not text:
        return _upload_page(request, user, errors=[forms_text(request, "no_file")], status_code=422)
    now = clock.now()
    rows, problems = importer.read_rows(text, settings=settings, now=now)
    if problems:
        errors = _problem_texts(request, problems)
        return _upload_page(request, user, text=text, errors=errors, status_code=422)
    # A file of hundreds of rows takes a while to write: off the event loop.
    report = await run_in_threadpool(
        _dry_run, session, rows, now=now, settings=settings, actor=user
    )
    if report.errors:
        errors = _problem_texts(request, report.errors)
        return _upload_page(request, user, text=text, errors=errors, status_code=422)
    return _upload_page(request, user, text=text, rows=report.rows)


def _dry_run(
    session: Session,
    rows: list[tuple[int, MediatorCreate]],
    *,
    now: datetime,
    settings: Settings,
    actor: User,
) -> importer.ImportReport:
    """What each row would do, and what the database would refuse: written, then rolled
    back."""
    report = importer.write_rows(session, rows, now=now, settings=settings, actor=actor)
    session.rollback()
    return report


@router.get("/import-file.{kind}")
def export_import_file(
    request: Request,
    kind: Literal["csv", "xlsx"],
    session: SessionDep,
    _user: CoordinatorPageUser,
    clock: ClockDep,
    settings: SettingsDep,
) -> Response:
    """The pool in the upload's own format, to edit in Excel and upload again."""
    items, today = _pool_today(session, clock.now(), settings)
    sheet = Sheet(
        title=formatter(request).gettext("Pool"),
        filename=f"sprachpool-pool-import-{today}",
        headers=list(importer.EXPORT_COLUMNS),
        rows=importer.pool_rows(items, tz=settings.tz),
    )
    return sheet_response(sheet, kind=kind)


@router.post("/import/confirm", dependencies=[CsrfChecked])
def confirm_import(
    request: Request,
    session: SessionDep,
    user: CoordinatorPageUser,
    clock: ClockDep,
    settings: SettingsDep,
    text: Annotated[str, Form(max_length=MAX_UPLOAD_BYTES)] = "",
) -> Response:
    """Write the previewed file: all of it, or (a row refused by the database) nothing."""
    report = importer.import_csv(session, text=text, now=clock.now(), settings=settings, actor=user)
    if not report.ok:
        session.rollback()
        errors = _problem_texts(request, report.errors)
        return _upload_page(request, user, text=text, errors=errors, status_code=422)
    return RedirectResponse(
        f"/dashboard/pool?imported={report.created}-{report.updated}", status_code=303
    )


UPLOAD_MESSAGES = {
    "no_file": N_("Please choose a CSV file or an Excel workbook."),
    "not_utf8": N_(
        "The file can be read neither as a CSV nor as an Excel workbook (.xlsx); in Excel, "
        "save it as “Excel workbook” or “CSV UTF-8”."
    ),
    "too_big": N_("The file is too large; please split it."),
}


def forms_text(request: Request, code: str) -> str:
    return formatter(request).gettext(UPLOAD_MESSAGES[code])


def _problem_texts(request: Request, problems: list[importer.Problem]) -> list[str]:
    """What is wrong with the file, line by line, in the page's language."""
    translator = formatter(request).t
    return [importer.problem_text(problem, translator) for problem in problems]


# --- adding and editing ---------------------------------------------------------------


@router.get("/new", response_class=HTMLResponse)
def new_mediator(
    request: Request, user: CoordinatorPageUser, settings: SettingsDep
) -> HTMLResponse:
    return _form_page(request, user, MediatorForm.of(None), mediator=None, settings=settings)


@router.post("/new", dependencies=[CsrfChecked])
async def create_mediator(
    request: Request,
    session: SessionDep,
    user: CoordinatorPageUser,
    clock: ClockDep,
    settings: SettingsDep,
) -> Response:
    # The home's address search answers over the network: off the event loop.
    form, data = await run_in_threadpool(
        parse_mediator_form, await request.form(), settings=settings, new=True
    )
    return _save(
        request, session, user, form, data, mediator=None, now=clock.now(), settings=settings
    )


def _save(
    request: Request,
    session: Session,
    user: User,
    form: MediatorForm,
    data: MediatorCreate | MediatorUpdate | None,
    *,
    mediator: MediatorPublic | None,
    now: datetime,
    settings: Settings,
) -> Response:
    """Add (no `mediator`) or change a mediator from a checked form; else the form again."""
    if data is not None:
        try:
            if mediator is None:
                assert isinstance(data, MediatorCreate)
                saved_id = service.create_mediator(
                    session, data=data, actor=user, now=now, settings=settings
                ).id
            else:
                assert isinstance(data, MediatorUpdate)
                flows.update_mediator(
                    session,
                    mediator_id=mediator.id,
                    data=data,
                    actor=user,
                    now=now,
                    settings=settings,
                )
                saved_id = mediator.id
        except InvalidInput as exc:
            session.rollback()  # nothing of a refused form stays
            _service_error(form, exc)
        else:
            saved = "created" if mediator is None else "details"
            return RedirectResponse(f"/dashboard/pool/{saved_id}?saved={saved}", status_code=303)
    # A click on the map only sets the point: the form comes back to be saved.
    status_code = 200 if form.point_set and not form.errors and not form.slot_errors else 422
    return _form_page(
        request, user, form, mediator=mediator, settings=settings, status_code=status_code
    )


def _live(session: Session, mediator_id: int) -> MediatorPublic:
    mediator = service.get_mediator(session, mediator_id=mediator_id)
    if mediator.erased_at is not None:
        raise NotFound(f"There is no mediator with id {mediator_id}.")
    return service.public(session, mediator)


@router.get("/{mediator_id}/edit", response_class=HTMLResponse)
def edit_mediator(
    request: Request,
    mediator_id: IdPath,
    session: SessionDep,
    user: CoordinatorPageUser,
    settings: SettingsDep,
) -> HTMLResponse:
    mediator = _live(session, mediator_id)
    return _form_page(
        request, user, MediatorForm.of(mediator), mediator=mediator, settings=settings
    )


@router.post("/{mediator_id}/edit", dependencies=[CsrfChecked])
async def save_mediator(
    request: Request,
    mediator_id: IdPath,
    session: SessionDep,
    user: CoordinatorPageUser,
    clock: ClockDep,
    settings: SettingsDep,
) -> Response:
    mediator = _live(session, mediator_id)
    form, data = await run_in_threadpool(
        parse_mediator_form, await request.form(), settings=settings, new=False
    )
    return _save(
        request, session, user, form, data, mediator=mediator, now=clock.now(), settings=settings
    )


# --- one person ---------------------------------------------------------------------------


def _mediator_page(
    request: Request,
    session: Session,
    user: User,
    mediator_id: int,
    *,
    now: datetime,
    settings: Settings,
    rows: list[dict[str, str]] | None = None,
    errors: dict[int, Text] | None = None,
    absence: dict[str, str] | None = None,
    absence_errors: dict[str, Text] | None = None,
    saved: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    public = _live(session, mediator_id)
    today = now.astimezone(settings.tz).date()
    month = Month(today.year, today.month)
    month_total = month_counted = None
    if public.monthly_limit is not None:
        rules = rules_for(settings.allowance_file)
        month_total = month_totals_for(
            session, start=month, end=month, rules=rules, tz=settings.tz, mediator_id=mediator_id
        ).get(month, Decimal(0))
        # What the engine counts against the limit: held jobs at what they are expected to pay.
        counts = monthly_counts(session, rules=rules, tz=settings.tz, now=now)
        cents = counts.counted.get(mediator_id, {}).get((month.year, month.month), 0)
        month_counted = Decimal(cents) / 100
    return render(
        request,
        "coordinator/mediator.html",
        {
            "m": public,
            "rows": rows if rows is not None else _blank_slots(public.availability),
            "errors": errors or {},
            "saved": saved,
            "gaps": service.clearance_gaps(public, today=today),
            "absences": [
                (
                    a,
                    a.start.astimezone(settings.tz).date(),
                    (a.end.astimezone(settings.tz) - timedelta(microseconds=1)).date(),
                )
                for a in service.absences(session, mediator_id=mediator_id)
                if a.end > now
            ],
            "absence": absence or {},
            "absence_errors": absence_errors or {},
            "history": pages.mediator_history(
                session, mediator_id=mediator_id, now=now, tz=settings.tz
            ),
            "jobs_held": flows.jobs_held(session, mediator_id=mediator_id, now=now),
            "unfit_jobs": flows.held_jobs_unfit(
                session, mediator_id=mediator_id, now=now, settings=settings
            ),
            "erasure_due": flows.erasure_due(session, mediator_id=mediator_id),
            "weekdays": range(7),
            "clearance_fields": CLEARANCE_FIELDS,
            "month_total": month_total,
            "month_counted": month_counted,
        },
        status_code=status_code,
        user=user,
    )


@router.get("/{mediator_id}", response_class=HTMLResponse)
def mediator_page(
    request: Request,
    mediator_id: IdPath,
    session: SessionDep,
    user: CoordinatorPageUser,
    clock: ClockDep,
    settings: SettingsDep,
    saved: Annotated[str, Query(max_length=20)] = "",
) -> HTMLResponse:
    return _mediator_page(
        request, session, user, mediator_id, now=clock.now(), settings=settings, saved=saved
    )


@router.post("/{mediator_id}/availability", dependencies=[CsrfChecked])
async def save_availability(
    request: Request,
    mediator_id: IdPath,
    session: SessionDep,
    user: CoordinatorPageUser,
    clock: ClockDep,
    settings: SettingsDep,
) -> Response:
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    rows, slots, errors = parse_slots(form)
    if errors:
        return _mediator_page(
            request,
            session,
            user,
            mediator_id,
            now=clock.now(),
            settings=settings,
            rows=rows,
            errors=errors,
            status_code=422,
        )
    flows.update_mediator(
        session,
        mediator_id=mediator_id,
        data=MediatorUpdate(availability=slots),
        actor=user,
        now=clock.now(),
        settings=settings,
    )
    return RedirectResponse(f"/dashboard/pool/{mediator_id}?saved=availability", status_code=303)


@router.post("/{mediator_id}/absences", dependencies=[CsrfChecked])
def add_absence(
    request: Request,
    mediator_id: IdPath,
    session: SessionDep,
    user: CoordinatorPageUser,
    clock: ClockDep,
    settings: SettingsDep,
    first: Annotated[str, Form(max_length=20)] = "",
    last: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """An absence by whole days (holiday 12-26 December: both days included)."""
    typed = {"first": first.strip(), "last": last.strip()}
    errors: dict[str, Text] = {}
    days: dict[str, date] = {}
    for name, value in typed.items():
        day = calendar_day(value)
        if day is None:
            errors[name] = Text(FIELD_MESSAGES["absence_start"])
        else:
            days[name] = day
    if not errors and days["last"] < days["first"]:
        errors["last"] = Text(SERVICE_MESSAGES["absence_order"])
    absence = None
    if not errors:
        tz = settings.tz
        try:
            absence = AbsenceIn(
                start=datetime.combine(days["first"], time(0), tzinfo=tz),
                end=datetime.combine(days["last"] + timedelta(days=1), time(0), tzinfo=tz),
            )
        except (ValidationError, OverflowError):
            errors["first"] = Text(FIELD_MESSAGES["absence_start"])
    if absence is None:
        return _mediator_page(
            request,
            session,
            user,
            mediator_id,
            now=clock.now(),
            settings=settings,
            absence=typed,
            absence_errors=errors,
            status_code=422,
        )
    flows.add_absence(
        session,
        mediator_id=mediator_id,
        absence=absence,
        actor=user,
        now=clock.now(),
        settings=settings,
    )
    return RedirectResponse(f"/dashboard/pool/{mediator_id}?saved=absence", status_code=303)


@router.post("/{mediator_id}/absences/{absence_id}/delete", dependencies=[CsrfChecked])
def remove_absence(
    mediator_id: IdPath,
    absence_id: IdPath,
    session: SessionDep,
    user: CoordinatorPageUser,
    clock: ClockDep,
) -> Response:
    service.remove_absence(
        session, mediator_id=mediator_id, absence_id=absence_id, actor=user, now=clock.now()
    )
    return RedirectResponse(f"/dashboard/pool/{mediator_id}?saved=absence", status_code=303)


def _jobs_held(
    session: Session, *, mediator_id: int, now: datetime
) -> tuple[list[pages.RequestRow], list[pages.RequestRow]]:
    """The jobs the mediator holds: those to come (they could still go to someone else)
    and those under way (they stay as they are)."""
    upcoming = pages.upcoming_jobs(session, mediator_id=mediator_id, now=now)
    return (
        [row for row in upcoming if row.request.start > now],
        [row for row in upcoming if row.request.start <= now],
    )


def _assignment_ids(rows: list[pages.RequestRow]) -> list[int]:
    """The jobs a page lists, as its hidden field carries them: their assignments' ids."""
    return [row.assignment.id for row in rows if row.assignment is not None]


def _same_jobs(shown: str, rows: list[pages.RequestRow]) -> bool:
    """Whether the jobs the page listed (its hidden field) are those held now; a mangled
    field matches none, so the page asks again."""
    parts = shown.split()
    if not all(part.isascii() and part.isdigit() and len(part) < 12 for part in parts):
        return False
    return {int(part) for part in parts} == set(_assignment_ids(rows))


def _pause_page(
    request: Request,
    session: Session,
    user: User,
    mediator_id: int,
    *,
    now: datetime,
    back: str,
    next: str,
    changed: bool,
    leaving: bool,
) -> HTMLResponse:
    """Before a mediator who holds jobs to come is paused (or, `leaving`, taken out of the
    pool): those jobs, and whether they keep them or others get them. Nothing has changed
    yet (status 200); asked again because the jobs changed since the page was opened: 409."""
    jobs, running = _jobs_held(session, mediator_id=mediator_id, now=now)
    return render(
        request,
        "coordinator/mediator_pause.html",
        {
            "m": _live(session, mediator_id),
            "jobs": jobs,
            "running": running,
            "shown": " ".join(str(i) for i in _assignment_ids(jobs)),
            "next": next,
            "back": back,
            "changed": changed,
            "leaving": leaving,
        },
        status_code=409 if changed else 200,
        user=user,
    )


def _take_out_or_back(
    request: Request,
    session: Session,
    user: User,
    mediator_id: int,
    *,
    out: bool,
    change: dict[str, bool],
    leaving: bool,
    jobs: Literal["keep", "release"] | None,
    shown: str,
    next: str,
    now: datetime,
    settings: Settings,
) -> Response:
    """Pausing and taking out of the pool alike: one who holds jobs to come is asked first
    (`_pause_page`) whether they keep them or others get the jobs the page listed
    (`shown`); held differently by now, the page asks again and nothing changes. Coming
    back never asks."""
    if out:
        held, _ = _jobs_held(session, mediator_id=mediator_id, now=now)
        stale = jobs == "release" and not _same_jobs(shown, held)
        if held and (jobs is None or stale):
            back = safe_next(next, f"/dashboard/pool/{mediator_id}")
            return _pause_page(
                request,
                session,
                user,
                mediator_id,
                now=now,
                back=back,
                next=next,
                changed=stale,
                leaving=leaving,
            )
    flows.update_mediator(
        session,
        mediator_id=mediator_id,
        data=MediatorUpdate.model_validate({**change, "release_jobs": out and jobs == "release"}),
        actor=user,
        now=now,
        settings=settings,
    )
    return RedirectResponse(
        safe_next(next, f"/dashboard/pool?changed={mediator_id}"), status_code=303
    )


@router.post("/{mediator_id}/pause", dependencies=[CsrfChecked])
def pause_mediator(
    request: Request,
    mediator_id: IdPath,
    session: SessionDep,
    user: CoordinatorPageUser,
    clock: ClockDep,
    settings: SettingsDep,
    paused: Annotated[Literal["true", "false"], Form()],
    next: Annotated[str, Form(max_length=500)] = "",
    jobs: Annotated[Literal["keep", "release"] | None, Form()] = None,
    shown: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Pause (no offers until resumed) or resume a mediator.

    A mediator who holds jobs to come is not paused at the first click: the answer lists
    those jobs and asks whether they keep them (a holiday after them is fine) or others
    get them now (`jobs`: ill, moved away); without scripts alike, as it is a page.
    """
    pause = paused == "true"
    return _take_out_or_back(
        request,
        session,
        user,
        mediator_id,
        out=pause,
        change={"paused": pause},
        leaving=False,
        jobs=jobs,
        shown=shown,
        next=next,
        now=clock.now(),
        settings=settings,
    )


@router.post("/{mediator_id}/membership", dependencies=[CsrfChecked])
def pool_membership(
    request: Request,
    mediator_id: IdPath,
    session: SessionDep,
    user: CoordinatorPageUser,
    clock: ClockDep,
    settings: SettingsDep,
    active: Annotated[Literal["true", "false"], Form()],
    next: Annotated[str, Form(max_length=500)] = "",
    jobs: Annotated[Literal["keep", "release"] | None, Form()] = None,
    shown: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Take a mediator out of the pool (`active` false: they stopped, moved away) or back in.

    Unlike a pause, which is for a while, someone out of the pool is no longer listed,
    exported or reminded of their clearance; their record stays (what they are owed is
    still paid, their jobs still count) until the coordinator erases it. Jobs to come are
    asked about as for a pause.
    """
    leave = active == "false"
    return _take_out_or_back(
        request,
        session,
        user,
        mediator_id,
        out=leave,
        change={"active": not leave},
        leaving=True,
        jobs=jobs,
        shown=shown,
        next=next,
        now=clock.now(),
        settings=settings,
    )


# --- erasure ------------------------------------------------------------------------------


#: Beside the "erase anyway" box when it was left empty while money is owed.
UNPAID_NOT_CONFIRMED = N_(
    "Sprachpool still owes this mediator money. Tick the box to erase anyway, or keep them "
    "and pay the allowance first."
)


#: Beside the box when what is owed changed after the page was opened (a job approved).
UNPAID_CHANGED = N_(
    "What Sprachpool owes this mediator changed since this page was opened; the amount "
    "above is the new one. Please check it and tick the box again."
)


def _erase_page(
    request: Request,
    session: Session,
    user: User,
    mediator_id: int,
    *,
    now: datetime,
    settings: Settings,
    form: EntryForm | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    mediator = _live(session, mediator_id)
    jobs, running = _jobs_held(session, mediator_id=mediator_id, now=now)
    return render(
        request,
        "coordinator/mediator_erase.html",
        {
            "m": mediator,
            "jobs": jobs,
            "running": running,
            "owed": flows.owed_to(session, mediator_id=mediator_id, now=now, settings=settings),
            "form": form or EntryForm(),
        },
        status_code=status_code,
        user=user,
    )


@router.get("/{mediator_id}/erase", response_class=HTMLResponse)
def confirm_erase(
    request: Request,
    mediator_id: IdPath,
    session: SessionDep,
    user: CoordinatorPageUser,
    clock: ClockDep,
    settings: SettingsDep,
) -> HTMLResponse:
    """What erasing will do, before it is done: what goes, which jobs go out again, and
    what Sprachpool still owes the mediator (then erasing needs a ticked box)."""
    return _erase_page(request, session, user, mediator_id, now=clock.now(), settings=settings)


def _euros(shown: str) -> Decimal | None:
    """The amount the erase page showed (its hidden field; none: no pin); a mangled one
    matches no amount, so the page asks again."""
    if not shown.strip():
        return None
    try:
        return Decimal(shown)
    except InvalidOperation:
        return Decimal(-1)


@router.post("/{mediator_id}/erase", dependencies=[CsrfChecked])
def erase(
    request: Request,
    mediator_id: IdPath,
    session: SessionDep,
    user: CoordinatorPageUser,
    clock: ClockDep,
    settings: SettingsDep,
    confirm_unpaid: Annotated[str, Form(max_length=10)] = "",
    owed_euros: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    _live(session, mediator_id)
    try:
        flows.erase_mediator(
            session,
            mediator_id=mediator_id,
            actor=user,
            now=clock.now(),
            settings=settings,
            unpaid_confirmed=confirm_unpaid == "yes",
            # The yes covers what the page showed: a job approved meanwhile asks again.
            confirmed_euros=_euros(owed_euros),
        )
    except AllowanceOwed as exc:
        form = EntryForm()
        form.error(exc.FIELD, Text(UNPAID_CHANGED if exc.stale else UNPAID_NOT_CONFIRMED))
        return _erase_page(
            request,
            session,
            user,
            mediator_id,
            now=clock.now(),
            settings=settings,
            form=form,
            status_code=422,
        )
    return RedirectResponse("/dashboard/pool?erased=true", status_code=303)
