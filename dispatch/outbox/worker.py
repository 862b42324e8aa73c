"""The delivery worker: takes committed messages out of the outbox and hands them to a channel.

One round (:meth:`OutboxWorker.run_once`) is three short steps, each its own
transaction, so no database lock is held while a provider is called:

1. **Claim.** Due messages (``pending``, ``next_attempt_at <= now``) are
   selected ``FOR UPDATE SKIP LOCKED`` on PostgreSQL (under SQLite's
   ``BEGIN IMMEDIATE`` write lock), marked ``sending`` with this worker's id,
   the claim time and one more attempt, and committed *before* any send.
   Another worker skips them, so no two workers ever hold the same message.
2. **Send** through the message's channel, outside any transaction.
3. **Record** the outcome in a new transaction, only if the claim is still
   this worker's:

   =====================================  ==========================================
   outcome                                message becomes
   =====================================  ==========================================
   sent                                   ``sent`` (``logged`` by the log channel),
                                          with the provider id
   TransientSendError, nothing sent       ``pending`` again after an exponential,
                                          capped, jittered delay; after
                                          ``max_attempts`` ``failed`` + fallback
   TransientSendError, maybe_delivered    ``failed`` "may have been delivered",
                                          never resent; fallback on the other channel
   PermanentSendError                     ``failed`` with the reason; fallback
   =====================================  ==========================================

At most once: Twilio's Messages API has no idempotency key, so a message is
never sent again once a send of it may have reached the provider. That covers
a worker that died between claim and record: a message still ``sending``
after ``claim_lease`` is marked ``failed`` ("interrupted, may have been
delivered") and falls back to the other channel instead of being resent —
the reader may, rarely, get it on both channels, never twice on one. A worker
that is stopped (:meth:`stop`) or runs over half its lease puts its unsent
claims back to ``pending`` instead, so an ordinary restart loses nothing and
sends nothing twice.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from config.settings import Settings
from dispatch.clock import Clock
from dispatch.outbox import service
from dispatch.outbox.models import Message, MessageStatus
from dispatch.storage import unit_of_work
from notifications.channels import (
    Attachment,
    Channel,
    OutgoingMessage,
    PermanentSendError,
    SendResult,
    TransientSendError,
    channel_name,
)
from notifications.log_channel import LogChannel
from notifications.smtp_email import SmtpEmailChannel
from notifications.twilio_sms import TwilioSmsChannel

log = logging.getLogger(__name__)

STATUS_CALLBACK_PATH = "/webhooks/twilio/status"
ICS_CONTENT_TYPE = "text/calendar; method={method}; charset=utf-8"


def channels_from_settings(settings: Settings) -> dict[str, Channel]:
    """Twilio and SMTP where configured, else the log channel (SPEC "Configuration")."""
    sms: Channel = LogChannel("sms")
    email: Channel = LogChannel("email")
    if settings.sms_configured:
        assert settings.twilio_account_sid and settings.twilio_auth_token  # sms_configured says so
        sms = TwilioSmsChannel(
            settings.twilio_account_sid,
            settings.twilio_auth_token.get_secret_value(),
            from_number=settings.twilio_from,
            messaging_service_sid=settings.twilio_messaging_service_sid,
            api_base_url=settings.twilio_api_base,
        )
    if settings.email_configured:
        assert settings.smtp_host
        email = SmtpEmailChannel(
            settings.smtp_host,
            settings.smtp_port,
            from_addr=settings.smtp_from,
            username=settings.smtp_user,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            security=settings.smtp_security,
        )
    return {"sms": sms, "email": email}


@dataclass(frozen=True)
class RetryPolicy:
    """When to try a transiently failed message again.

    The first retries come quickly because an offer may live only 15
    minutes; the cap keeps a long provider outage from pushing a message
    hours away; `max_attempts` (about an hour in all) ends in the fallback.
    """

    first_delay: timedelta = timedelta(seconds=15)
    max_delay: timedelta = timedelta(minutes=15)
    max_attempts: int = 8

    def ceiling(self, attempts: int) -> timedelta:
        """The longest wait after the `attempts`-th failed attempt (before jitter)."""
        doublings = min(max(0, attempts - 1), 20)  # 2**20 steps is past any cap
        return min(self.max_delay, self.first_delay * (1 << doublings))

    def delay(self, attempts: int, rng: random.Random) -> timedelta:
        """Between half and all of the ceiling ("equal jitter"): workers that failed
        together do not all come back at the same second, yet none waits too long."""
        return self.ceiling(attempts) * (0.5 + rng.random() / 2)


@dataclass(frozen=True)
class Claim:
    """A message this worker holds in `sending`, copied out of the claim transaction."""

    message_id: int
    attempt: int
    claimed_at: datetime
    outgoing: OutgoingMessage


@dataclass(frozen=True)
class _Outcome:
    result: SendResult | None = None
    retry_reason: str | None = None
    failed_reason: str | None = None


def default_worker_id() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class OutboxWorker:
    """Delivers the outbox; any number of these may run against one database."""

    retry: RetryPolicy = RetryPolicy()
    #: A claim older than this is a dead worker's. Far above any channel's timeouts
    #: (10 s per network step), so a slow send is never mistaken for a dead one.
    claim_lease: timedelta = timedelta(minutes=10)

    def __init__(
        self,
        engine: Engine,
        *,
        settings: Settings,
        clock: Clock,
        channels: dict[str, Channel] | None = None,
        worker_id: str | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.clock = clock
        self.channels = channels if channels is not None else channels_from_settings(settings)
        self.worker_id = (worker_id or default_worker_id())[:64]
        self.status_callback_url = settings.public_base_url.rstrip("/") + STATUS_CALLBACK_PATH
        self._stopping = threading.Event()
        self._random = random.Random()

    # --- the round ----------------------------------------------------------------

    def run_once(self, limit: int = 50) -> int:
        """Claim up to `limit` due messages, send them and record the outcomes.

        Returns how many messages this round settled: sent, rescheduled,
        failed, and abandoned claims of dead workers marked failed. Claims
        put back unsent (on stop) do not count.
        """
        abandoned, claims = self._claim(limit)
        handled = abandoned
        for index, claim in enumerate(claims):
            if self._stopping.is_set() or self._overran(claim):
                self._release(claims[index:])
                break
            try:
                self._record(claim, self._send(claim))
            except Exception:
                # The database failed while recording: this message stays `sending`
                # (it may have gone out), the ones not yet tried go back to `pending`.
                self._release_quietly(claims[index + 1 :])
                raise
            handled += 1
        return handled

    def run_forever(self, *, idle_seconds: float = 1.0, limit: int = 50) -> None:
        """Deliver until :meth:`stop`; sleeps `idle_seconds` only when nothing was due."""
        while not self._stopping.is_set():
            try:
                busy = self.run_once(limit)
            except Exception:  # a lost database connection must not end delivery for good
                log.exception("outbox worker %s: round failed", self.worker_id)
                busy = 0
            if not busy:
                self._stopping.wait(idle_seconds)

    def stop(self) -> None:
        """Finish the message in hand, put the rest of the batch back, stop looping."""
        self._stopping.set()

    # --- step 1: claim ------------------------------------------------------------

    def _claim(self, limit: int) -> tuple[int, list[Claim]]:
        now = self.clock.now()
        with unit_of_work(self.engine, immediate=True) as session:
            abandoned = self._fail_abandoned(session, now)
            rows = session.exec(
                select(Message)
                .where(Message.status == MessageStatus.pending, col(Message.next_attempt_at) <= now)
                .order_by(col(Message.next_attempt_at), col(Message.id))
                .limit(limit)
                .with_for_update(skip_locked=True)  # SQLite: the IMMEDIATE lock does this
            ).all()
            claims = []
            for message in rows:
                message.status = MessageStatus.sending
                message.attempts += 1
                message.claimed_by = self.worker_id
                message.claimed_at = now
                session.add(message)
                claims.append(Claim(message.id, message.attempts, now, self._outgoing(message)))
        return abandoned, claims

    def _fail_abandoned(self, session: Session, now: datetime) -> int:
        """Messages a dead worker left in `sending`: failed and fallen back, never resent.

        The worker may have died before the provider call or after it; only
        the provider knows, and Twilio cannot be asked by idempotency key. A
        duplicate on the same channel is the one outcome ruled out, so the
        message is not sent again and the person's other channel carries it.
        """
        stale = session.exec(
            select(Message)
            .where(
                Message.status == MessageStatus.sending,
                col(Message.claimed_at) < now - self.claim_lease,
            )
            .with_for_update(skip_locked=True)
        ).all()
        for message in stale:
            log.warning(
                "message %s: worker %s stopped while sending it; not resent",
                message.id,
                message.claimed_by,
            )
            service.fail_with_fallback(
                session,
                message,
                settings=self.settings,
                now=now,
                reason=f"interrupted while sending (worker {message.claimed_by} stopped); "
                "may have been delivered, so not sent again",
            )
        return len(stale)

    def _outgoing(self, message: Message) -> OutgoingMessage:
        attachments: tuple[Attachment, ...] = ()
        if message.ics and message.channel == "email":
            method = "CANCEL" if "METHOD:CANCEL" in message.ics else "REQUEST"
            attachments = (
                Attachment(
                    "einsatz.ics", ICS_CONTENT_TYPE.format(method=method), message.ics.encode()
                ),
            )
        return OutgoingMessage(
            idempotency_key=message.idempotency_key,
            channel=channel_name(message.channel),
            to=message.recipient or "",
            body=message.body,
            subject=message.subject,
            html=message.html,
            attachments=attachments,
            status_callback_url=self.status_callback_url if message.channel == "sms" else None,
        )

    def _overran(self, claim: Claim) -> bool:
        """Past half the lease, another worker may soon take this claim for a dead one."""
        return self.clock.now() - claim.claimed_at > self.claim_lease / 2

    def _release(self, claims: list[Claim]) -> None:
        """Put claims that were never sent back to `pending`, the attempt not counted."""
        with unit_of_work(self.engine, immediate=True) as session:
            for claim in claims:
                message = self._still_mine(session, claim)
                if message is not None and message.status == MessageStatus.sending:
                    message.status = MessageStatus.pending
                    message.attempts -= 1
                    message.claimed_by = None
                    message.claimed_at = None
                    session.add(message)

    def _release_quietly(self, claims: list[Claim]) -> None:
        try:
            self._release(claims)
        except Exception:  # the database is still away: the lease will find them
            log.exception(
                "outbox worker %s: could not put %d claims back", self.worker_id, len(claims)
            )

    # --- step 2: send -------------------------------------------------------------

    def _send(self, claim: Claim) -> _Outcome:
        outgoing = claim.outgoing
        channel = self.channels.get(outgoing.channel)
        if channel is None:
            return _Outcome(failed_reason=f"no {outgoing.channel} channel is configured")
        if not outgoing.to:
            return _Outcome(failed_reason="no recipient address (erased?)")
        try:
            return _Outcome(result=channel.send(outgoing))
        except PermanentSendError as error:
            return _Outcome(failed_reason=error.reason)
        except TransientSendError as error:
            if error.maybe_delivered:
                return _Outcome(
                    failed_reason=f"may have been delivered ({error.reason}), so not sent again"
                )
            return _Outcome(retry_reason=error.reason)
        except Exception as error:  # a bug in a channel: whether it sent is unknown
            log.exception(
                "message %s: unexpected error from the %s channel",
                claim.message_id,
                outgoing.channel,
            )
            return _Outcome(
                failed_reason="may have been delivered"
                f" (unexpected {type(error).__name__}: {error}), so not sent again"
            )

    # --- step 3: record -----------------------------------------------------------

    def _still_mine(self, session: Session, claim: Claim) -> Message | None:
        message = session.exec(
            select(Message).where(Message.id == claim.message_id).with_for_update()
        ).first()
        if (
            message is None
            or message.claimed_by != self.worker_id
            or message.attempts != claim.attempt
        ):
            return None
        return message

    def _record(self, claim: Claim, outcome: _Outcome) -> None:
        now = self.clock.now()
        with unit_of_work(self.engine, immediate=True) as session:
            message = self._still_mine(session, claim)
            if message is None:
                log.error(
                    "message %s: claim %s/%s lost before its outcome was recorded",
                    claim.message_id,
                    self.worker_id,
                    claim.attempt,
                )
                return
            if message.status != MessageStatus.sending:
                # Taken for abandoned while this worker was slow: it has fallen back
                # already; a send that did go out is still worth recording.
                if outcome.result is not None:
                    self._mark_sent(
                        message,
                        outcome.result,
                        now,
                        note="sent late, after being marked interrupted; the fallback went out too",
                    )
                    session.add(message)
                return
            if outcome.result is not None:
                self._mark_sent(message, outcome.result, now)
            elif outcome.retry_reason is not None:
                self._reschedule(session, message, outcome.retry_reason, now)
            else:
                service.fail_with_fallback(
                    session,
                    message,
                    reason=outcome.failed_reason or "failed",
                    settings=self.settings,
                    now=now,
                )
            session.add(message)

    @staticmethod
    def _mark_sent(
        message: Message, result: SendResult, now: datetime, note: str | None = None
    ) -> None:
        message.status = MessageStatus.logged if result.status == "logged" else MessageStatus.sent
        message.provider_id = result.provider_id
        message.provider_status = result.status
        message.sent_at = now
        message.error = note

    def _reschedule(self, session: Session, message: Message, reason: str, now: datetime) -> None:
        if message.attempts >= self.retry.max_attempts:
            service.fail_with_fallback(
                session,
                message,
                settings=self.settings,
                now=now,
                reason=f"gave up after {message.attempts} attempts: {reason}",
            )
            return
        message.status = MessageStatus.pending
        message.next_attempt_at = now + self.retry.delay(message.attempts, self._random)
        message.error = f"attempt {message.attempts} failed: {reason}"[:500]
        message.claimed_by = None
        message.claimed_at = None
