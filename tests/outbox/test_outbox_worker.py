"""The delivery worker against the real twilio client, a local Twilio stand-in and aiosmtpd."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from config.settings import Settings
from dispatch.clock import ManualClock
from dispatch.outbox import service
from dispatch.outbox.models import Message, MessageStatus
from dispatch.outbox.worker import OutboxWorker, RetryPolicy, channels_from_settings
from dispatch.storage import unit_of_work
from notifications.channels import ChannelName, OutgoingMessage, SendResult
from notifications.log_channel import LogChannel
from notifications.smtp_email import SmtpEmailChannel
from notifications.twilio_sms import TwilioSmsChannel
from tests.conftest import Staff, mediator_payload
from tests.notifications.provider_stand_ins import FakeTwilio, SmtpServer
from tests.outbox.outbox_factories import (
    OFFER_EMAIL,
    OFFER_SMS,
    all_messages,
    make_offer,
    mediator_row,
    message_row,
    twilio_channel,
)


def sms_requests_to(fake: FakeTwilio, number: str) -> int:
    return sum(1 for r in fake.requests if r.fields.get("To") == number)


# --- the transactional outbox --------------------------------------------------------


def test_a_rolled_back_change_sends_nothing(
    engine: Engine,
    clock: ManualClock,
    worker: OutboxWorker,
    fake_twilio: FakeTwilio,
    make_mediator: Callable[..., int],
) -> None:
    mediator = mediator_row(engine, make_mediator())

    with pytest.raises(RuntimeError), unit_of_work(engine) as session:
        service.enqueue(
            session,
            key="offer:1:sms",
            kind="offer",
            channel="sms",
            to=mediator.phone,
            recipient_kind="mediator",
            recipient_id=mediator.id,
            locale="de",
            now=clock.now(),
            **OFFER_SMS,
        )
        session.flush()
        raise RuntimeError("the offer could not be saved")

    assert worker.run_once() == 0
    assert all_messages(engine) == []
    assert fake_twilio.requests == []


def test_a_committed_message_is_sent_once_with_the_status_callback(
    engine: Engine,
    worker: OutboxWorker,
    fake_twilio: FakeTwilio,
    settings: Settings,
    make_mediator: Callable[..., int],
    enqueue_offer: Callable[..., int],
) -> None:
    mediator = mediator_row(engine, make_mediator())
    message_id = enqueue_offer(mediator.id)

    assert worker.run_once() == 1
    assert worker.run_once() == 0

    [request] = fake_twilio.requests
    assert request.fields["To"] == mediator.phone
    assert request.fields["From"] == "+4925219999000"
    assert "4711" in request.fields["Body"] and OFFER_SMS["link"] in request.fields["Body"]
    assert request.fields["StatusCallback"] == "https://sprachpool.test/webhooks/twilio/status"
    message = message_row(engine, message_id)
    assert message.status == MessageStatus.sent
    assert message.provider_id is not None and message.provider_id.startswith("SM")
    assert message.provider_status == "queued"
    assert message.attempts == 1
    assert message.sent_at == worker.clock.now()


def test_an_offer_to_a_domain_with_umlauts_reaches_the_mail_server(
    client: TestClient,
    coordinator: Staff,
    engine: Engine,
    worker: OutboxWorker,
    smtp_server: SmtpServer,
    enqueue_offer: Callable[..., int],
) -> None:
    """Typed in the pool as info@bäckerei-müller.de, kept so, delivered to its ASCII form."""
    created = client.post(
        "/api/v1/mediators",
        json=mediator_payload(email="info@bäckerei-müller.de", channels=["email"]),
        headers=coordinator.headers,
    )
    assert created.status_code == 201, created.text
    message_id = enqueue_offer(created.json()["id"], channel="email")

    assert worker.run_once() == 1

    message = message_row(engine, message_id)
    assert message.status == MessageStatus.sent, message.error
    assert message.recipient == "info@bäckerei-müller.de"
    [mail] = smtp_server.mails
    assert mail.rcpt_tos == ["info@xn--bckerei-mller-bfb28a.de"]
    assert mail.message["To"] == "info@xn--bckerei-mller-bfb28a.de"


def test_not_due_messages_wait(
    engine: Engine,
    clock: ManualClock,
    worker: OutboxWorker,
    fake_twilio: FakeTwilio,
    make_mediator: Callable[..., int],
    enqueue_offer: Callable[..., int],
) -> None:
    message_id = enqueue_offer(make_mediator())
    with unit_of_work(engine) as session:
        message = session.get(Message, message_id)
        assert message is not None
        message.next_attempt_at = clock.now() + timedelta(minutes=5)
        session.add(message)

    assert worker.run_once() == 0
    clock.advance(timedelta(minutes=5))
    assert worker.run_once() == 1
    assert len(fake_twilio.requests) == 1


# --- retries -------------------------------------------------------------------------


def test_server_errors_are_retried_with_backoff_then_delivered_exactly_once(
    engine: Engine,
    clock: ManualClock,
    worker: OutboxWorker,
    fake_twilio: FakeTwilio,
    make_mediator: Callable[..., int],
    enqueue_offer: Callable[..., int],
) -> None:
    fake_twilio.behaviour = ["server_error", "rate_limited", "created"]
    message_id = enqueue_offer(make_mediator())
    policy = worker.retry

    assert worker.run_once() == 1
    first = message_row(engine, message_id)
    assert first.status == MessageStatus.pending
    assert "Twilio HTTP 500" in (first.error or "")
    wait = first.next_attempt_at - clock.now()
    assert policy.ceiling(1) / 2 <= wait <= policy.ceiling(1)

    assert worker.run_once() == 0, "not before the backoff is over"
    clock.advance(wait)
    assert worker.run_once() == 1
    second = message_row(engine, message_id)
    assert second.status == MessageStatus.pending and second.attempts == 2
    wait = second.next_attempt_at - clock.now()
    assert policy.ceiling(2) / 2 <= wait <= policy.ceiling(2), "the wait grows"

    clock.advance(policy.ceiling(2))
    assert worker.run_once() == 1
    clock.advance(timedelta(hours=2))
    assert worker.run_once() == 0

    delivered = message_row(engine, message_id)
    assert delivered.status == MessageStatus.sent and delivered.attempts == 3
    assert delivered.error is None
    assert len(fake_twilio.requests) == 3
    assert len({r.fields["Body"] for r in fake_twilio.requests}) == 1


def test_a_connect_timeout_is_retried_and_then_delivered_once(
    engine: Engine,
    clock: ManualClock,
    make_worker: Callable[..., OutboxWorker],
    fake_twilio: FakeTwilio,
    unanswered_port: int,
    make_mediator: Callable[..., int],
    enqueue_offer: Callable[..., int],
) -> None:
    """Nothing reached Twilio when the connection was never made, so a retry is safe."""
    worker = make_worker()
    worker.channels["sms"] = twilio_channel(f"http://127.0.0.1:{unanswered_port}", timeout=0.3)
    message_id = enqueue_offer(make_mediator())

    assert worker.run_once() == 1
    waiting = message_row(engine, message_id)
    assert waiting.status == MessageStatus.pending
    assert "connect timeout" in (waiting.error or "")

    worker.channels["sms"] = twilio_channel(fake_twilio.base_url)  # the network is back
    clock.advance(worker.retry.ceiling(1))
    assert worker.run_once() == 1
    assert message_row(engine, message_id).status == MessageStatus.sent
    assert len(fake_twilio.requests) == 1


def test_after_the_last_attempt_the_message_fails_and_falls_back(
    engine: Engine,
    clock: ManualClock,
    make_worker: Callable[..., OutboxWorker],
    fake_twilio: FakeTwilio,
    smtp_server: SmtpServer,
    make_mediator: Callable[..., int],
    enqueue_offer: Callable[..., int],
) -> None:
    fake_twilio.behaviour = "server_error"
    worker = make_worker()
    worker.retry = RetryPolicy(max_attempts=3)
    mediator = mediator_row(engine, make_mediator())
    message_id = enqueue_offer(mediator.id, fallback=OFFER_EMAIL)

    for _ in range(3):
        worker.run_once()
        clock.advance(worker.retry.max_delay)
    worker.run_once()  # the fallback email

    failed = message_row(engine, message_id)
    assert failed.status == MessageStatus.failed
    assert failed.error is not None and failed.error.startswith("gave up after 3 attempts")
    assert len(fake_twilio.requests) == 3
    [mail] = smtp_server.mails
    assert mail.rcpt_tos == [mediator.email]


# --- maybe delivered -----------------------------------------------------------------


def test_a_read_timeout_is_never_resent_and_the_email_carries_the_offer(
    engine: Engine,
    clock: ManualClock,
    make_worker: Callable[..., OutboxWorker],
    fake_twilio: FakeTwilio,
    smtp_server: SmtpServer,
    make_mediator: Callable[..., int],
    enqueue_offer: Callable[..., int],
) -> None:
    """Twilio may have taken the SMS before the answer was lost: one SMS at most."""
    fake_twilio.behaviour = ["hang", "created"]
    worker = make_worker()
    worker.channels["sms"] = twilio_channel(fake_twilio.base_url, timeout=0.3)
    mediator = mediator_row(engine, make_mediator())
    message_id = enqueue_offer(mediator.id, fallback=OFFER_EMAIL)

    assert worker.run_once() == 1
    clock.advance(timedelta(hours=3))
    worker.run_once()  # delivers the fallback email
    assert worker.run_once() == 0

    message = message_row(engine, message_id)
    assert message.status == MessageStatus.failed
    assert "may have been delivered" in (message.error or "")
    assert "read timeout" in (message.error or "")
    assert len(fake_twilio.requests) == 1
    [mail] = smtp_server.mails
    assert mail.rcpt_tos == [mediator.email]
    body = mail.message.get_body(("plain",))
    assert body is not None and OFFER_SMS["link"] in body.get_content()


# --- permanent failures and the fallback ---------------------------------------------


@pytest.mark.parametrize(
    ("behaviour", "reason"),
    [("invalid_number", "Twilio 21211"), ("opted_out", "Twilio 21610")],
)
def test_a_permanent_sms_failure_fails_the_message_and_emails_the_offer(
    behaviour: str,
    reason: str,
    engine: Engine,
    clock: ManualClock,
    worker: OutboxWorker,
    fake_twilio: FakeTwilio,
    smtp_server: SmtpServer,
    make_mediator: Callable[..., int],
    enqueue_offer: Callable[..., int],
    caseworker_request: int,
) -> None:
    """The workflow passes only the SMS fields; the expiry comes from the offer row."""
    fake_twilio.behaviour = behaviour
    mediator = mediator_row(engine, make_mediator(locale="en", name="Helen Tekle"))
    expires_at = clock.now() + timedelta(hours=1)
    offer_id = make_offer(
        engine,
        request_id=caseworker_request,
        mediator_id=mediator.id,
        expires_at=expires_at,
        now=clock.now(),
    )
    message_id = enqueue_offer(mediator.id, offer_id=offer_id, request_id=caseworker_request)

    assert worker.run_once() == 1
    assert worker.run_once() == 1  # the fallback
    assert worker.run_once() == 0

    failed, fallback = all_messages(engine)
    assert failed.id == message_id and failed.status == MessageStatus.failed
    assert failed.error is not None and failed.error.startswith(reason)
    assert f"sent by email instead (message {fallback.id})" in failed.error
    assert fallback.channel == "email" and fallback.status == MessageStatus.sent
    assert fallback.idempotency_key == failed.idempotency_key + ":fallback"
    assert (fallback.offer_id, fallback.request_id) == (offer_id, caseworker_request)
    assert len(fake_twilio.requests) == 1

    [mail] = smtp_server.mails
    assert mail.rcpt_tos == [mediator.email]
    body = mail.message.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert OFFER_SMS["link"] in text and "4711" in text
    assert "Helen Tekle" in text, "the email greets the person by name"
    assert mail.message["Subject"] == fallback.subject
    assert fallback.locale == "en"


def test_a_refused_email_falls_back_to_an_sms_without_the_notes(
    engine: Engine,
    worker: OutboxWorker,
    fake_twilio: FakeTwilio,
    smtp_server: SmtpServer,
    make_mediator: Callable[..., int],
    enqueue_offer: Callable[..., int],
) -> None:
    mediator = mediator_row(engine, make_mediator())
    assert mediator.email is not None
    smtp_server.recorder.refuse[mediator.email] = "550 5.1.1 no such user"
    message_id = enqueue_offer(mediator.id, channel="email")

    worker.run_once()
    worker.run_once()

    failed = message_row(engine, message_id)
    assert failed.status == MessageStatus.failed
    assert failed.error is not None and failed.error.startswith("SMTP 550")
    [sms] = fake_twilio.requests
    assert sms.fields["To"] == mediator.phone
    assert OFFER_SMS["link"] in sms.fields["Body"]
    assert "Peters" not in sms.fields["Body"], "notes never go by SMS"
    assert smtp_server.mails == []


def test_no_fallback_when_the_other_channel_already_has_the_message(
    engine: Engine,
    worker: OutboxWorker,
    fake_twilio: FakeTwilio,
    smtp_server: SmtpServer,
    make_mediator: Callable[..., int],
    enqueue_offer: Callable[..., int],
) -> None:
    """A mediator who wants both channels got the email anyway: no second email."""
    fake_twilio.behaviour = "invalid_number"
    mediator_id = make_mediator()
    sms_id = enqueue_offer(mediator_id, channel="sms", key="offer:9:sms", fallback=OFFER_EMAIL)
    enqueue_offer(mediator_id, channel="email", key="offer:9:email")

    worker.run_once()
    worker.run_once()

    assert message_row(engine, sms_id).error == "Twilio 21211: invalid 'To' phone number"
    assert len(smtp_server.mails) == 1
    assert len(all_messages(engine)) == 2


def test_no_fallback_without_an_address_on_the_other_channel(
    engine: Engine,
    worker: OutboxWorker,
    fake_twilio: FakeTwilio,
    smtp_server: SmtpServer,
    make_mediator: Callable[..., int],
    enqueue_offer: Callable[..., int],
) -> None:
    fake_twilio.behaviour = "invalid_number"
    message_id = enqueue_offer(make_mediator(email=None), fallback=OFFER_EMAIL)

    worker.run_once()
    worker.run_once()

    assert message_row(engine, message_id).status == MessageStatus.failed
    assert len(all_messages(engine)) == 1
    assert smtp_server.mails == []


# --- crashes and restarts ------------------------------------------------------------


def test_a_worker_that_died_between_claim_and_send_causes_no_resend(
    engine: Engine,
    clock: ManualClock,
    make_worker: Callable[..., OutboxWorker],
    fake_twilio: FakeTwilio,
    smtp_server: SmtpServer,
    make_mediator: Callable[..., int],
    enqueue_offer: Callable[..., int],
) -> None:
    """Its claim was committed; whether the SMS left is unknown, so it is not sent again."""
    mediator = mediator_row(engine, make_mediator())
    message_id = enqueue_offer(mediator.id, fallback=OFFER_EMAIL)
    dead = make_worker(worker_id="dead-worker")
    _, claims = dead._claim(50)  # claimed and committed, then the process is killed
    assert [c.message_id for c in claims] == [message_id]

    restarted = make_worker()
    assert restarted.run_once() == 0, "a fresh claim is left alone"
    assert message_row(engine, message_id).status == MessageStatus.sending

    clock.advance(restarted.claim_lease + timedelta(seconds=1))
    assert restarted.run_once() == 2, "the abandoned SMS failed, and its email fallback sent"

    message = message_row(engine, message_id)
    assert message.status == MessageStatus.failed
    assert "interrupted while sending (worker dead-worker stopped)" in (message.error or "")
    assert fake_twilio.requests == []
    [mail] = smtp_server.mails
    assert mail.rcpt_tos == [mediator.email]


def test_a_stopped_worker_puts_its_unsent_claims_back(
    engine: Engine,
    make_worker: Callable[..., OutboxWorker],
    fake_twilio: FakeTwilio,
    make_mediator: Callable[..., int],
    enqueue_offer: Callable[..., int],
) -> None:
    ids = [enqueue_offer(make_mediator()) for _ in range(3)]
    stopping = make_worker()
    stopping.stop()

    assert stopping.run_once() == 0
    for message_id in ids:
        message = message_row(engine, message_id)
        assert (message.status, message.attempts, message.claimed_by) == (
            MessageStatus.pending,
            0,
            None,
        )

    assert make_worker().run_once() == 3
    assert len(fake_twilio.requests) == 3


def test_a_database_failure_after_a_send_puts_only_the_untried_claims_back(
    engine: Engine,
    make_worker: Callable[..., OutboxWorker],
    fake_twilio: FakeTwilio,
    make_mediator: Callable[..., int],
    enqueue_offer: Callable[..., int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first, *rest = [enqueue_offer(make_mediator()) for _ in range(3)]
    worker = make_worker()

    def database_gone(*_args: object) -> None:
        raise ConnectionError("the database went away")

    monkeypatch.setattr(worker, "_record", database_gone)
    with pytest.raises(ConnectionError):
        worker.run_once()

    assert len(fake_twilio.requests) == 1
    assert message_row(engine, first).status == MessageStatus.sending, "sent, but not recorded"
    for message_id in rest:
        message = message_row(engine, message_id)
        assert (message.status, message.attempts) == (MessageStatus.pending, 0)


def test_a_send_that_outlasts_the_lease_is_recorded_but_not_repeated(
    engine: Engine,
    clock: ManualClock,
    make_worker: Callable[..., OutboxWorker],
    fake_twilio: FakeTwilio,
    smtp_server: SmtpServer,
    make_mediator: Callable[..., int],
    enqueue_offer: Callable[..., int],
) -> None:
    """A very slow send looks dead to another worker; the SMS still goes out only once."""
    mediator = mediator_row(engine, make_mediator())
    message_id = enqueue_offer(mediator.id, fallback=OFFER_EMAIL)
    other = make_worker(worker_id="other")
    twilio = twilio_channel(fake_twilio.base_url)

    class SlowChannel:
        name: ChannelName = "sms"

        def send(self, message: OutgoingMessage) -> SendResult:
            clock.advance(other.claim_lease + timedelta(minutes=1))
            other.run_once()  # takes the claim for a dead one: fails it, queues the email
            return twilio.send(message)

    slow = make_worker(worker_id="slow")
    slow.channels["sms"] = SlowChannel()
    assert slow.run_once() == 1
    other.run_once()

    message = message_row(engine, message_id)
    assert message.status == MessageStatus.sent
    assert message.provider_id is not None
    assert "sent late" in (message.error or "")
    assert len(fake_twilio.requests) == 1
    assert len(smtp_server.mails) == 1


# --- channels ------------------------------------------------------------------------


def test_without_provider_settings_messages_are_logged_and_kept(
    engine: Engine,
    clock: ManualClock,
    settings: Settings,
    make_mediator: Callable[..., int],
    enqueue_offer: Callable[..., int],
    fake_twilio: FakeTwilio,
    caplog: pytest.LogCaptureFixture,
) -> None:
    bare = settings.model_copy(update={"twilio_account_sid": None, "smtp_host": None})
    channels = channels_from_settings(bare)
    assert isinstance(channels["sms"], LogChannel) and isinstance(channels["email"], LogChannel)
    worker = OutboxWorker(engine, settings=bare, clock=clock)
    sms_id = enqueue_offer(make_mediator(), channel="sms")
    email_id = enqueue_offer(make_mediator(), channel="email")

    with caplog.at_level("INFO", logger="sprachpool.notifications"):
        assert worker.run_once() == 2

    assert message_row(engine, sms_id).status == MessageStatus.logged
    assert message_row(engine, email_id).status == MessageStatus.logged
    assert OFFER_SMS["link"] in caplog.text
    assert fake_twilio.requests == []


def test_configured_providers_are_used(settings: Settings) -> None:
    channels = channels_from_settings(settings)
    assert isinstance(channels["sms"], TwilioSmsChannel)
    assert isinstance(channels["email"], SmtpEmailChannel)


def test_an_assignment_email_carries_its_calendar_file(
    engine: Engine,
    clock: ManualClock,
    worker: OutboxWorker,
    smtp_server: SmtpServer,
    make_mediator: Callable[..., int],
) -> None:
    mediator = mediator_row(engine, make_mediator())
    with unit_of_work(engine) as session:
        service.enqueue(
            session,
            key="confirmed:1:email",
            kind="assignment_confirmed_mediator",
            channel="email",
            to=mediator.email,
            recipient_kind="mediator",
            recipient_id=mediator.id,
            locale="de",
            now=clock.now(),
            language="Tigrinya",
            start=OFFER_SMS["start"],
            end=OFFER_SMS["end"],
            mode="in_person",
            link=OFFER_SMS["link"],
            event_uid="assignment-1@sprachpool",
            place="Jobcenter Beckum",
        )

    assert worker.run_once() == 1

    [mail] = smtp_server.mails
    [calendar] = list(mail.message.iter_attachments())
    assert calendar.get_content_type() == "text/calendar"
    assert calendar.get_param("method") == "REQUEST"
    assert calendar.get_filename() == "einsatz.ics"
    content = calendar.get_content()
    assert "UID:assignment-1@sprachpool" in content.replace("\r\n ", "")


def test_a_worker_without_channels_settings_builds_them(
    engine: Engine,
    clock: ManualClock,
    settings: Settings,
    smtp_server: SmtpServer,
    make_mediator: Callable[..., int],
    enqueue_offer: Callable[..., int],
) -> None:
    worker = OutboxWorker(engine, settings=settings, clock=clock)
    enqueue_offer(make_mediator(), channel="email")
    assert worker.run_once() == 1
    assert len(smtp_server.mails) == 1
    assert isinstance(worker.channels["email"], SmtpEmailChannel)
