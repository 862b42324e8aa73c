"""Street addresses to points, through a Nominatim-compatible search API (geopy).

Caseworkers and coordinators type addresses, never coordinates. The service asks
the geocoder at ``GEOCODER_URL`` (OpenStreetMap's Nominatim, or a deployment's own
instance), shows the matches to confirm, and keeps the point and the street. The
town's pool serves one area (``POOL_CENTRE_LAT/LON`` and ``POOL_RADIUS_KM``): a match
outside it is reported as such, so a typo that lands in another Beckum-Straße
three hundred kilometres away is caught before anyone drives there.

Failures of the provider (down, slow, refusing) become one exception,
:class:`GeocoderUnavailable`, so callers can offer the fallback (pick a place, set
a point) instead of answering 500.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol
from urllib.parse import urlsplit

from geopy.exc import GeopyError
from geopy.geocoders import Nominatim

from config.settings import Settings
from dispatch.errors import InvalidInput
from locales import N_
from matching.feasibility import great_circle_km
from matching.model import Location

#: What a refused point says, by its reason code, for the forms and the import (msgids).
POINT_MESSAGES = {
    "null_island": N_(
        "Latitude 0, longitude 0 lies in the Gulf of Guinea: what a device or an address "
        "search sends when it has no point. Please give the real point."
    ),
    "point_too_far": N_(
        "This point lies %(distance_km)s km from the pool's centre; points more than "
        "%(max_km)s km away are refused. Are latitude and longitude swapped?"
    ),
}


@dataclass(frozen=True)
class GeocodeMatch:
    """One candidate for a typed address: the provider's label and its point."""

    label: str
    lat: float
    lon: float
    #: Street and house number as the provider spells them, when it knows them.
    street: str | None = None
    postcode: str | None = None
    town: str | None = None


class GeocoderUnavailable(Exception):
    """The geocoder could not answer (down, timed out, refused): offer the fallback."""


class Geocoder(Protocol):
    def search(self, query: str, *, limit: int = 5) -> list[GeocodeMatch]:
        """Matches for a free-text address, best first; empty when nothing matches."""
        ...


@dataclass(frozen=True)
class PoolArea:
    """The circle the pool serves: matches outside it are flagged, not silently used."""

    centre_lat: float
    centre_lon: float
    radius_km: float

    def contains(self, lat: float, lon: float) -> bool:
        centre = Location(self.centre_lat, self.centre_lon)
        return great_circle_km(centre, Location(lat, lon)) <= self.radius_km


class NominatimGeocoder:
    """geopy's Nominatim client pointed at ``url`` (scheme, host, port and path prefix)."""

    def __init__(
        self,
        url: str,
        *,
        user_agent: str,
        timeout_seconds: float = 5.0,
        country_codes: str | None = "de",
        area: PoolArea | None = None,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"GEOCODER_URL must be an http(s) URL, not {url!r}")
        # geopy builds "<scheme>://<domain>/search": a path prefix rides on the domain.
        domain = parts.netloc + parts.path.rstrip("/")
        self._client = Nominatim(
            domain=domain, scheme=parts.scheme, user_agent=user_agent, timeout=timeout_seconds
        )
        self._country_codes = country_codes
        self._area = area

    def search(self, query: str, *, limit: int = 5) -> list[GeocodeMatch]:
        query = query.strip()
        if not query:
            return []
        viewbox = None
        if self._area is not None:
            # Prefer (not restrict to) the pool's area, so the nearest namesake comes first.
            d = self._area.radius_km / 111.0
            viewbox = [
                (self._area.centre_lat - d, self._area.centre_lon - 1.6 * d),
                (self._area.centre_lat + d, self._area.centre_lon + 1.6 * d),
            ]
        try:
            found = self._client.geocode(
                query,
                exactly_one=False,
                limit=limit,
                addressdetails=True,
                country_codes=self._country_codes,
                viewbox=viewbox,
                bounded=False,
                language="de",
            )
        except GeopyError as exc:
            raise GeocoderUnavailable(str(exc)) from exc
        except (ValueError, TypeError) as exc:  # a malformed answer from the provider
            raise GeocoderUnavailable(f"unreadable answer: {exc}") from exc
        matches = [_match(location.raw) for location in (found or [])]
        # (0, 0) is a provider's "no point", never an address (dispatch.validation.Point).
        return [m for m in matches if (m.lat, m.lon) != (0, 0)]


