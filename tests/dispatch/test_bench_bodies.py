"""The intake benches file requests the service accepts.

The benches build their requests themselves; when validation grows a rule
(on 2026-12-01 a video job came to need its link), a bench that still sends
the old shape measures nothing but 422s or stops at its first filing. This
pins the bench's request mix to the schema the service validates against.
"""

from __future__ import annotations

import importlib.util
import random
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

from dispatch.requests.schemas import RequestCreate

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _bench_intake() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "bench_intake_under_test", BENCH / "bench_intake.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_every_request_the_intake_bench_files_passes_validation() -> None:
    bench_intake = _bench_intake()
    rng = random.Random(11)
    now = datetime(2026, 12, 1, 7, 30, tzinfo=UTC)
    modes = set()
    for _ in range(600):
        body = bench_intake.request_body(rng, [1, 2, 3], now)
        request = RequestCreate.model_validate(body)
        modes.add(request.mode.value)
    assert modes == {"in_person", "phone", "video"}
