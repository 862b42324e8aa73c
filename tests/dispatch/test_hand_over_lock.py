"""The SQLite writer queue's lock goes to whoever waited longest, never to a newcomer."""

from __future__ import annotations

import threading

from dispatch.storage import HandOverLock
from tests.conftest import wait_until


def test_a_released_lock_goes_to_the_waiter_not_back_to_the_releasing_thread() -> None:
    lock = HandOverLock()
    assert lock.acquire()
    got: list[str] = []
    waiter = threading.Thread(target=lambda: got.append("waiter") if lock.acquire() else None)
    waiter.start()
    wait_until(lambda: lock.waiting() == 1)

    lock.release()
    # A plain threading.Lock is free here, and the releasing thread takes it again.
    assert not lock.acquire(timeout=0)
    waiter.join(5)
    assert got == ["waiter"]
    assert lock.locked()
    lock.release()
    assert not lock.locked()


def test_waiters_get_the_lock_in_the_order_they_asked() -> None:
    lock = HandOverLock()
    assert lock.acquire()
    order: list[int] = []

    def take(n: int) -> None:
        assert lock.acquire(timeout=5)
        order.append(n)
        lock.release()

    threads: list[threading.Thread] = []
    for n in range(6):
        thread = threading.Thread(target=take, args=(n,))
        thread.start()
        wait_until(lambda: lock.waiting() == len(threads) + 1)
        threads.append(thread)
    lock.release()
    for thread in threads:
        thread.join(5)
    assert order == list(range(6))
    assert not lock.locked()


def test_a_waiter_that_gives_up_leaves_the_queue() -> None:
    lock = HandOverLock()
    assert lock.acquire()
    assert not lock.acquire(timeout=0.05)
    assert lock.waiting() == 0
    lock.release()
    assert not lock.locked()
    assert lock.acquire(timeout=0)
