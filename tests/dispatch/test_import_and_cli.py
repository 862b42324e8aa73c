"""`sprachpool mediators import`, `user add`, `demo` and `serve --demo` as a person runs them."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from config.settings import Settings
from dispatch.clock import ManualClock
from dispatch.mediators.importer import decode, import_csv, problem_text, read_rows
from dispatch.mediators.models import Mediator, MediatorLanguage
from locales import translator
from tests.conftest import NOW, ROOT

#: The pool's settings as a deployment has them by default (Beckum, its area and reach).
TOWN = Settings(_env_file=None)  # type: ignore[call-arg]
HEADER = "name,phone,email,languages,availability,max_travel_km\n"


def python_path() -> str:
    """The checkout first, then whatever the run set (`--wall-clock` puts its helper there)."""
    return os.pathsep.join(part for part in (str(ROOT), os.environ.get("PYTHONPATH")) if part)


def run_cli(
    *args: str, cwd: Path, env_extra: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": python_path(),
        "ENVIRONMENT": "test",
        "SECRET_KEY": "s" * 40,
        **(env_extra or {}),
    }
    return subprocess.run(
        [sys.executable, "-m", "dispatch", *args],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_good_file_imports_every_row(engine: Engine, clock: ManualClock) -> None:
    text = (ROOT / "examples" / "mediators.csv").read_text(encoding="utf-8")
    with Session(engine) as session:
        report = import_csv(session, text=text, now=clock.now(), settings=TOWN)
        session.commit()
        assert report.errors == [] and report.created == 3
        names = sorted(m.name for m in session.exec(select(Mediator)))
        languages = sorted(
            f"{row.language}:{row.level}" for row in session.exec(select(MediatorLanguage))
        )
    assert names == ["Amina Haddad", "Mehmet Yılmaz", "Oleksandr Kovalenko"]
    assert "kmr:fluent" in languages and "uk:native" in languages


def test_reimport_updates_by_phone_number(engine: Engine, clock: ManualClock) -> None:
    first = HEADER + "Amina Haddad,+4915112340001,,ar:native,Mo 08:00-12:00,8\n"
    second = HEADER + "Amina Haddad-Nasser,+49 151 1234 0001,,ar:native; de:fluent,,10\n"
    with Session(engine) as session:
        assert import_csv(session, text=first, now=clock.now(), settings=TOWN).created == 1
        session.commit()
        report = import_csv(session, text=second, now=clock.now(), settings=TOWN)
        session.commit()
        assert (report.created, report.updated) == (0, 1)
        mediator = session.exec(select(Mediator)).one()
        assert mediator.name == "Amina Haddad-Nasser" and mediator.max_travel_km == 10


def test_bad_rows_are_reported_by_line_and_nothing_is_imported(
    engine: Engine, clock: ManualClock
) -> None:
    text = HEADER + (
        "Amina Haddad,+4915112340001,,ar:native,Mo 08:00-12:00,8\n"
        "Bad Phone,0151-123,,ar:native,,\n"
        "No Level,+4915112340003,,ar,,\n"
        "Unknown Language,+4915112340004,,xx:native,,\n"
        "Bad Slot,+4915112340005,,uk:native,Mo 12:00-08:00,\n"
        "Same Phone,+4915112340001,,ru:native,,\n"
    )
    with Session(engine) as session:
        report = import_csv(session, text=text, now=clock.now(), settings=TOWN)
        session.rollback()
        assert session.exec(select(Mediator)).all() == []
    found = [(problem.line, problem.column, problem.code) for problem in report.errors]
    assert found == [
        (3, "phone", "phone_format"),
        (4, "languages", "level_missing"),
        (5, "languages", "unknown_language"),
        (6, "availability", "slot_order"),
        (7, "phone", "phone_twice"),
    ], report.errors
    german = [problem_text(problem, translator("de")) for problem in report.errors]
    assert german[0] == (
        "Zeile 3, Spalte phone: Bitte im internationalen Format, z. B. +49 151 12345678."
    )
    assert german[1] == "Zeile 4, Spalte languages: „ar“ braucht eine Stufe, z. B. ar:native."
    assert german[2].startswith("Zeile 5, Spalte languages: „xx“ ist keine Sprache des Pools")
    assert german[3] == (
        "Zeile 6, Spalte availability: Diese Zeit endet (08:00) vor oder mit ihrem Beginn (12:00)."
    )
    assert german[4] == (
        "Zeile 7, Spalte phone: Die Telefonnummer +4915112340001 steht auch in Zeile 2."
    )
    english = problem_text(report.errors[1], translator("en"))
    assert english == "Line 4, column languages: “ar” needs a level, e.g. ar:native."


def test_header_must_name_known_columns(engine: Engine, clock: ManualClock) -> None:
    with Session(engine) as session:
        report = import_csv(
            session,
            text="name,languages,shoe_size\nA,ar:native,44\n",
            now=clock.now(),
            settings=TOWN,
        )
    assert [(p.line, p.code, p.params["columns"]) for p in report.errors] == [
        (1, "header_unknown", "shoe_size")
    ]
    assert problem_text(report.errors[0], translator("de")).startswith(
        "Zeile 1: Unbekannte Spalte(n) shoe_size;"
    )


def test_semicolons_or_tabs_between_cells_are_read_from_the_header_row(
    engine: Engine, clock: ManualClock
) -> None:
    # German Excel saves "CSV" with semicolons; a cell with a semicolon is then quoted.
    semicolons = (
        'name;phone;languages;max_travel_km\nAmina Haddad;+4915112340001;"ar:native; de:fluent";8\n'
    )
    tabs = "name\tphone\tlanguages\nMehmet Yılmaz\t+4915112340002\ttr:native, de:fluent\n"
    with Session(engine) as session:
        for text in (semicolons, tabs):
            report = import_csv(session, text=text, now=clock.now(), settings=TOWN)
            assert report.errors == [] and report.created == 1, report.errors
        session.commit()
        languages = sorted(
            f"{row.language}:{row.level}" for row in session.exec(select(MediatorLanguage))
        )
    assert languages == ["ar:native", "de:fluent", "de:fluent", "tr:native"]


def test_a_file_is_read_as_utf8_else_as_windows_1252() -> None:
    text = "name;languages\r\nJülide Öztürk;tr:native\r\n"
    assert decode(text.encode("utf-8")) == text
    assert decode(("\ufeff" + text).encode("utf-8")) == text  # Excel's "CSV UTF-8"
    assert decode(text.encode("cp1252")) == text  # Excel's plain "CSV" on German Windows
    assert decode(b"name\n\x81\x8d\n") is None  # neither: refused, not guessed


def test_an_impossible_day_or_time_says_which_format_is_expected() -> None:
    text = (
        "name,languages,trained_on,consent_at\nA,ar:native,2026-13-01,2026-12-01T25:00:00+01:00\n"
    )
    _, problems = read_rows(text, settings=TOWN, now=NOW)
    german = sorted(problem_text(problem, translator("de")) for problem in problems)
    assert german == [
        "Zeile 2, Spalte consent_at: „2026-12-01T25:00:00+01:00“ ist kein gültiger Zeitpunkt; "
        "bitte als JJJJ-MM-TTTHH:MM:SS mit Zeitzone angeben, z. B. 2026-10-01T10:00:00+02:00.",
        "Zeile 2, Spalte trained_on: „2026-13-01“ ist kein Tag im Kalender; "
        "bitte einen Tag als JJJJ-MM-TT angeben, z. B. 2026-12-01.",
    ]


def test_a_value_outside_the_choices_lists_them_in_the_readers_language() -> None:
    _, problems = read_rows("name,languages,travel_mode\nA,ar:expert,jet\n", settings=TOWN, now=NOW)
    german = [problem_text(problem, translator("de")) for problem in problems]
    assert german == [
        "Zeile 2, Spalte languages: „expert“ ist keine der möglichen Angaben: "
        "basic, fluent oder native.",
        "Zeile 2, Spalte travel_mode: „jet“ ist keine der möglichen Angaben: "
        "car, bike, foot oder transit.",
    ]
    english = problem_text(problems[0], translator("en"))
    assert english == (
        "Line 2, column languages: “expert” is not one of the choices: basic, fluent or native."
    )


def test_cli_import_exits_nonzero_and_writes_nothing_for_a_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "pool.csv"
    bad.write_text(
        HEADER + "Amina,+4915112340001,,ar:native,,\nBroken,+49,,ar:native,,\n", encoding="utf-8"
    )
    result = run_cli("mediators", "import", str(bad), cwd=tmp_path)
    assert result.returncode == 1
    assert "pool.csv: Zeile 3, Spalte phone: Bitte im internationalen" in result.stderr
    assert "nichts importiert: 1 Fehler" in result.stderr
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'sprachpool.db'}")
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM mediator")).scalar_one() == 0
    english = run_cli("mediators", "import", str(bad), "--locale", "en", cwd=tmp_path)
    assert "pool.csv: Line 3, column phone: Please use" in english.stderr
    assert "nothing imported: 1 error" in english.stderr
    good = run_cli("mediators", "import", str(ROOT / "examples" / "mediators.csv"), cwd=tmp_path)
    assert good.returncode == 0, good.stderr
    assert "importiert: 3 neu, 0 aktualisiert" in good.stdout


def test_user_add_prints_a_token_once_that_works(tmp_path: Path) -> None:
    result = run_cli(
        "user",
        "add",
        "--email",
        "fm@jobcenter.example",
        "--role",
        "caseworker",
        "--organisation",
        "Jobcenter Kreis Warendorf",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    token = re.search(r"(sp_[A-Za-z0-9_\-]{40,})", result.stdout)
    assert token is not None
    database = (tmp_path / "sprachpool.db").read_bytes()
    assert token.group(1).encode() not in database
    again = run_cli(
        "user",
        "add",
        "--email",
        "fm@jobcenter.example",
        "--role",
        "caseworker",
        "--organisation",
        "Jobcenter Kreis Warendorf",
        cwd=tmp_path,
    )
    assert again.returncode == 2 and "exists already" in again.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(base: str) -> None:
    """Until the server at `base` answers /health (30 s at most; the test then fails on)."""
    for _ in range(300):
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)


def interrupt(process: subprocess.Popen[str]) -> str:
    """Ctrl-C to a served process, as a person would; what it printed after that."""
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    rest = process.stdout.read() if process.stdout is not None else ""
    if process.stdout is not None:
        process.stdout.close()
    return rest


def test_serve_demo_starts_a_working_service(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": python_path(), "SECRET_KEY": "s" * 40}
    env["DEADLINE_POLL_SECONDS"] = env["OUTBOX_POLL_SECONDS"] = "0.1"
    process = subprocess.Popen(
        [sys.executable, "-m", "dispatch", "serve", "--demo", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        output = ""
        assert process.stdout is not None
        while "=" * 72 + "\n" not in output.partition("Sprachpool demo")[2]:
            line = process.stdout.readline()
            assert line, f"serve exited early: {output}"
            output += line
        before, _, block = output.partition("Sprachpool demo")
        # The sign-in block comes last, after uvicorn's own start-up lines.
        assert f"Uvicorn running on http://127.0.0.1:{port}" in before
        assert f"http://127.0.0.1:{port}/login" in block
        assert "integration@beckum.example  password demo-coordinator" in block
        assert "jobcenter@beckum.example  password demo-caseworker" in block
        caseworker = re.search(r"caseworker token:\s+(sp_\S+)", block)
        coordinator = re.search(r"coordinator token:\s+(sp_\S+)", block)
        assert caseworker and coordinator, output
        assert f"http://127.0.0.1:{port}/docs" in block
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base)
        pool = httpx.get(
            f"{base}/api/v1/mediators",
            params={"limit": 500},
            headers={"Authorization": f"Bearer {coordinator.group(1)}"},
        ).json()
        assert pool["total"] == 40
        languages = {skill["language"] for item in pool["items"] for skill in item["languages"]}
        assert {"ar", "uk", "ru", "prs", "fa", "tr", "kmr", "ckb", "ps", "ti", "so"} <= languages
        places = httpx.get(
            f"{base}/api/v1/places", headers={"Authorization": f"Bearer {caseworker.group(1)}"}
        ).json()
        assert {"Rathaus Beckum", "St. Elisabeth-Hospital Beckum"} <= {p["name"] for p in places}
        assert httpx.get(f"{base}/docs").status_code == 200
        time.sleep(1.0)  # ten scheduler polls go by
    finally:
        rest = interrupt(process)
    # The scheduler polls every 0.1 s and logs none of it (it used to log each run at INFO),
    # and the secret-key warning is not repeated.
    assert "apscheduler" not in (output + rest).lower(), rest
    assert (output + rest).count("SECRET_KEY") <= 1
    assert "Traceback" not in output + rest  # Ctrl-C ends it quietly


@pytest.mark.parametrize(
    "args",
    [
        ["mediators", "import", "missing.csv", "--locale", "en"],
        ["user", "add", "--role", "boss"],
        ["optimize"],
        ["optimize", "--from", "9999-12-31"],
        ["optimize", "--from", "0001-01-01T00:00:00+14:00"],
    ],
)
def test_cli_mistakes_get_a_clear_message(tmp_path: Path, args: list[str]) -> None:
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert "error" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        (["--email", "x"], "error: --email: is not a valid email address"),
        (["--email", "fm@jobcenter.example\x01"], "error: --email: must not contain control"),
        (["--email", "fm@jobcenter.example", "--name", "N" * 201], "error: --name: String"),
        (["--email", "fm@jobcenter.example", "--organisation", "O" * 201], "--organisation: "),
    ],
)
def test_user_add_checks_the_account_as_the_api_does(
    tmp_path: Path, typed: list[str], message: str
) -> None:
    # It took any text as an address (an account no mail could reach) and any name.
    args = ["--role", "caseworker", "--organisation", "Jobcenter Kreis Warendorf", *typed]
    result = run_cli("user", "add", *args, cwd=tmp_path)
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and "sp_" not in result.stdout


def test_optimize_refuses_a_time_limit_it_cannot_keep(tmp_path: Path) -> None:
    for seconds in ("nan", "inf", "0", "-5", "121"):
        result = run_cli("optimize", "--time-limit", seconds, cwd=tmp_path)
        assert result.returncode == 2
        assert "argument --time-limit: above 0 and at most 120" in result.stderr


def test_commands_other_than_serve_do_not_repeat_the_secret_key_warning(tmp_path: Path) -> None:
    local_default = {"ENVIRONMENT": "local", "SECRET_KEY": "change-me"}
    result = run_cli("migrate", cwd=tmp_path, env_extra=local_default)
    assert result.returncode == 0, result.stderr
    assert "SECRET_KEY" not in result.stdout + result.stderr


def test_serve_with_two_workers_answers_from_both_and_ends_on_ctrl_c(tmp_path: Path) -> None:
    """`serve --workers 2`: one socket (``dispatch.serving``), two processes, one database."""
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": python_path(), "SECRET_KEY": "s" * 40}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'pool.db'}"
    process = subprocess.Popen(
        [sys.executable, "-m", "dispatch", "serve", "--workers", "2", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base)
        # Connections of their own, so the kernel hands them to either worker.
        answers = [httpx.get(f"{base}/health", timeout=5) for _ in range(20)]
        assert {a.status_code for a in answers} == {200}
    finally:
        output = interrupt(process)
    assert output.count("Started server process") >= 2, output  # two workers ran
    assert "Traceback" not in output, output


@pytest.mark.parametrize("workers", ["0", "two", "65"])
def test_serve_refuses_a_worker_count_it_cannot_run(tmp_path: Path, workers: str) -> None:
    result = run_cli("serve", "--workers", workers, cwd=tmp_path)
    assert result.returncode == 2
    assert "--workers" in result.stderr and "Traceback" not in result.stderr


def test_cli_imports_an_excel_workbook(tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["name", "phone", "languages", "max_travel_km"])
    sheet.append(["Helen Tekle", "+49 151 12340001", "ti:native", 12.5])
    book.save(tmp_path / "pool.xlsx")
    result = run_cli("mediators", "import", str(tmp_path / "pool.xlsx"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "importiert: 1 neu, 0 aktualisiert, 0 unverändert" in result.stdout
    again = run_cli("mediators", "import", str(tmp_path / "pool.xlsx"), cwd=tmp_path)
    assert "importiert: 0 neu, 0 aktualisiert, 1 unverändert" in again.stdout
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'sprachpool.db'}")
    with engine.connect() as connection:
        row = connection.execute(sa.text("SELECT name, max_travel_km FROM mediator")).one()
    assert tuple(row) == ("Helen Tekle", 12.5)
