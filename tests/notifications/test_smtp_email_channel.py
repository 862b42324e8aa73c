"""SmtpEmailChannel against a real aiosmtpd server in the test process."""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from typing import Any, Literal

import pytest

from notifications.channels import (
    Attachment,
    Channel,
    OutgoingMessage,
    PermanentSendError,
    TransientSendError,
)
from notifications.ics import make_ics
from notifications.smtp_email import SmtpEmailChannel, message_id_for
from tests.notifications.provider_stand_ins import SMTP_PASSWORD, SMTP_USER, Certificate, SmtpServer

FROM = "Sprachpool Beckum <sprachpool@beckum.example>"


def invitation() -> bytes:
    return make_ics(
        uid="assignment-42@sprachpool",
        start=datetime(2026, 12, 1, 8, 0, tzinfo=UTC),
        end=datetime(2026, 12, 1, 9, 30, tzinfo=UTC),
        summary="Einsatz Arabisch",
        location="Rathaus Beckum, Weststraße 46",
        description="Sprachmittlung, Zimmer 2.14",
        dtstamp=datetime(2026, 11, 30, 12, 0, tzinfo=UTC),
    )


def email(**overrides: object) -> OutgoingMessage:
    fields: dict[str, Any] = {
        "idempotency_key": "msg-42",
        "channel": "email",
        "to": "amal@example.org",
        "subject": "Bestätigt: Arabisch, Di 01.12. 09:00 Uhr",
        "body": "Hallo Amal,\n\ndanke! Der Einsatz gehört Ihnen.\n",
        "html": "<p>Hallo Amal,</p><p>danke! Der Einsatz gehört Ihnen.</p>",
        "attachments": (
            Attachment("einsatz.ics", "text/calendar; method=REQUEST; charset=utf-8", invitation()),
        ),
    }
    fields.update(overrides)
    return OutgoingMessage(**fields)


def plain_channel(server: SmtpServer, **kwargs: Any) -> SmtpEmailChannel:
    kwargs.setdefault("security", "none")
    return SmtpEmailChannel(server.host, server.port, from_addr=FROM, **kwargs)


def test_mail_to_a_domain_with_umlauts_goes_to_its_ascii_form(smtp_server: SmtpServer) -> None:
    """The envelope and the To header carry xn--...: without SMTPUTF8 a server reads no other."""
    plain_channel(smtp_server).send(email(to="info@bäckerei-müller.de"))

    [mail] = smtp_server.mails
    assert mail.rcpt_tos == ["info@xn--bckerei-mller-bfb28a.de"]
    assert mail.message["To"] == "info@xn--bckerei-mller-bfb28a.de"


def test_a_sender_with_umlauts_in_its_domain_is_sent_in_ascii(smtp_server: SmtpServer) -> None:
    channel = SmtpEmailChannel(
        smtp_server.host,
        smtp_server.port,
        from_addr="Sprachpool Köln <sprachpool@köln.de>",
        security="none",
    )
    channel.send(email())

    [mail] = smtp_server.mails
    assert mail.mail_from == "sprachpool@xn--kln-sna.de"
    assert mail.message["From"].addresses[0].addr_spec == "sprachpool@xn--kln-sna.de"
    assert mail.message["Message-ID"].endswith("@xn--kln-sna.de>")


def test_channel_satisfies_the_channel_protocol(smtp_server: SmtpServer) -> None:
    assert isinstance(plain_channel(smtp_server), Channel)


def test_mail_arrives_with_text_html_and_the_calendar_invitation(smtp_server: SmtpServer) -> None:
    result = plain_channel(smtp_server).send(email())

    [mail] = smtp_server.mails
    assert mail.rcpt_tos == ["amal@example.org"]
    assert mail.mail_from == "sprachpool@beckum.example"
    message = mail.message
    assert message["Subject"] == "Bestätigt: Arabisch, Di 01.12. 09:00 Uhr"
    assert message["To"] == "amal@example.org"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "multipart/mixed"
    alternative, calendar = message.iter_parts()
    assert alternative.get_content_type() == "multipart/alternative"
    plain, html = alternative.iter_parts()
    assert plain.get_content_type() == "text/plain"
    assert "danke! Der Einsatz gehört Ihnen." in plain.get_content()
    assert html.get_content_type() == "text/html"
    assert "<p>danke! Der Einsatz gehört Ihnen.</p>" in html.get_content()
    assert calendar.get_content_type() == "text/calendar"
    assert calendar.get_param("method") == "REQUEST"
    assert calendar.get_filename() == "einsatz.ics"
    assert calendar.get_content_charset() == "utf-8"
    assert calendar.get_payload(decode=True) == invitation()  # byte for byte, CRLF kept
    assert result.status == "sent"
    assert result.provider_id == message["Message-ID"]


