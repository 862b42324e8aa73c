"""Reading a mediator's SMS reply.

Understood (case-insensitive, surrounding punctuation and extra spaces ignored):

- ``JA <code>`` / ``NEIN <code>``: accept or decline the offer with that short
  code; words after a NEIN's code (a reason) are ignored, a JA with words after
  its code gets the help text (they may be a condition). Also ``YES``/``NO``
  and the words for yes/no in the mediator locales (``EVET``/``HAYIR``,
  ``ДА``/``НЕТ``, ``ТАК``/``НІ``, ``نعم``/``لا``, ``بله``/``نه``).
  ``JA-K7Q2``, ``ja:k7q2`` and ``Ja, K7Q2!`` work too.
- bare ``JA`` / ``NEIN``: the same without a code; the webhook applies it only
  when the sender has exactly one pending offer.
- ``STOP`` / ``STOPP`` / ``PAUSE``: pause the mediator; ``START`` / ``WEITER``:
  resume.
- anything else: :class:`Command` ``help``.

Codes are normalised to upper-case ASCII: Arabic-Indic and Persian digits
become 0-9 and Cyrillic letters that look like Latin ones (a Russian keyboard
typing ``К7О2``) become Latin.

Twilio's own opt-out handling runs *before* our webhook and, by default, turns
a single-word ``STOP``, ``STOPALL``, ``UNSUBSCRIBE``, ``CANCEL``, ``END``,
``QUIT`` (and, newer, ``REVOKE``, ``OPTOUT``) into a block at Twilio (error
21610 on every later send), and answers ``START``/``YES``/``UNSTOP`` and
``HELP``/``INFO`` itself. A mediator who texts "CANCEL" meaning "I can't come"
would silently stop receiving offers. Configure the messaging service's
Advanced Opt-Out as described in ``notifications/README.md``
("Twilio opt-out settings") so only STOP/STOPP block, YES is not an opt-in
word, and the confirmations are ours.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from locales import western_digits

CommandKind = Literal["accept", "decline", "stop", "start", "help"]

ACCEPT_WORDS = frozenset({"JA", "YES", "EVET", "ДА", "ТАК", "نعم", "بله", "آره"})
DECLINE_WORDS = frozenset({"NEIN", "NO", "HAYIR", "НЕТ", "НІ", "لا", "نه", "خیر"})
STOP_WORDS = frozenset({"STOP", "STOPP", "PAUSE"})
START_WORDS = frozenset({"START", "WEITER"})

# Cyrillic capitals that look like Latin ones, for codes typed on a Cyrillic keyboard.
_CYRILLIC_LOOKALIKES = str.maketrans("АВЕКМНОРСТХУІ", "ABEKMHOPCTXYI")
_CODE = re.compile(r"^[A-Z0-9]{2,12}$")
_SEPARATORS = re.compile(r"[\s,.;:!?\-_#'\"()\u060C\u061B\u061F\u06D4]+")


@dataclass(frozen=True)
class Command:
    kind: CommandKind
    code: str | None = None  # only for accept/decline; None for a bare JA/NEIN


HELP = Command("help")


def _normalise_code(raw: str) -> str:
    return western_digits(raw.upper()).translate(_CYRILLIC_LOOKALIKES)


def parse_inbound(text: str) -> Command:
    """Turn an inbound SMS body into the command it asks for."""
    normalised = unicodedata.normalize("NFKC", text or "").upper()
    words = [word for word in _SEPARATORS.split(normalised) if word]
    if not words:
        return HELP
    keyword, rest = words[0], words[1:]
    if len(words) == 1:
        if keyword in STOP_WORDS:
            return Command("stop")
        if keyword in START_WORDS:
            return Command("start")
    if keyword in ACCEPT_WORDS or keyword in DECLINE_WORDS:
        kind: CommandKind = "accept" if keyword in ACCEPT_WORDS else "decline"
        if not rest:
            return Command(kind)
        code, used = _code_of(rest)
        # Words after the code: a no stays a no ("NEIN 4711 keine Zeit"); a yes with more
        # to say ("JA 4711 aber erst ab 10") may carry a condition nobody would read,
        # so it is not taken: the help text asks for the plain reply.
        if code is not None and (used == len(rest) or kind == "decline"):
            return Command(kind, code)
    return HELP


def _code_of(words: list[str]) -> tuple[str | None, int]:
    """The code at the start of `words` and how many words it took.

    A word of four or more with a digit is a whole code, so "4711 ok" is code
    4711 and not 4711OK; two words make one code when a phone's auto-spacing
    split it ("K7 Q2"); a lone word is taken as it is, so an unknown one
    ("JA danke") can be answered as an unknown code.
    """
    first = _normalise_code(words[0])
    if _CODE.match(first) and len(first) >= 4 and any(char.isdigit() for char in first):
        return first, 1
    if len(words) >= 2:
        joined = _normalise_code(words[0] + words[1])
        if _CODE.match(joined):
            return joined, 2
    if _CODE.match(first):
        return first, 1
    return None, 0
