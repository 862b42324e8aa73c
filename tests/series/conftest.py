"""The dispatch workflow's fixtures: a Tigrinya pool, the outbox, a clock that fires deadlines."""

from tests.offers.conftest import (  # noqa: F401 - fixtures are found by name
    advance,
    make_pool,
    outbox,
    settings,
)
