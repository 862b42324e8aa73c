"""`sprachpool` (also `python -m dispatch`).

Commands: serve, demo, user add, mediators import, optimize, migrate.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import logging
import math
import os
import sys
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from config.settings import get_settings
from dispatch.clock import SystemClock
from dispatch.planning import MOST_PLAN_SECONDS
from dispatch.storage import make_engine, migrate, unit_of_work


def _engine() -> Engine:
    settings = get_settings()
    migrate(settings.database_url)
    return make_engine(settings.database_url)


def cmd_migrate(_args: argparse.Namespace) -> int:
    migrate(get_settings().database_url)
    print("database schema is up to date")
    return 0


def _demo_access_block(base_url: str) -> str:
    """Seed the demo (once) and say how to get in, as one block to print last."""
    from dispatch.demo import (
        CASEWORKER_EMAIL,
        CASEWORKER_PASSWORD,
        COORDINATOR_EMAIL,
        COORDINATOR_PASSWORD,
        seed_demo,
    )

    with unit_of_work(_engine()) as session:
        access = seed_demo(session, now=SystemClock().now(), settings=get_settings())
    seeded = " (pool seeded: 40 mediators, 8 places)" if access.seeded else ""
    return "\n".join(
        [
            "",
            "=" * 72,
            f"Sprachpool demo{seeded}",
            f"  sign in:      {base_url}/login",
            f"  coordinator:  {COORDINATOR_EMAIL}  password {COORDINATOR_PASSWORD}",
            f"  caseworker:   {CASEWORKER_EMAIL}  password {CASEWORKER_PASSWORD}",
            f"  coordinator token: {access.coordinator_token}",
            f"  caseworker token:  {access.caseworker_token}",
            f"  API docs:     {base_url}/docs",
            f"  try: curl -H 'Authorization: Bearer {access.caseworker_token}' "
            f"{base_url}/api/v1/languages",
            "=" * 72,
        ]
    )


def cmd_demo(_args: argparse.Namespace) -> int:
    print(_demo_access_block(get_settings().public_base_url.rstrip("/")), flush=True)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from dispatch.app import create_app

    settings = get_settings()
    if "public_base_url" not in settings.model_fields_set:
        # Without PUBLIC_BASE_URL, links in messages point at this server.
        settings = settings.model_copy(
            update={"public_base_url": f"http://{args.host}:{args.port}"}
        )
    migrate(settings.database_url)
    if args.workers > 1:
        if args.demo:
            raise SystemExit("serve: --demo runs one process; leave out --workers")
        # Each worker builds the app from the environment (uvicorn starts them by name).
        os.environ.setdefault("PUBLIC_BASE_URL", settings.public_base_url)
        from dispatch import serving

        serving.run_workers(
            uvicorn.Config(
                "dispatch.app:create_app",
                factory=True,
                host=args.host,
                port=args.port,
                workers=args.workers,
                log_level="info",
            )
        )
        return 0
    announcement = _demo_access_block(f"http://{args.host}:{args.port}") if args.demo else None
    config = uvicorn.Config(create_app(settings), host=args.host, port=args.port, log_level="info")
    _run_server(config, announcement)
    return 0


def _run_server(config: Any, announcement: str | None) -> None:
    """Run uvicorn, printing `announcement` after its own start-up lines.

    Printed before, the demo's sign-in details would scroll away under
    uvicorn's and the scheduler's start-up output; printed last, they are
    what a newcomer sees.
    """
    import uvicorn

    class AnnouncingServer(uvicorn.Server):
        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets=sockets)
            if announcement and self.started:
                print(announcement, flush=True)

    # uvicorn re-raises Ctrl-C after its graceful shutdown; uvicorn.run() swallows it, so do we.
    with contextlib.suppress(KeyboardInterrupt):
        AnnouncingServer(config).run()


def _workers(text: str) -> int:
    """`--workers`: a whole number from 1 to 64, or a clear error."""
    try:
        count = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 1 <= count <= 64:
        raise argparse.ArgumentTypeError("between 1 and 64")
    return count


def _seconds(text: str) -> float:
    """`optimize --time-limit`: seconds above 0 and at most the API's limit, or a clear
    error; nan, inf and negative numbers went on to the solver."""
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not (math.isfinite(seconds) and 0 < seconds <= MOST_PLAN_SECONDS):
        raise argparse.ArgumentTypeError(f"above 0 and at most {MOST_PLAN_SECONDS}")
    return seconds


def cmd_user_add(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from dispatch.organisations.schemas import OrganisationCreate
    from dispatch.users import service as users
    from dispatch.users.models import Role
    from dispatch.users.schemas import UserCreate
    from dispatch.web.auth import MIN_PASSWORD_LENGTH
    from dispatch.web.links import issue_sign_in_link

    # The API's rules for an account and an organisation's name, so an address the
    # service cannot write to (or a name the pages cannot show) is not let in here either.
    typed = {"email": args.email, "name": args.name or args.email, "role": args.role}
    try:
        checked = UserCreate.model_validate({**typed, "locale": args.locale})
        organisation_name = OrganisationCreate.model_validate({"name": args.organisation}).name
    except ValidationError as exc:
        for error in exc.errors():
            # The name defaults to the address: name the option that was typed.
            option = error["loc"][0] if exc.title == UserCreate.__name__ else "organisation"
            option = "email" if option == "name" and not args.name else option
            print(f"error: --{option}: {error['msg']}", file=sys.stderr)
        return 2
    password = None
    if args.password:
        password = getpass.getpass("password: ")
    elif args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        print(f"error: a password needs at least {MIN_PASSWORD_LENGTH} characters", file=sys.stderr)
        return 2
    now = SystemClock().now()
    with unit_of_work(_engine()) as session:
        organisation = users.get_or_create_organisation(session, name=organisation_name, now=now)
        user = users.create_user(
            session,
            email=checked.email,
            name=checked.name,
            role=Role(checked.role),
            organisation=organisation,
            password=password,
            locale=checked.locale,
            now=now,
        )
        token = users.issue_token(session, user=user, now=now)
        link = issue_sign_in_link(session, user=user, now=now) if args.link else None
    print(f"user {checked.email} ({checked.role}, {organisation_name}) created")
    print(f"API token (shown once, store it now): {token}")
    if link is not None:
        base = get_settings().public_base_url.rstrip("/")
        print(f"one-time sign-in link (valid 48 hours, works once): {base}{link}")
    return 0


def cmd_mediators_import(args: argparse.Namespace) -> int:
    import locales
    from dispatch.mediators.importer import import_csv, problem_text, read_upload

    tr = locales.translator(args.locale, locales.STAFF_LOCALES)
    path = Path(args.file)
    try:
        text = read_upload(path.read_bytes())
    except FileNotFoundError:
        print(tr.gettext("error: %(path)s does not exist", path=path), file=sys.stderr)
        return 2
    if text is None:
        message = tr.gettext(
            "error: %(path)s is neither text nor an Excel workbook (.xlsx); save the sheet as "
            "“Excel workbook” or “CSV UTF-8”",
            path=path,
        )
        print(message, file=sys.stderr)
        return 2
    engine = _engine()
    with unit_of_work(engine) as session:
        report = import_csv(session, text=text, now=SystemClock().now(), settings=get_settings())
        if not report.ok or args.dry_run:
            session.rollback()
    if not report.ok:
        for problem in report.errors:
            print(f"{path}: {problem_text(problem, tr)}", file=sys.stderr)
        print(
            tr.ngettext(
                "nothing imported: %(num)s error",
                "nothing imported: %(num)s errors",
                len(report.errors),
            ),
            file=sys.stderr,
        )
        return 1
    counts = {"created": report.created, "updated": report.updated, "same": report.unchanged}
    if args.dry_run:
        print(
            tr.gettext(
                "would import: %(created)s new, %(updated)s updated, %(same)s unchanged", **counts
            )
        )
    else:
        print(
            tr.gettext(
                "imported: %(created)s new, %(updated)s updated, %(same)s unchanged", **counts
            )
        )
    return 0


def cmd_optimize(args: argparse.Namespace) -> int:
    from datetime import datetime, timedelta

    from dispatch.allowances.service import limit_reached
    from dispatch.planning.service import plan_period
    from dispatch.validation import EARLIEST_DAY, LATEST_DAY

    settings = get_settings()
    try:
        start = datetime.fromisoformat(args.start) if args.start else None
    except ValueError:
        print("error: --from must be a date or ISO date-time, e.g. 2026-12-07", file=sys.stderr)
        return 2
    if start is not None and not EARLIEST_DAY <= start.date() <= LATEST_DAY:
        print(f"error: --from must be between {EARLIEST_DAY} and {LATEST_DAY}", file=sys.stderr)
        return 2
    if start is None:
        today = SystemClock().now().astimezone(settings.tz).date()
        start = datetime.combine(today + timedelta(days=1), datetime.min.time())
    if start.tzinfo is None:
        start = start.replace(tzinfo=settings.tz)
    end = start + timedelta(days=args.days)
    with unit_of_work(_engine()) as session:
        plan = plan_period(
            session,
            start=start,
            end=end,
            tz=settings.tz,
            time_limit_s=args.time_limit,
            limit_reached=limit_reached(session, settings=settings, now=SystemClock().now()),
        )
        session.rollback()
    print(
        f"{plan['status']}: {plan['filled']} of {plan['requests']} open requests filled "
        f"(priority {plan['filled_priority']}, bound {plan['filled_priority_bound']})"
        f" in {plan['solve_seconds']} s"
    )
    for item in plan["assignments"]:
        local = item["start"].astimezone(settings.tz).strftime("%a %d.%m. %H:%M")
        print(
            f"  request {item['request_id']:>5}  {local}  {item['language']:<4}"
            f" -> {item['mediator_name']}"
        )
    if plan["unassigned"]:
        print("  no one found for requests: " + ", ".join(str(r) for r in plan["unassigned"]))
    print("This is a proposal; nothing was changed.")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sprachpool", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser(
        "serve", help="API, pages, scheduler and outbox worker in one process"
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--demo", action="store_true", help="seed a demo pool and print demo tokens")
    serve.add_argument(
        "--workers",
        type=_workers,
        default=1,
        help="worker processes on one socket (about one per core; see README)",
    )
    serve.set_defaults(func=cmd_serve)

    commands.add_parser("demo", help="seed the demo pool and print demo tokens").set_defaults(
        func=cmd_demo
    )
    commands.add_parser("migrate", help="bring the database schema up to date").set_defaults(
        func=cmd_migrate
    )

    user = commands.add_parser("user", help="staff users").add_subparsers(
        dest="user_command", required=True
    )
    add = user.add_parser("add", help="add a coordinator or caseworker and print an API token once")
    add.add_argument("--email", required=True)
    add.add_argument("--name")
    add.add_argument("--role", choices=["coordinator", "caseworker"], required=True)
    add.add_argument("--organisation", required=True, help="organisation name; created if new")
    add.add_argument(
        "--locale", choices=["de", "en"], default="de", help="language of their messages"
    )
    secret = add.add_mutually_exclusive_group()
    secret.add_argument("--password", action="store_true", help="also set a password (asked for)")
    secret.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of stdin",
    )
    add.add_argument(
        "--link", action="store_true", help="print a one-time sign-in link for the web pages"
    )
    add.set_defaults(func=cmd_user_add)

    mediators = commands.add_parser("mediators", help="the pool").add_subparsers(
        dest="mediators_command", required=True
    )
    imp = mediators.add_parser(
        "import", help="import mediators from a CSV file (see examples/mediators.csv)"
    )
    imp.add_argument("file")
    imp.add_argument("--dry-run", action="store_true", help="check the file, write nothing")
    imp.add_argument(
        "--locale",
        choices=["de", "en"],
        default="de",
        help="the language of what is printed (default: de, the pool's working language)",
    )
    imp.set_defaults(func=cmd_mediators_import)
    optimize = commands.add_parser(
        "optimize", help="propose a plan for the open requests of a period"
    )
    optimize.add_argument("--from", dest="start", help="first day (default: tomorrow)")
    optimize.add_argument("--days", type=int, default=7, choices=range(1, 15), metavar="1-14")
    optimize.add_argument(
        "--time-limit",
        type=_seconds,
        default=10.0,
        help=f"seconds, above 0 and at most {MOST_PLAN_SECONDS}",
    )
    optimize.set_defaults(func=cmd_optimize)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # APScheduler logs every poll at INFO (about 70 lines a minute), and a poll skipped
    # because the last one still runs at WARNING: both are by design here (the next poll
    # picks up the work). Only its errors matter.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    args = build_parser().parse_args(argv)
    from dispatch.errors import SprachpoolError

    try:
        return int(args.func(args))
    except SprachpoolError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
