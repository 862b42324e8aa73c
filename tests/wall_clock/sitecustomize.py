"""Moves the wall clock of Python subprocesses started by the tests (`pytest --wall-clock`).

pytest puts this folder on PYTHONPATH only when `--wall-clock` is given, so a
`sprachpool serve` started by a test lives at the same shifted hour as the test
run itself: the destination plus the real time elapsed since the run began.
Monotonic clocks are untouched, so sleeps, timeouts and event loops behave.
"""

from __future__ import annotations

import os

_setting = os.environ.get("SPRACHPOOL_TEST_WALL_CLOCK")
if _setting:
    import time
    from datetime import datetime, timedelta

    import time_machine

    _destination, _, _real_start = _setting.partition("@")
    _shifted = datetime.fromisoformat(_destination) + timedelta(
        seconds=time.time() - float(_real_start)
    )
    time_machine.travel(_shifted, tick=True).start()
