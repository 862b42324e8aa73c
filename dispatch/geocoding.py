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
from typing import Protocol
from urllib.parse import urlsplit

from geopy.exc import GeopyError
from geopy.geocoders import Nominatim

from config.settings import Settings
from matching.feasibility import great_circle_km
from matching.model import Location


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
        return [_match(location.raw) for location in (found or [])]


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
