"""Real stand-ins for the providers: Twilio's Messages endpoint and an SMTP server.

Both run in the test process on free 127.0.0.1 ports, so the real twilio
client and smtplib talk to them over real sockets. The fixtures are made
available to the tests by ``conftest.py``.
"""

from __future__ import annotations

import asyncio
import base64
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
import uvicorn
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "test-auth-token-0123456789abcdef"


# --- Twilio Messages API stand-in -------------------------------------------------


@dataclass
class RecordedRequest:
    method: str
    path: str
    form: list[tuple[str, str]]
    basic_auth: tuple[str, str] | None
    headers: dict[str, str]

    @property
    def fields(self) -> dict[str, str]:
        return dict(self.form)


@dataclass
class FakeTwilio:
    """Answers POST /2010-04-01/Accounts/{Sid}/Messages.json as told by ``behaviour``.

    ``behaviour`` is one of ``created``, ``server_error`` (500), ``rate_limited``
    (429), ``invalid_number`` (400/21211), ``opted_out`` (400/21610),
    ``unauthorized`` (401/20003) or ``hang`` (never answers until the test ends).
    A list of behaviours is used one request at a time, the last one repeating.
    """

    base_url: str = ""
    behaviour: str | list[str] = "created"
    requests: list[RecordedRequest] = field(default_factory=list)
    released: threading.Event = field(default_factory=threading.Event)

    def next_behaviour(self) -> str:
        if isinstance(self.behaviour, str):
            return self.behaviour
        return self.behaviour.pop(0) if len(self.behaviour) > 1 else self.behaviour[0]


def _message_json(account_sid: str, form: dict[str, str], number: int) -> dict[str, Any]:
    sid = f"SM{number:032x}"
    return {
        "account_sid": account_sid,
        "api_version": "2010-04-01",
        "body": form.get("Body", ""),
        "date_created": "Tue, 01 Dec 2026 08:00:00 +0000",
        "date_sent": None,
        "date_updated": "Tue, 01 Dec 2026 08:00:00 +0000",
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": form.get("From"),
        "messaging_service_sid": form.get("MessagingServiceSid"),
        "num_media": "0",
        "num_segments": "1",
        "price": None,
        "price_unit": "USD",
        "sid": sid,
        "status": "accepted" if form.get("MessagingServiceSid") else "queued",
        "subresource_uris": {
            "media": f"/2010-04-01/Accounts/{account_sid}/Messages/{sid}/Media.json"
        },
        "to": form.get("To"),
        "uri": f"/2010-04-01/Accounts/{account_sid}/Messages/{sid}.json",
    }


