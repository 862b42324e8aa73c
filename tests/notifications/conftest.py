"""Fixtures for the notifications tests: the provider stand-ins (see provider_stand_ins.py)."""

from tests.notifications.provider_stand_ins import (  # noqa: F401 - fixtures are found by name
    _twilio_server,
    fake_twilio,
    self_signed_certificate,
    smtp_server,
    smtps_server,
    starttls_smtp_server,
)
