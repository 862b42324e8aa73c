"""The map of the pool's area: a click becomes the point the picture showed there."""

from __future__ import annotations

import pytest

from dispatch.areamap import AreaMap
from dispatch.geocoding import PoolArea
from matching.feasibility import great_circle_km
from matching.model import Location

BECKUM = AreaMap(51.7556, 8.0408, 30.0, size=480)


@pytest.mark.parametrize(
    ("lat", "lon"), [(51.7556, 8.0408), (51.75534, 8.03725), (51.9, 7.8), (51.6, 8.3)]
)
def test_a_point_drawn_and_clicked_is_the_same_point(lat: float, lon: float) -> None:
    x, y = BECKUM.to_pixel(lat, lon)
    assert BECKUM.to_point(x, y) == pytest.approx((lat, lon), abs=1e-5)


def test_the_centre_of_the_picture_is_the_pool_centre() -> None:
    assert BECKUM.to_pixel(51.7556, 8.0408) == pytest.approx((240, 240))
    assert BECKUM.click(240, 240) == pytest.approx((51.7556, 8.0408))


def test_north_is_up_and_east_is_right() -> None:
    x_east, y_east = BECKUM.to_pixel(51.7556, 8.2)
    x_north, y_north = BECKUM.to_pixel(51.9, 8.0408)
    assert x_east > 240 and y_east == pytest.approx(240)
    assert y_north < 240 and x_north == pytest.approx(240)


@pytest.mark.parametrize(("dx", "dy"), [(1, 0), (0, -1), (-0.6, 0.8), (0.7071, 0.7071)])
def test_a_click_on_the_edge_of_the_circle_is_inside_and_about_the_radius_away(
    dx: float, dy: float
) -> None:
    r = BECKUM.radius_px
    point = BECKUM.click(240 + dx * r, 240 + dy * r)
    assert point is not None
    assert PoolArea(51.7556, 8.0408, 30.1).contains(*point)
    distance = great_circle_km(Location(51.7556, 8.0408), Location(*point))
    assert distance == pytest.approx(30.0, abs=0.1)


@pytest.mark.parametrize(("x", "y"), [(2, 2), (478, 478), (240 + 230, 240), (-5, 240), (240, 999)])
def test_a_click_outside_the_circle_or_the_picture_is_refused(x: float, y: float) -> None:
    assert BECKUM.click(x, y) is None


def test_the_grid_is_symmetric_around_the_centre() -> None:
    lines = BECKUM.grid_lines(5.0)
    assert 240 in [pytest.approx(v) for v in lines]
    assert len(lines) % 2 == 1
    assert all(0 <= v <= 480 for v in lines)
