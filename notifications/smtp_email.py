"""Email over SMTP: plain text and HTML alternatives, attachments (.ics), login.

One connection per message keeps failure handling simple and is plenty for a
town's volume. Reply codes decide the outcome: 5xx means the server will
never take this mail (Permanent), 4xx and network trouble mean later
(Transient).
"""

from __future__ import annotations

import hashlib
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate
from typing import Literal

from notifications.addresses import ascii_address, ascii_sender
from notifications.channels import (
    Attachment,
    ChannelName,
    OutgoingMessage,
    PermanentSendError,
    SendResult,
    TransientSendError,
    require_channel,
)

Security = Literal["starttls", "ssl", "none"]


def message_id_for(idempotency_key: str, from_addr: str) -> str:
    """A stable Message-ID: the same outbox message always gets the same one."""
    digest = hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:32]
    domain = from_addr.rpartition("@")[2].strip("> ") or "sprachpool.invalid"
    return f"<{digest}@{domain}>"


def _split_content_type(content_type: str) -> tuple[str, str, dict[str, str]]:
    kind, *raw_params = (part.strip() for part in content_type.split(";"))
    maintype, _, subtype = kind.partition("/")
    params = {}
    for raw in raw_params:
        key, _, value = raw.partition("=")
        if key:
            params[key.strip().lower()] = value.strip().strip('"')
    return maintype, subtype or "octet-stream", params


def _attach(mail: EmailMessage, attachment: Attachment) -> None:
    maintype, subtype, params = _split_content_type(attachment.content_type)
    if maintype == "text":
        params.setdefault("charset", "utf-8")  # else readers decode the .ics as ASCII
    mail.add_attachment(
        attachment.data,
        maintype=maintype,
        subtype=subtype,
        filename=attachment.filename,
        params=params,
    )


def build_email(message: OutgoingMessage, from_addr: str) -> EmailMessage:
    """multipart/alternative (plain + HTML), in multipart/mixed when there are attachments.

    Addresses go into the headers with their domains in ASCII (xn--...): a Unicode
    domain would need SMTPUTF8, and Python would write it as an encoded word,
    which no mail server reads as an address.
    """
    from_addr = ascii_sender(from_addr)
    mail = EmailMessage()
    mail["From"] = from_addr
    mail["To"] = ascii_address(message.to)
    mail["Subject"] = message.subject or ""
    mail["Date"] = formatdate(localtime=False, usegmt=True)
    mail["Message-ID"] = message_id_for(message.idempotency_key, from_addr)
    mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office loops
    mail.set_content(message.body, cte="quoted-printable")
    if message.html:
        mail.add_alternative(message.html, subtype="html", cte="quoted-printable")
    for attachment in message.attachments:
        _attach(mail, attachment)
    return mail


def _classify_reply(code: int, text: str, what: str) -> Exception:
    if 400 <= code < 500:
        return TransientSendError(f"SMTP {code} {what}: {text}", code=code)
    return PermanentSendError(f"SMTP {code} {what}: {text}", code=code)


def _reply_text(raw: bytes | str) -> str:
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)


class SmtpEmailChannel:
    name: ChannelName = "email"

    def __init__(
        self,
        host: str,
        port: int,
        *,
        from_addr: str,
        username: str | None = None,
        password: str | None = None,
        security: Security = "starttls",
        timeout: float = 10,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if security not in ("starttls", "ssl", "none"):
            raise ValueError(f"security must be starttls, ssl or none, not {security!r}")
        self.host = host
        self.port = port
        self.from_addr = from_addr
        self.username = username
        self.password = password
        self.security = security
        self.timeout = timeout
        self.ssl_context = ssl_context or ssl.create_default_context()

    def _connect(self) -> smtplib.SMTP:
        if self.security == "ssl":
            return smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=self.ssl_context
            )
        smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        if self.security == "starttls":
            smtp.starttls(context=self.ssl_context)
        return smtp

    def send(self, message: OutgoingMessage) -> SendResult:
        require_channel(self, message)
        try:
            sender, recipient = ascii_sender(self.from_addr), ascii_address(message.to)
        except ValueError as error:  # a domain without an ASCII form: no retry mends it
            raise PermanentSendError(f"not a deliverable address: {error}") from error
        mail = build_email(message, sender)
        try:
            with self._connect() as smtp:
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(mail, from_addr=sender, to_addrs=[recipient])
        except smtplib.SMTPRecipientsRefused as error:
            code, raw = next(iter(error.recipients.values()), (550, b"refused"))
            raise _classify_reply(code, _reply_text(raw), "recipient refused") from error
        except smtplib.SMTPAuthenticationError as error:
            # Wrong SMTP_USER/SMTP_PASSWORD: no retry fixes it, the fallback channel might.
            raise PermanentSendError(
                f"SMTP login refused ({error.smtp_code}); check SMTP_USER/SMTP_PASSWORD",
                code=error.smtp_code,
            ) from error
        except smtplib.SMTPNotSupportedError as error:
            raise PermanentSendError(f"SMTP server lacks a needed feature: {error}") from error
        except smtplib.SMTPServerDisconnected as error:
            raise TransientSendError(
                f"SMTP server disconnected: {error}", maybe_delivered=True
            ) from error
        except smtplib.SMTPConnectError as error:
            raise TransientSendError(
                f"SMTP connect refused {error.smtp_code}", code=error.smtp_code
            ) from error
        except smtplib.SMTPResponseException as error:  # sender refused, data refused, ...
            raise _classify_reply(
                error.smtp_code, _reply_text(error.smtp_error), "refused"
            ) from error
        except (OSError, smtplib.SMTPException) as error:  # refused, timeout, TLS trouble
            raise TransientSendError(f"SMTP connection failed: {error!r}") from error
        return SendResult(provider_id=mail["Message-ID"], status="sent")
