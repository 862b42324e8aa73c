"""English for the pages, whose source language is German.

Templates and routes write German (`_("Anmelden")`); this table gives the
English. A missing entry shows the German text, and a test checks that
every text the templates use has its English here.
"""

from __future__ import annotations

STATUS_DE = {
    "open": "offen",
    "offered": "angefragt",
    "assigned": "besetzt",
    "completed": "erledigt",
    "cancelled": "storniert",
    "unfilled": "nicht besetzt",
    "pending": "wartet",
    "accepted": "angenommen",
    "declined": "abgelehnt",
    "expired": "abgelaufen",
    "withdrawn": "zurückgezogen",
    "sending": "wird gesendet",
    "sent": "gesendet",
    "delivered": "zugestellt",
    "failed": "fehlgeschlagen",
    "logged": "nur protokolliert",
}

MODE_DE = {"in_person": "vor Ort", "phone": "Telefon", "video": "Video"}

EN: dict[str, str] = {
}


def translate(text: str, lang: str) -> str:
    if lang == "de":
        return text
    return EN.get(text, text)
