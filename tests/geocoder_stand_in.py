"""A stand-in for a Nominatim search API on a free 127.0.0.1 port.

The real geopy client talks to it over a real socket, as the Twilio client talks to
its stand-in. Tests register what an address should find (``fake_nominatim.add``)
and how the service should behave (``ok``, ``server_error``, ``slow``, ``garbage``).
The fixture is made available to every test by the root ``conftest.py``.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from config.settings import Settings

Behaviour = Literal["ok", "server_error", "slow", "garbage"]


@dataclass
class FakeNominatim:
    """Answers GET /search?q=...&format=json like Nominatim, from registered addresses."""

    base_url: str = ""
    behaviour: Behaviour = "ok"
    places: list[dict[str, Any]] = field(default_factory=list)
    queries: list[dict[str, str]] = field(default_factory=list)

    def add(
        self,
        query: str,
        *,
        lat: float,
        lon: float,
        road: str,
        house_number: str | None = None,
        postcode: str = "59269",
        town: str = "Beckum",
    ) -> None:
        """Every search whose text contains ``query`` (case-insensitive) finds this place."""
        street = f"{road} {house_number}" if house_number else road
        address: dict[str, str] = {"road": road, "postcode": postcode, "town": town}
        if house_number:
            address["house_number"] = house_number
        self.places.append(
            {
                "key": query.casefold(),
                "place_id": len(self.places) + 1,
                "lat": f"{lat:.7f}",
                "lon": f"{lon:.7f}",
                "display_name": f"{street}, {postcode} {town}, Deutschland",
                "address": address,
                "class": "building",
                "type": "house",
            }
        )

    def reset(self) -> None:
        self.behaviour = "ok"
        self.places.clear()
        self.queries.clear()


def _build_app(state: FakeNominatim) -> Starlette:
    async def search(request: Request) -> Response:
        params = dict(request.query_params)
        state.queries.append(params)
        if state.behaviour == "server_error":
            return PlainTextResponse("Internal Server Error", status_code=500)
        if state.behaviour == "slow":
            await asyncio.sleep(2.0)  # longer than the tests' geocoder timeout
        if state.behaviour == "garbage":
            return PlainTextResponse("<html>maintenance</html>", status_code=200)
        wanted = params.get("q", "").casefold()
        limit = int(params.get("limit", "10"))
        found = [
            {k: v for k, v in place.items() if k != "key"}
            for place in state.places
            if place["key"] in wanted or wanted in place["key"]
        ]
        return JSONResponse(found[:limit])

    return Starlette(routes=[Route("/search", search, methods=["GET"])])


@pytest.fixture(scope="session")
def _nominatim_server() -> Iterator[FakeNominatim]:
    state = FakeNominatim()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        _build_app(state), log_level="warning", lifespan="off", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the Nominatim stand-in did not start")
        threading.Event().wait(0.01)
    state.base_url = f"http://127.0.0.1:{port}"
    yield state
    server.should_exit = True
    thread.join(timeout=5)
    sock.close()


@pytest.fixture
def fake_nominatim(_nominatim_server: FakeNominatim) -> Iterator[FakeNominatim]:
    """The stand-in, emptied: register addresses with ``fake_nominatim.add(...)``."""
    _nominatim_server.reset()
    yield _nominatim_server
    _nominatim_server.reset()


@pytest.fixture
def geocoding_settings(settings: Settings, fake_nominatim: FakeNominatim) -> Settings:
    """The test settings, asking the stand-in and giving up on it quickly; a test module
    whose app should geocode overrides its ``settings`` fixture with this one."""
    return settings.model_copy(
        update={"geocoder_url": fake_nominatim.base_url, "geocoder_timeout_seconds": 0.5}
    )
