"""The coordinator's pages for places: list, add, edit, deactivate.

An address is looked up with the geocoder (``dispatch/geocoding.py``) and the
matches are shown to pick from, so nobody types coordinates; without a geocoder,
or when it fails, the point can be given by latitude and longitude. Everything
works without JavaScript: searching is a submit button of the same form.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dispatch.deps import ClockDep, IdPath, SessionDep, SettingsDep
from dispatch.errors import Conflict
from dispatch.geocoding import GeocoderUnavailable, geocoder_from_settings, pool_area
from dispatch.places import service
from dispatch.places.models import Place
from dispatch.places.schemas import PlaceCreate, PlaceUpdate
from dispatch.web.auth import CoordinatorPageUser, CsrfChecked
from dispatch.web.rendering import render
from dispatch.web.schema_forms import EntryForm, domain_error, optional_number, validate
from locales import N_, Text

router = APIRouter(prefix="/dashboard/places", include_in_schema=False)

FIELDS = ("name", "address", "contact_hint", "lat", "lon", "match")
FIELD_MESSAGES = {
    "name": N_("Please give the place a name, e.g. Rathaus Beckum."),
    "lat": N_("Please pick a match of the address search, or give the latitude, e.g. 51.7553."),
    "lon": N_("Please pick a match of the address search, or give the longitude, e.g. 8.0403."),
}


@dataclass(frozen=True)
class Candidate:
    """One match of the address search, as the form offers it to pick."""

    value: str
    label: str
    lat: float
    lon: float
    in_area: bool


def _form_of(place: Place) -> EntryForm:
    return EntryForm(
        values={
            "name": place.name,
            "address": place.address or "",
            "contact_hint": place.contact_hint or "",
            "lat": f"{place.lat:.6f}",
            "lon": f"{place.lon:.6f}",
        }
    )


def _short_address(label: str, street: str | None, postcode: str | None, town: str | None) -> str:
    """ "Weststraße 46, 59269 Beckum" when the geocoder knows the parts, else its label."""
    if street and town:
        return f"{street}, {postcode} {town}" if postcode else f"{street}, {town}"
    return label[:300]


def _search(settings: SettingsDep, form: EntryForm) -> tuple[list[Candidate], str | None]:
    """Matches for the typed address, and what went wrong ("none", "off", "down") if anything."""
    geocoder = geocoder_from_settings(settings)
    if geocoder is None:
        return [], "off"
    if not form.get("address"):
        form.error("address", Text(N_("Please type the address to search for.")))
        return [], None
    try:
        matches = geocoder.search(form.get("address"))
    except GeocoderUnavailable:
        return [], "down"
    area = pool_area(settings)
    found = [
        Candidate(
            value=f"{m.lat:.7f};{m.lon:.7f};"
            + _short_address(m.label, m.street, m.postcode, m.town),
            label=m.label,
            lat=m.lat,
            lon=m.lon,
            in_area=area.contains(m.lat, m.lon),
        )
        for m in matches
    ]
    return found, (None if found else "none")


def _body(form: EntryForm) -> dict[str, Any]:
    """The API's body from the form: a picked match gives the point and the address."""
    address, lat, lon = form.get("address"), form.get("lat"), form.get("lon")
    if form.get("match"):
        parts = form.get("match").split(";", 2)
        if len(parts) == 3:
            lat, lon, address = parts
    return {
        "name": form.get("name"),
        "address": address or None,
        "contact_hint": form.get("contact_hint") or None,
        "lat": optional_number(lat),
        "lon": optional_number(lon),
    }


def _page(
    request: Request,
    user: CoordinatorPageUser,
    settings: SettingsDep,
    form: EntryForm,
    *,
    place: Place | None = None,
    candidates: list[Candidate] | None = None,
    search_problem: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "staff/place_form.html",
        {
            "form": form,
            "place": place,
            "candidates": candidates or [],
            "search_problem": search_problem,
            "geocoder": settings.geocoder_url is not None and settings.geocoder_url != "",
        },
        status_code=status_code,
        user=user,
    )


