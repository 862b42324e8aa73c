"""Reading a mediator's SMS reply.

Understood (case-insensitive, surrounding punctuation and extra spaces ignored):

- ``JA <code>`` / ``NEIN <code>``: accept or decline the offer with that short
  code. Also ``YES``/``NO`` and the words for yes/no in the mediator locales
  (``EVET``/``HAYIR``, ``ДА``/``НЕТ``, ``ТАК``/``НІ``, ``نعم``/``لا``,
  ``بله``/``نه``). ``JA-K7Q2``, ``ja:k7q2`` and ``Ja, K7Q2!`` work too.
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
    digits = "".join(
        str(unicodedata.digit(char)) if char.isdigit() else char for char in raw.upper()
    )
    return digits.translate(_CYRILLIC_LOOKALIKES)


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
        code = _normalise_code("".join(rest))
        if len(rest) <= 2 and _CODE.match(code):  # "JA K7 Q2" from a phone's auto-spacing
            return Command(kind, code)
    return HELP
