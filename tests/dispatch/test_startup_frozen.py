"""A serving process's garbage collector: start-up frozen, young collections less often.

A full collection walks every tracked object and stops every request in
flight while it does; start-up's modules, routes and catalogs would be most
of what it walks, every time (see `dispatch.app.collector_for_serving`).
"""

from __future__ import annotations

import gc

from fastapi import FastAPI
from fastapi.testclient import TestClient

from dispatch.app import YOUNG_COLLECTION_EVERY


def test_start_up_freezes_what_it_built_and_shutdown_lets_it_go(app: FastAPI) -> None:
    gc.unfreeze()  # whatever an earlier test left
    before = gc.get_threshold()
    assert before[0] != YOUNG_COLLECTION_EVERY
    with TestClient(app) as client:
        assert client.get("/health").status_code == 200
        assert gc.get_freeze_count() > 50_000  # the modules alone are more
        assert gc.get_threshold() == (YOUNG_COLLECTION_EVERY, *before[1:])
    assert gc.get_freeze_count() == 0  # back under the collector, as in tests that follow
    assert gc.get_threshold() == before