async def _typed(request: Request) -> tuple[EntryForm, str]:
    raw = await request.form()
    values = {name: str(raw.get(name, "")).strip() for name in FIELDS}
    return EntryForm(values=values), str(raw.get("action", "save"))


@router.get("", response_class=HTMLResponse)
def places(
    request: Request,
    session: SessionDep,
    user: CoordinatorPageUser,
    show: str = "active",
    saved: int | None = None,
) -> HTMLResponse:
    everything = show == "all"
    return render(
        request,
        "staff/places.html",
        {
            "places": service.list_places(session, include_inactive=everything),
            "show": "all" if everything else "active",
            "saved": saved,
        },
        user=user,
    )


@router.get("/new", response_class=HTMLResponse)
def new_place(request: Request, user: CoordinatorPageUser, settings: SettingsDep) -> HTMLResponse:
    return _page(request, user, settings, EntryForm())


@router.post("/new", dependencies=[CsrfChecked])
async def add_place(
    request: Request,
    session: SessionDep,
    user: CoordinatorPageUser,
    clock: ClockDep,
    settings: SettingsDep,
) -> Response:
    form, action = await _typed(request)
    if action == "search":
        found, problem = _search(settings, form)
        return _page(request, user, settings, form, candidates=found, search_problem=problem)
    data = validate(form, PlaceCreate, _body(form), field_messages=FIELD_MESSAGES)
    if data is None:
        return _page(request, user, settings, form, status_code=422)
    try:
        place = service.create_place(session, data=data, actor=user, now=clock.now())
    except Conflict as exc:
        session.rollback()
        domain_error(form, exc)
        return _page(request, user, settings, form, status_code=409)
    return RedirectResponse(f"/dashboard/places?saved={place.id}", status_code=303)


@router.get("/{place_id}", response_class=HTMLResponse)
def edit_place(
    request: Request,
    place_id: IdPath,
    session: SessionDep,
    user: CoordinatorPageUser,
    settings: SettingsDep,
) -> HTMLResponse:
    place = service.get_place(session, place_id=place_id)
    return _page(request, user, settings, _form_of(place), place=place)


@router.post("/{place_id}", dependencies=[CsrfChecked])
async def save_place(
    request: Request,
    place_id: IdPath,
    session: SessionDep,
    user: CoordinatorPageUser,
    clock: ClockDep,
    settings: SettingsDep,
) -> Response:
    place = service.get_place(session, place_id=place_id)
    form, action = await _typed(request)
    if action == "search":
        found, problem = _search(settings, form)
        return _page(
            request, user, settings, form, place=place, candidates=found, search_problem=problem
        )
    body = _body(form)
    data = validate(
        form, PlaceUpdate, {**body, "name": body["name"] or ""}, field_messages=FIELD_MESSAGES
    )
    if data is not None and (data.lat is None or data.lon is None):
        form.error("lat" if data.lat is None else "lon", Text(FIELD_MESSAGES["lat"]))
        data = None
    if data is None:
        return _page(request, user, settings, form, place=place, status_code=422)
    try:
        service.update_place(session, place_id=place_id, data=data, actor=user, now=clock.now())
    except Conflict as exc:
        session.rollback()
        domain_error(form, exc)
        return _page(request, user, settings, form, place=place, status_code=409)
    return RedirectResponse(f"/dashboard/places?saved={place_id}", status_code=303)


@router.post("/{place_id}/active", dependencies=[CsrfChecked])
def set_active(
    place_id: IdPath,
    session: SessionDep,
    user: CoordinatorPageUser,
    clock: ClockDep,
    active: Annotated[str, Form(max_length=5)] = "false",
) -> Response:
    """Deactivate (the place leaves the lists; old requests keep it) or bring it back."""
    service.deactivate_place(
        session, place_id=place_id, actor=user, now=clock.now(), active=active == "true"
    )
    return RedirectResponse(f"/dashboard/places?show=all&saved={place_id}", status_code=303)
