"""Without provider settings, every message goes to the log in full."""

from __future__ import annotations

import logging

import pytest

from notifications.channels import Channel, OutgoingMessage
from notifications.log_channel import LogChannel


def test_an_sms_is_logged_whole_and_reported_as_logged(caplog: pytest.LogCaptureFixture) -> None:
    channel = LogChannel("sms")
    message = OutgoingMessage(
        "msg-1", "sms", "+491701234567", "Zusagen: https://sprachpool.beckum.de/o/AbC oder JA K7Q2"
    )

    with caplog.at_level(logging.INFO, logger="sprachpool.notifications"):
        result = channel.send(message)

    assert isinstance(channel, Channel)
    assert result.status == "logged"
    assert result.provider_id == "log:msg-1"
    assert "+491701234567" in caplog.text
    assert "https://sprachpool.beckum.de/o/AbC oder JA K7Q2" in caplog.text
    assert "no Twilio settings" in caplog.text


def test_a_log_channel_refuses_messages_for_the_other_channel() -> None:
    with pytest.raises(ValueError):
        LogChannel("email").send(OutgoingMessage("msg-1", "sms", "+49170", "hi"))
