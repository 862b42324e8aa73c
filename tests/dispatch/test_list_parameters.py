"""A list of ids or words goes to the database as one parameter, and is read once.

`planning.among_ids` and `among_texts` send a whole list as one parameter (a
JSON array to SQLite, an array's text to PostgreSQL). On PostgreSQL that
text must become an array where it is bound: cast inside the statement
instead, the server parsed it again for every row it tested (4 ms a
statement over a pool's 2,850 language rows).
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dispatch.planning import service as planning

WORDS = ["ti", "Prs-AF", 'say "hi"', "back\\slash", "a,b", "{braces}", "two words", "ümlaut"]


def _numbers(upto: int) -> sa.Subquery:
    """1..upto as a column `n`: a union of one-row selects, which both backends read."""
    return sa.union_all(
        *(sa.select(sa.literal(i).label("n")) for i in range(1, upto + 1))
    ).subquery()


def _words(words: list[str]) -> sa.Subquery:
    return sa.union_all(*(sa.select(sa.literal(w).label("w")) for w in words)).subquery()


def test_the_ids_given_are_the_ids_found(engine: Engine) -> None:
    dialect = engine.dialect.name
    numbers = _numbers(50)
    query = sa.select(numbers.c.n).where(planning.among_ids(numbers.c.n, dialect)).order_by("n")
    with engine.connect() as connection:
        found = connection.scalars(
            query, {"ids": planning.ids_parameter([7, 3, 49, 3, 1000], dialect)}
        ).all()
        nothing = connection.scalars(query, {"ids": planning.ids_parameter([], dialect)}).all()
    assert found == [3, 7, 49]
    assert nothing == []


def test_words_with_quotes_commas_and_braces_come_through_unchanged(engine: Engine) -> None:
    dialect = engine.dialect.name
    words = _words([*WORDS, "other", "hi"])
    query = sa.select(words.c.w).where(planning.among_texts(words.c.w, dialect, "wanted"))
    with engine.connect() as connection:
        found = connection.scalars(
            query, {"wanted": planning.texts_parameter(WORDS, dialect)}
        ).all()
    assert sorted(found) == sorted(WORDS)


def test_postgresql_reads_the_id_list_once_not_once_per_row(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("the array's text is PostgreSQL's; SQLite reads a JSON array")
    series = sa.func.generate_series(1, 1000).table_valued("g").render_derived()
    query = sa.select(series.c.g).where(planning.among_ids(series.c.g, "postgresql"))
    compiled = query.compile(dialect=engine.dialect)
    with engine.connect() as connection:
        plan = " ".join(
            connection.exec_driver_sql(
                "EXPLAIN (VERBOSE) " + str(compiled),
                {**compiled.params, "ids": planning.ids_parameter([2, 5], "postgresql")},
            ).scalars()
        )
    # Bound as an array, the list is one constant; cast from text in the statement it
    # shows as ('{2,5}'::cstring)::integer[], an input function run for every row.
    assert "'{2,5}'::integer[]" in plan
    assert "cstring" not in plan
