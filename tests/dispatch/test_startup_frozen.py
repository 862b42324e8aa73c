"""What a started service built stays out of Python's full collections while it runs.

A full collection walks every tracked object and stops every request in
flight while it does; start-up's modules, routes and catalogs would be most
of what it walks, every time (see `create_app`'s lifespan).
"""

from __future__ import annotations

import gc

from fastapi import FastAPI
from fastapi.testclient import TestClient


def test_start_up_freezes_what_it_built_and_shutdown_lets_it_go(app: FastAPI) -> None:
    gc.unfreeze()  # whatever an earlier test left
    with TestClient(app) as client:
        assert client.get("/health").status_code == 200
        assert gc.get_freeze_count() > 50_000  # the modules alone are more
    assert gc.get_freeze_count() == 0  # back under the collector, as in tests that follow