def _twilio_error(status: int, code: int, message: str) -> JSONResponse:
    return JSONResponse(
        {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
        status_code=status,
    )


def _build_twilio_app(state: FakeTwilio) -> Starlette:
    async def create_message(request: Request) -> JSONResponse:
        body = (await request.body()).decode()
        auth = request.headers.get("authorization", "")
        basic = None
        if auth.startswith("Basic "):
            user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
            basic = (user, password)
        form = parse_qsl(body, keep_blank_values=True)
        state.requests.append(
            RecordedRequest(request.method, request.url.path, form, basic, dict(request.headers))
        )
        behaviour = state.next_behaviour()
        if behaviour == "hang":
            while not state.released.is_set():
                await asyncio.sleep(0.05)
            return _twilio_error(503, 20503, "released at teardown")
        if behaviour == "server_error":
            return _twilio_error(500, 20500, "Internal Server Error")
        if behaviour == "rate_limited":
            return _twilio_error(429, 20429, "Too Many Requests")
        if behaviour == "invalid_number":
            return _twilio_error(400, 21211, f"Invalid 'To' Phone Number: {dict(form)['To']}")
        if behaviour == "opted_out":
            return _twilio_error(400, 21610, "Attempt to send to unsubscribed recipient")
        if behaviour == "unauthorized":
            return _twilio_error(401, 20003, "Authenticate")
        account_sid = request.path_params["account_sid"]
        payload = _message_json(account_sid, dict(form), len(state.requests))
        return JSONResponse(payload, status_code=201)

    return Starlette(
        routes=[
            Route(
                "/2010-04-01/Accounts/{account_sid}/Messages.json",
                create_message,
                methods=["POST"],
            )
        ]
    )


def _bound_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@pytest.fixture(scope="session")
def _twilio_server() -> Iterator[FakeTwilio]:
    state = FakeTwilio()
    sock = _bound_socket()
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        _build_twilio_app(state), log_level="warning", lifespan="off", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the Twilio stand-in did not start")
        threading.Event().wait(0.01)
    state.base_url = f"http://127.0.0.1:{port}"
    yield state
    state.released.set()
    server.should_exit = True
    thread.join(timeout=5)
    sock.close()


@pytest.fixture
def fake_twilio(_twilio_server: FakeTwilio) -> Iterator[FakeTwilio]:
    _twilio_server.requests.clear()
    _twilio_server.behaviour = "created"
    _twilio_server.released.clear()
    yield _twilio_server
    _twilio_server.released.set()  # let a hanging request finish


# --- SMTP server ----------------------------------------------------------------------


@dataclass
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    authenticated_as: str | None


class _Recorder:
    def __init__(self) -> None:
        self.mails: list[ReceivedMail] = []
        self.refuse: dict[str, str] = {}  # recipient -> SMTP reply, e.g. "550 5.1.1 no such user"

    async def handle_RCPT(  # aiosmtpd's handler interface
        self,
        server: Any,  # noqa: ARG002
        session: Any,  # noqa: ARG002
        envelope: Any,
        address: str,
        rcpt_options: list[str],  # noqa: ARG002
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: ARG002
        message = message_from_bytes(envelope.content, policy=policy.default)
        login = session.auth_data.login.decode() if session.auth_data else None
        self.mails.append(ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), message, login))
        return "250 Message accepted"


SMTP_USER = "sprachpool"
SMTP_PASSWORD = "s3cret-smtp"


def _authenticator(
    server: Any, session: Any, envelope: Any, mechanism: str, data: Any
) -> AuthResult:
    ok = (
        isinstance(data, LoginPassword)
        and data.login.decode() == SMTP_USER
        and data.password.decode() == SMTP_PASSWORD
    )
    return AuthResult(success=ok, handled=False, auth_data=data if ok else None)


@dataclass
class SmtpServer:
    host: str
    port: int
    recorder: _Recorder

    @property
    def mails(self) -> list[ReceivedMail]:
        return self.recorder.mails


def _free_port() -> int:
    with _bound_socket() as sock:
        return int(sock.getsockname()[1])


def _start_smtp(**kwargs: Any) -> tuple[Controller, SmtpServer]:
    recorder = _Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=_free_port(), **kwargs)
    controller.start()
    return controller, SmtpServer("127.0.0.1", controller.port, recorder)


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """Plain SMTP with AUTH LOGIN/PLAIN allowed without TLS (as on a local relay)."""
    controller, server = _start_smtp(authenticator=_authenticator, auth_require_tls=False)
    yield server
    controller.stop()


@dataclass
class Certificate:
    cert: Path
    key: Path

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(self.cert), str(self.key))
        return context


@pytest.fixture(scope="session")
def self_signed_certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    try:
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
             "-keyout", str(key), "-out", str(cert)],
            check=True, capture_output=True,
        )  # fmt: skip
    except (OSError, subprocess.CalledProcessError) as error:
        pytest.skip(f"openssl cannot make a test certificate: {error}")
    return Certificate(cert, key)


@pytest.fixture
def starttls_smtp_server(self_signed_certificate: Certificate) -> Iterator[SmtpServer]:
    """SMTP that insists on STARTTLS before AUTH and MAIL."""
    controller, server = _start_smtp(
        authenticator=_authenticator,
        tls_context=self_signed_certificate.server_context(),
        require_starttls=True,
    )
    yield server
    controller.stop()


@pytest.fixture
def smtps_server(self_signed_certificate: Certificate) -> Iterator[SmtpServer]:
    """SMTP over implicit TLS (port 465 style)."""
    controller, server = _start_smtp(
        authenticator=_authenticator,
        ssl_context=self_signed_certificate.server_context(),
        server_hostname="127.0.0.1",
        auth_require_tls=False,  # aiosmtpd does not see implicit TLS as TLS; the socket is
    )
    yield server
    controller.stop()
