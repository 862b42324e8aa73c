"""Every way a mediator's SMS reply is read."""

from __future__ import annotations

import pytest

from notifications.sms_commands import Command, parse_inbound


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("JA K7Q2", Command("accept", "K7Q2")),
        ("ja k7q2", Command("accept", "K7Q2")),
        ("  Ja    K7Q2  ", Command("accept", "K7Q2")),
        ("Ja, K7Q2!", Command("accept", "K7Q2")),
        ("JA-K7Q2", Command("accept", "K7Q2")),
        ("ja:k7q2.", Command("accept", "K7Q2")),
        ("JA K7 Q2", Command("accept", "K7Q2")),  # a phone's auto-spacing
        ("YES K7Q2", Command("accept", "K7Q2")),
        ("Evet K7Q2", Command("accept", "K7Q2")),
        ("да К7Q2", Command("accept", "K7Q2")),  # Cyrillic К typed for Latin K
        ("Так K7Q2", Command("accept", "K7Q2")),
        ("نعم K7Q2", Command("accept", "K7Q2")),
        ("بله K7Q2", Command("accept", "K7Q2")),
        ("JA ٤٥٦٧", Command("accept", "4567")),  # Arabic-Indic digits
        ("JA ۴۵۶۷", Command("accept", "4567")),  # Persian digits
        ("ＪＡ Ｋ７Ｑ２", Command("accept", "K7Q2")),  # full-width characters
        ("NEIN K7Q2", Command("decline", "K7Q2")),
        ("nein k7q2", Command("decline", "K7Q2")),
        ("No K7Q2", Command("decline", "K7Q2")),
        ("Hayır K7Q2", Command("decline", "K7Q2")),
        ("нет K7Q2", Command("decline", "K7Q2")),
        ("Ні K7Q2", Command("decline", "K7Q2")),
        ("لا K7Q2", Command("decline", "K7Q2")),
        ("نه K7Q2", Command("decline", "K7Q2")),
        ("NEIN 4711 keine Zeit", Command("decline", "4711")),  # a reason after the code
        ("nein 4711, bin krank", Command("decline", "4711")),
        ("No K7 Q2 sorry", Command("decline", "K7Q2")),
    ],
)
def test_accept_and_decline_with_a_code(text: str, command: Command) -> None:
    assert parse_inbound(text) == command


@pytest.mark.parametrize("text", ["JA", "ja", "Ja!", " ja. ", "YES", "Evet", "Да", "نعم"])
def test_a_bare_yes_is_an_accept_without_code(text: str) -> None:
    assert parse_inbound(text) == Command("accept", None)


@pytest.mark.parametrize("text", ["NEIN", "nein!", "No", "Hayır", "Нет", "لا"])
def test_a_bare_no_is_a_decline_without_code(text: str) -> None:
    assert parse_inbound(text) == Command("decline", None)


@pytest.mark.parametrize("text", ["STOP", "stop", "Stop!", "STOPP", "Stopp", "PAUSE"])
def test_stop_pauses(text: str) -> None:
    assert parse_inbound(text) == Command("stop")


@pytest.mark.parametrize("text", ["START", "start", "Start.", "WEITER"])
def test_start_resumes(text: str) -> None:
    assert parse_inbound(text) == Command("start")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "Hallo, wann ist der Termin?",
        "HILFE",
        "CANCEL",  # not ours: a mediator who wants to drop out uses the link
        "STOP bitte nicht mehr morgens",  # STOP only as a single word, like Twilio
        "START K7Q2",
        "JA K7Q2 und ich bringe meine Tochter mit",
        "JA K7Q2?!%",
        "JA 4711 ok",  # not code 4711OK: a yes with more words waits for a plain one
        "JA 4711 aber erst ab 10",
        "Vielleicht",
        "😀",
    ],
)
def test_anything_else_gets_help(text: str) -> None:
    assert parse_inbound(text) == Command("help")


def test_a_code_is_whatever_follows_so_an_unknown_one_can_be_answered() -> None:
    # "JA danke" is read as code DANKE: the webhook finds no such offer and
    # answers with sms_unknown_code, which explains how to reply.
    assert parse_inbound("JA danke") == Command("accept", "DANKE")
