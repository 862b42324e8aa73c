"""HiGHS (highspy) made safe to use on both sides of a fork.

HiGHS runs its parallel parts on one scheduler of worker threads per
process, started by the first solve. A process forked after that (Python's
`multiprocessing` with the "fork" start method, a pre-forking server) has a
copy of the scheduler's state but none of its threads, and its first solve
waits for them forever: the congested city's bench, which runs each planner
in a forked child, had the engine and the HiGHS peer stopped at their caps
once an earlier instance's bounds had used HiGHS in the parent. The child
starts a scheduler of its own instead (`resetGlobalScheduler`, not waiting
for threads that are not there).
"""

from __future__ import annotations

import os

import highspy


def _fresh_scheduler_after_fork() -> None:
    highspy.Highs.resetGlobalScheduler(False)


os.register_at_fork(after_in_child=_fresh_scheduler_after_fork)

__all__ = ["highspy"]
