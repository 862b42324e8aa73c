"""Which handler performs which kind of deadline; each domain registers its own.

A domain's ``scheduled.py`` decorates one function per kind::

    @deadlines.registry.handles(OfferDeadlineKind.reminder)
    def remind(session, deadline, *, now, settings) -> str: ...

and ``dispatch/scheduler.py`` imports every ``scheduled`` module, so the
runner knows them all before it fires anything.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from sqlmodel import Session

from config.settings import Settings
from dispatch.deadlines.models import Deadline


class DeadlineHandler(Protocol):
    """Performs one deadline inside the runner's transaction; returns what happened."""

    def __call__(
        self, session: Session, deadline: Deadline, *, now: datetime, settings: Settings
    ) -> str: ...


class UnknownDeadlineKind(LookupError):
    """A due deadline whose kind no domain registered (its ``scheduled`` module not imported?)."""


_handlers: dict[str, DeadlineHandler] = {}


def handles(kind: str) -> Callable[[DeadlineHandler], DeadlineHandler]:
    """Register the decorated function as the handler of `kind`; one handler per kind."""

    def register(handler: DeadlineHandler) -> DeadlineHandler:
        known = _handlers.get(kind)
        if known is not None and known is not handler:
            raise ValueError(f"deadline kind {kind!r} already has a handler: {known!r}")
        _handlers[kind] = handler
        return handler

    return register


def handler_for(kind: str) -> DeadlineHandler:
    try:
        return _handlers[kind]
    except KeyError:
        raise UnknownDeadlineKind(f"no handler registered for deadline kind {kind!r}") from None


def registered_kinds() -> frozenset[str]:
    return frozenset(_handlers)