def _match(raw: dict[str, object]) -> GeocodeMatch:
    address = raw.get("address")
    details: dict[str, object] = address if isinstance(address, dict) else {}

    def text(*keys: str) -> str | None:
        for key in keys:
            value = details.get(key)
            if isinstance(value, str) and value:
                return value
        return None

    road = text("road", "pedestrian", "footway", "square")
    number = text("house_number")
    street = f"{road} {number}" if road and number else road
    return GeocodeMatch(
        label=str(raw.get("display_name", "")),
        lat=float(str(raw["lat"])),
        lon=float(str(raw["lon"])),
        street=street,
        postcode=text("postcode"),
        town=text("city", "town", "village", "municipality"),
    )


def pool_area(settings: Settings) -> PoolArea:
    return PoolArea(settings.pool_centre_lat, settings.pool_centre_lon, settings.pool_radius_km)


def check_within_reach(lat: float, lon: float, *, settings: Settings, field: str) -> None:
    """Refuse a point farther than POINT_MAX_DISTANCE_KM from the pool's centre (`field`
    names it in the error): a swapped latitude and longitude or a point from another
    country would make every travel time to it nonsense. Points between the pool's area
    and this limit are fine (a home in the next town); only the typed address search
    flags them."""
    centre = Location(settings.pool_centre_lat, settings.pool_centre_lon)
    distance = great_circle_km(centre, Location(lat, lon))
    if distance > settings.point_max_distance_km:
        shown = {"distance_km": round(distance), "max_km": round(settings.point_max_distance_km)}
        raise InvalidInput(
            "This point lies {distance_km} km from the pool's centre; points more than "
            "{max_km} km away are refused (latitude and longitude swapped?).".format(**shown),
            field=field,
            reason="point_too_far",
            params=shown,
        )


def geocoder_from_settings(settings: Settings) -> Geocoder | None:
    """The configured geocoder, or None: then people pick a place or set a point."""
    if not settings.geocoder_url:
        return None
    return NominatimGeocoder(
        settings.geocoder_url,
        user_agent=settings.geocoder_user_agent,
        timeout_seconds=settings.geocoder_timeout_seconds,
        country_codes=settings.geocoder_country_codes or None,
        area=pool_area(settings),
    )


def short_address(match: GeocodeMatch) -> str:
    """ "Weststraße 46, 59269 Beckum" when the geocoder knows the parts, else its label."""
    if match.street and match.town:
        if match.postcode:
            return f"{match.street}, {match.postcode} {match.town}"
        return f"{match.street}, {match.town}"
    return match.label[:300]


@dataclass(frozen=True)
class Candidate:
    """A match of a typed address, as it is offered to confirm."""

    match: GeocodeMatch
    in_area: bool

    @property
    def address(self) -> str:
        return short_address(self.match)

    @property
    def value(self) -> str:
        """The match as one form value: "lat;lon;street" (what a confirm button sends)."""
        return f"{self.match.lat:.7f};{self.match.lon:.7f};{self.address}"


#: What a search came to: one match in the area, several, only outside, none.
Verdict = Literal["found", "ambiguous", "outside", "none"]


def search_area(geocoder: Geocoder, area: PoolArea, query: str) -> list[Candidate]:
    """Every match of the typed address, each marked inside or outside the pool's area.

    Raises :class:`GeocoderUnavailable` when the provider does not answer.
    """
    return [Candidate(match=m, in_area=area.contains(m.lat, m.lon)) for m in geocoder.search(query)]


def verdict(candidates: list[Candidate]) -> Verdict:
    """Whether the matches settle the address: exactly one inside the area does."""
    inside = [c for c in candidates if c.in_area]
    if len(inside) == 1:
        return "found"
    if len(inside) > 1:
        return "ambiguous"
    return "outside" if candidates else "none"


def parse_choice(value: str) -> tuple[float, float, str] | None:
    """A confirmed match back from its form value ("lat;lon;street"), or None if mangled."""
    parts = value.split(";", 2)
    if len(parts) != 3:
        return None
    try:
        lat, lon = float(parts[0]), float(parts[1])
    except ValueError:
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or not parts[2].strip():
        return None
    return lat, lon, parts[2].strip()[:300]
