"""The coordinator's pages for places: list, add, edit, deactivate.

An address is looked up with the geocoder (``dispatch/geocoding.py``) and the
matches are shown to pick from, so nobody types coordinates; without a geocoder,
or when it fails, the point can be given by latitude and longitude. Everything
works without JavaScript: searching is a submit button of the same form.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from dispatch.deps import ClockDep, IdPath, SessionDep, SettingsDep, get_settings
from dispatch.errors import Conflict, InvalidInput
from dispatch.geocoding import (
    Candidate,
    GeocoderUnavailable,
    geocoder_from_settings,
    parse_choice,
    pool_area,
    search_area,
)
from dispatch.places import flows, service
from dispatch.places.models import Place
from dispatch.places.schemas import PlaceCreate, PlaceUpdate
from dispatch.web import maps
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


def _search(settings: SettingsDep, form: EntryForm) -> tuple[list[Candidate], str | None]:
    """Matches for the typed address, and what went wrong ("none", "off", "down") if anything."""
    geocoder = geocoder_from_settings(settings)
    if geocoder is None:
        return [], "off"
    if not form.get("address"):
        form.error("address", Text(N_("Please type the address to search for.")))
        return [], None
    try:
        found = search_area(geocoder, pool_area(settings), form.get("address"))
    except GeocoderUnavailable:
        return [], "down"
    return found, (None if found else "none")


def _body(form: EntryForm) -> dict[str, Any]:
    """The API's body from the form: a picked match gives the point and the address."""
    address, lat, lon = form.get("address"), form.get("lat"), form.get("lon")
    chosen = parse_choice(form.get("match"))
    if chosen is not None:
        lat, lon, address = f"{chosen[0]}", f"{chosen[1]}", chosen[2]
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
            "map_pictures": maps.MAP_PICTURES,
        },
        status_code=status_code,
        user=user,
    )


async def _typed(request: Request) -> tuple[EntryForm, str]:
    """The form as sent and what to do: "save", "search", or "point" (a click on the map,
    whose point is put into latitude and longitude to confirm by saving)."""
    raw = await request.form()
    values = {name: str(raw.get(name, "")).strip() for name in FIELDS}
    form = EntryForm(values=values)
    click = maps.clicked_point({k: str(v) for k, v in raw.items()}, get_settings(request))
    if click == "outside":
        form.error(
            "lat", Text(N_("Please click inside the circle: the pool serves only that area."))
        )
        return form, "point"
    if click is not None:
        form.values.update(lat=f"{click[0]}", lon=f"{click[1]}", match="")
        return form, "point"
    return form, str(raw.get("action", "save"))


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
        # The geocoder answers over the network: off the event loop.
        found, problem = await run_in_threadpool(_search, settings, form)
        return _page(request, user, settings, form, candidates=found, search_problem=problem)
    if action == "point":
        return _page(request, user, settings, form, status_code=422 if form.errors else 200)
    data = validate(form, PlaceCreate, _body(form), field_messages=FIELD_MESSAGES)
    if data is None:
        return _page(request, user, settings, form, status_code=422)
    try:
        place = service.create_place(
            session, data=data, actor=user, now=clock.now(), settings=settings
        )
    except (Conflict, InvalidInput) as exc:
        session.rollback()
        domain_error(form, exc)
        return _page(request, user, settings, form, status_code=exc.status_code)
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
        # The geocoder answers over the network: off the event loop.
        found, problem = await run_in_threadpool(_search, settings, form)
        return _page(
            request, user, settings, form, place=place, candidates=found, search_problem=problem
        )
    if action == "point":
        status_code = 422 if form.errors else 200
        return _page(request, user, settings, form, place=place, status_code=status_code)
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
        flows.change_place(
            session, place_id=place_id, data=data, actor=user, now=clock.now(), settings=settings
        )
    except (Conflict, InvalidInput) as exc:
        session.rollback()
        domain_error(form, exc)
        return _page(request, user, settings, form, place=place, status_code=exc.status_code)
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
