"""The map of the pool's area, drawn here (no tiles from the network), and its clicks.

Forms show it as ``<input type="image" name="map" src="/map.svg">``: a click
submits the form with ``map.x`` and ``map.y``, which :func:`clicked_point` turns
into a point through the projection of ``dispatch/areamap.py``. The page then
marks the point (``/map.svg?mark=lat,lon``) and asks to confirm it. It works
without JavaScript; nothing else is needed.

A browser sends a click in the pixels the picture is shown at, so the map is never
scaled to fit: it comes in two sizes (:data:`MAP_PICTURES`), each drawn as it is and
sent under its own name, and the stylesheet shows the one that fits the screen.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from html import escape
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from config.settings import Settings
from dispatch.areamap import AreaMap
from dispatch.deps import SessionDep, SettingsDep
from dispatch.places.service import list_places
from dispatch.web.auth import staff_page_user

router = APIRouter(include_in_schema=False)

#: The form control's name: the browser sends "map.x" and "map.y".
MAP_INPUT = "map"


@dataclass(frozen=True)
class MapPicture:
    """One size of the map as a form's image button (class ``area-map-<screen>``)."""

    #: The form control's: the browser sends "<name>.x" and "<name>.y".
    name: str
    #: Pixels a side, as drawn and as shown.
    size: int
    #: "wide" or "phone": the stylesheet shows one of them, by the screen's width.
    screen: str


#: The phone's fits a 360 px screen inside the form's margins and frames.
MAP_PICTURES = (MapPicture(MAP_INPUT, 480, "wide"), MapPicture("map_phone", 280, "phone"))


def area_map(settings: Settings, size: int | None = None) -> AreaMap:
    """The pool's area as a picture of ``size`` pixels a side (the wide map's by default)."""
    shape = AreaMap(settings.pool_centre_lat, settings.pool_centre_lon, settings.pool_radius_km)
    return shape if size is None else replace(shape, size=size)


def clicked_point(
    raw: Mapping[str, str], settings: Settings
) -> tuple[float, float] | Literal["outside"] | None:
    """The point a click on the map chose; "outside" off the pool's circle; None: no click."""
    for picture in MAP_PICTURES:
        x, y = raw.get(f"{picture.name}.x"), raw.get(f"{picture.name}.y")
        if x is None or y is None or (x, y) == ("0", "0"):
            # (0, 0) is what a browser sends when Enter submits through the map: no click.
            continue
        try:
            point = area_map(settings, picture.size).click(float(x), float(y))
        except ValueError:
            return "outside"
        return point if point is not None else "outside"
    return None


def _mark(text: str | None) -> tuple[float, float] | None:
    if not text:
        return None
    try:
        lat, lon = (float(part) for part in text.split(",", 1))
    except ValueError:
        return None
    return (lat, lon) if -90 <= lat <= 90 and -180 <= lon <= 180 else None


def draw(
    shape: AreaMap, places: list[tuple[str, float, float]], mark: tuple[float, float] | None
) -> str:
    """The SVG: the pool's circle, a 5 km grid, the known places, and the chosen point."""
    size, half = shape.size, shape.size / 2
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
        f'viewBox="0 0 {size} {size}" font-family="sans-serif" font-size="11">',
        f'<rect width="{size}" height="{size}" fill="#eef1ec"/>',
        f'<circle cx="{half}" cy="{half}" r="{shape.radius_px:.1f}" fill="#ffffff" '
        'stroke="#2d6a4f" stroke-width="2"/>',
    ]
    for offset in shape.grid_lines(5.0):
        parts.append(
            f'<line x1="{offset:.1f}" y1="0" x2="{offset:.1f}" y2="{size}" stroke="#c9d3cc"/>'
            f'<line x1="0" y1="{offset:.1f}" x2="{size}" y2="{offset:.1f}" stroke="#c9d3cc"/>'
        )
    parts.append(
        f'<path d="M{half - 4} {half}h8M{half} {half - 4}v8" stroke="#2d6a4f" stroke-width="1.5"/>'
    )
    # The scale: one grid square is 5 km.
    step = 5.0 / shape.km_per_px
    parts.append(
        f'<path d="M10 {size - 12}h{step:.1f}" stroke="#333" stroke-width="2"/>'
        f'<text x="10" y="{size - 16}">5 km</text>'
    )
    for name, lat, lon in places:
        x, y = shape.to_pixel(lat, lon)
        if 0 <= x <= size and 0 <= y <= size:
            parts.append(
                f'<rect x="{x - 3:.1f}" y="{y - 3:.1f}" width="6" height="6" fill="#1d3557"/>'
                f'<text x="{x + 6:.1f}" y="{y + 4:.1f}" fill="#1d3557">{escape(name)}</text>'
            )
    if mark is not None:
        x, y = shape.to_pixel(*mark)
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="7" fill="#d62828" fill-opacity="0.85" '
            'stroke="#ffffff" stroke-width="2"/>'
        )
    parts.append("</svg>")
    return "".join(parts)


SMALLEST = min(picture.size for picture in MAP_PICTURES)
LARGEST = max(picture.size for picture in MAP_PICTURES)


@router.get("/map.svg", dependencies=[Depends(staff_page_user)])
def map_picture(
    session: SessionDep,
    settings: SettingsDep,
    mark: Annotated[str | None, Query(max_length=60)] = None,
    size: Annotated[int | None, Query(ge=SMALLEST, le=LARGEST)] = None,
) -> Response:
    """The map of the pool's area with its places; `mark=lat,lon` shows a chosen point;
    `size` in pixels, so that a smaller map keeps its names legible."""
    places = [(p.name, p.lat, p.lon) for p in list_places(session)]
    return Response(
        draw(area_map(settings, size), places, _mark(mark)),
        media_type="image/svg+xml",
        headers={"Cache-Control": "private, max-age=60"},
    )
