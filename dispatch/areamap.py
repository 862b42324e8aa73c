"""The pool's area as a picture: pixels to points and back (a pure module).

Where no geocoder answers, a person sets a point by clicking a map of the pool's
area (an ``<input type="image">``, so it works without JavaScript: the browser
sends the click's x and y). The map is drawn by the service itself, no tiles
from the network: the pool's circle, a grid and the known places. This module
is the projection both the drawing and the reading of a click use, so a click
lands where the picture showed it.

The projection is equirectangular around the pool's centre (longitude scaled by
the cosine of the centre's latitude): over a county's thirty kilometres it is
off by well under a hundred metres, finer than a click.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: Kilometres per degree of latitude (mean), and of longitude at the equator.
KM_PER_DEG_LAT = 111.195
#: The picture shows this much more than the circle, so its edge can be clicked.
MARGIN = 1.1


@dataclass(frozen=True)
class AreaMap:
    """A square picture of ``size`` pixels centred on the pool, showing its circle."""

    centre_lat: float
    centre_lon: float
    radius_km: float
    size: int = 480

    @property
    def km_per_px(self) -> float:
        return 2 * self.radius_km * MARGIN / self.size

    @property
    def radius_px(self) -> float:
        return self.radius_km / self.km_per_px

    def _km_per_deg_lon(self) -> float:
        return KM_PER_DEG_LAT * math.cos(math.radians(self.centre_lat))

    def to_pixel(self, lat: float, lon: float) -> tuple[float, float]:
        """Where a point is drawn: x to the east, y to the south, from the top left."""
        east_km = (lon - self.centre_lon) * self._km_per_deg_lon()
        north_km = (lat - self.centre_lat) * KM_PER_DEG_LAT
        half = self.size / 2
        return half + east_km / self.km_per_px, half - north_km / self.km_per_px

    def to_point(self, x: float, y: float) -> tuple[float, float]:
        """The point under a pixel (lat, lon), rounded to about a metre."""
        half = self.size / 2
        east_km = (x - half) * self.km_per_px
        north_km = (half - y) * self.km_per_px
        lat = self.centre_lat + north_km / KM_PER_DEG_LAT
        lon = self.centre_lon + east_km / self._km_per_deg_lon()
        return round(lat, 5), round(lon, 5)

    def pixel_inside(self, x: float, y: float) -> bool:
        """Whether a click lies within the pool's circle as drawn (its edge included)."""
        half = self.size / 2
        return math.hypot(x - half, y - half) <= self.radius_px + 0.5

    def click(self, x: float, y: float) -> tuple[float, float] | None:
        """The point of a click on the picture; None outside the picture or the circle."""
        if not (0 <= x <= self.size and 0 <= y <= self.size) or not self.pixel_inside(x, y):
            return None
        return self.to_point(x, y)

    def grid_lines(self, step_km: float = 5.0) -> list[float]:
        """Pixel offsets of grid lines every ``step_km`` from the centre, within the picture."""
        half = self.size / 2
        step_px = step_km / self.km_per_px
        count = int(half // step_px)
        return [half + i * step_px for i in range(-count, count + 1)]