def test_the_invitation_parses_back_into_its_event(smtp_server: SmtpServer) -> None:
    plain_channel(smtp_server).send(email())

    [calendar] = smtp_server.mails[0].message.iter_attachments()
    unfolded = calendar.get_content().replace("\r\n ", "")
    properties = dict(line.split(":", 1) for line in unfolded.split("\r\n") if line)
    assert properties["METHOD"] == "REQUEST"
    assert properties["UID"] == "assignment-42@sprachpool"
    assert properties["DTSTART"] == "20261201T080000Z"
    assert properties["DTEND"] == "20261201T093000Z"
    assert properties["LOCATION"] == "Rathaus Beckum\\, Weststraße 46"


def test_a_mail_without_html_or_attachments_is_a_single_text_part(smtp_server: SmtpServer) -> None:
    plain_channel(smtp_server).send(email(html=None, attachments=()))

    message = smtp_server.mails[0].message
    assert message.get_content_type() == "text/plain"
    assert message.get_content_charset() == "utf-8"


def test_the_message_id_is_derived_from_the_idempotency_key(smtp_server: SmtpServer) -> None:
    channel = plain_channel(smtp_server)

    channel.send(email(idempotency_key="offer-7-sms-fallback"))
    channel.send(email(idempotency_key="offer-7-sms-fallback"))
    channel.send(email(idempotency_key="offer-8"))

    ids = [mail.message["Message-ID"] for mail in smtp_server.mails]
    assert ids[0] == ids[1] == message_id_for("offer-7-sms-fallback", FROM)
    assert ids[2] != ids[0]
    assert ids[0].endswith("@beckum.example>")


def test_login_with_the_configured_account(smtp_server: SmtpServer) -> None:
    plain_channel(smtp_server, username=SMTP_USER, password=SMTP_PASSWORD).send(email())

    assert smtp_server.mails[0].authenticated_as == SMTP_USER


def test_a_refused_login_is_permanent(smtp_server: SmtpServer) -> None:
    channel = plain_channel(smtp_server, username=SMTP_USER, password="wrong")

    with pytest.raises(PermanentSendError) as raised:
        channel.send(email())

    assert raised.value.code == 535
    assert smtp_server.mails == []


def test_a_recipient_the_server_refuses_for_good_is_permanent(smtp_server: SmtpServer) -> None:
    smtp_server.recorder.refuse["gone@example.org"] = "550 5.1.1 No such user"

    with pytest.raises(PermanentSendError) as raised:
        plain_channel(smtp_server).send(email(to="gone@example.org"))

    assert raised.value.code == 550
    assert "No such user" in raised.value.reason


def test_a_recipient_refused_for_now_is_transient(smtp_server: SmtpServer) -> None:
    smtp_server.recorder.refuse["busy@example.org"] = "451 4.7.1 Greylisted, try later"

    with pytest.raises(TransientSendError) as raised:
        plain_channel(smtp_server).send(email(to="busy@example.org"))

    assert raised.value.code == 451


def test_no_server_listening_is_transient() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
        channel = SmtpEmailChannel("127.0.0.1", port, from_addr=FROM, security="none")
        with pytest.raises(TransientSendError):
            channel.send(email())


@pytest.mark.parametrize(
    ("server_fixture", "security"), [("starttls_smtp_server", "starttls"), ("smtps_server", "ssl")]
)
def test_login_over_tls(
    request: pytest.FixtureRequest,
    self_signed_certificate: Certificate,
    server_fixture: str,
    security: Literal["starttls", "ssl"],
) -> None:
    server: SmtpServer = request.getfixturevalue(server_fixture)
    channel = SmtpEmailChannel(
        server.host,
        server.port,
        from_addr=FROM,
        username=SMTP_USER,
        password=SMTP_PASSWORD,
        security=security,
        ssl_context=self_signed_certificate.client_context(),
    )

    channel.send(email())

    assert server.mails[0].authenticated_as == SMTP_USER


def test_sending_in_clear_to_a_server_that_requires_starttls_fails_permanently(
    starttls_smtp_server: SmtpServer,
) -> None:
    channel = plain_channel(starttls_smtp_server)

    with pytest.raises(PermanentSendError) as raised:
        channel.send(email())

    assert raised.value.code == 530


def test_a_certificate_that_cannot_be_verified_is_not_trusted(
    starttls_smtp_server: SmtpServer,
) -> None:
    channel = SmtpEmailChannel(
        starttls_smtp_server.host, starttls_smtp_server.port, from_addr=FROM, security="starttls"
    )

    with pytest.raises(TransientSendError):
        channel.send(email())
    assert starttls_smtp_server.mails == []
