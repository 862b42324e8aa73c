"""Templates, the page language and the formatting every page shares.

German is the source language of the pages (`_("Anmelden")`); English is a
translation table in i18n.py, chosen with the language switch (a cookie).
Times are shown in the town's time zone, the way people there read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from config import data as config_data
from dispatch.deps import get_settings
from dispatch.users.models import User
from dispatch.web import i18n
from dispatch.web.auth import VISITOR_COOKIE, form_token, secure_cookies

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
LANG_COOKIE = "sp_lang"
LANGS = ("de", "en")

WEEKDAYS = {
    "de": ["Mo", "Di", "Mi", "Do", "Fr", "Sa", "So"],
    "en": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
}
WEEKDAYS_LONG = {
    "de": ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"],
    "en": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
}

#: Pages may only load what the service itself serves: no CDN, no inline script.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def page_lang(request: Request) -> str:
    lang = request.cookies.get(LANG_COOKIE, "de")
    return lang if lang in LANGS else "de"


@dataclass(frozen=True)
class Formatter:
    """Dates, times and names in the page's language and the town's zone."""

    lang: str
    tz: ZoneInfo

    def t(self, text: str) -> str:
        return i18n.translate(text, self.lang)

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.tz)

    def day(self, moment: datetime | date) -> str:
        value = self.local(moment).date() if isinstance(moment, datetime) else moment
        weekday = WEEKDAYS[self.lang][value.weekday()]
        return (
            f"{weekday} {value.day:02d}.{value.month:02d}."
            if self.lang == "de"
            else f"{weekday} {value.day} {value.strftime('%b')}"
        )

    def day_long(self, value: date) -> str:
        weekday = WEEKDAYS_LONG[self.lang][value.weekday()]
        return (
            f"{weekday}, {value.day}.{value.month}.{value.year}"
            if self.lang == "de"
            else f"{weekday}, {value.day} {value.strftime('%B %Y')}"
        )

    def time(self, moment: datetime) -> str:
        return self.local(moment).strftime("%H:%M")

    def dt(self, moment: datetime | None) -> str:
        if moment is None:
            return "–"
        return f"{self.day(moment)} {self.time(moment)}"

    def span(self, start: datetime, end: datetime) -> str:
        return f"{self.day(start)} {self.time(start)}–{self.time(end)}"

    def minutes(self, value: float | None) -> str:
        if value is None:
            return "–"
        minutes = round(value)
        if minutes < 60:
            return f"{minutes} min"
        hours, rest = divmod(minutes, 60)
        if hours >= 48:
            return f"{hours / 24:.1f} d".replace(".", "," if self.lang == "de" else ".")
        return f"{hours} h {rest:02d} min" if rest else f"{hours} h"

    def percent(self, value: float | None) -> str:
        if value is None:
            return "–"
        text = f"{value * 100:.0f} %"
        return text if self.lang == "de" else text.replace(" %", "%")

    def number(self, value: float | None, digits: int = 1) -> str:
        if value is None:
            return "–"
        text = f"{value:.{digits}f}"
        return text.replace(".", ",") if self.lang == "de" else text

    def language(self, tag: str | None) -> str:
        if not tag:
            return "–"
        found = config_data.languages().get(tag.lower())
        if found is None:
            return tag
        return found.de if self.lang == "de" else found.en

    def qualification(self, tag: str | None) -> str:
        if not tag:
            return "–"
        found = config_data.qualifications().get(tag)
        if found is None:
            return tag
        return found.de if self.lang == "de" else found.en

    def status(self, status: str) -> str:
        return self.t(i18n.STATUS_DE.get(str(status), str(status)))

    def mode(self, mode: str) -> str:
        return self.t(i18n.MODE_DE.get(str(mode), str(mode)))

    def level(self, level: str) -> str:
        return self.t(i18n.LEVEL_DE.get(str(level), str(level)))

    def score_part(self, name: str) -> str:
        return self.t(i18n.SCORE_PART_DE.get(name, name))

    def travel(self, mode: str) -> str:
        return self.t(i18n.TRAVEL_DE.get(str(mode), str(mode)))


def formatter(request: Request) -> Formatter:
    return Formatter(lang=page_lang(request), tz=get_settings(request).tz)


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    user: User | None = None,
    lang: str | None = None,
) -> HTMLResponse:
    """A page with everything the layout needs: language, CSRF token, the user, formatting.

    `lang` is the page's language when no switch was chosen (a mediator's own locale).
    """
    if lang not in LANGS or LANG_COOKIE in request.cookies:
        lang = page_lang(request)
    fmt = Formatter(lang=lang, tz=get_settings(request).tz)
    values: dict[str, Any] = {
        "lang": fmt.lang,
        "_": fmt.t,
        "f": fmt,
        "csrf_token": form_token(request),
        "user": user if user is not None else getattr(request.state, "web_user", None),
        "path": request.url.path,
        "full_path": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
    }
    values.update(context or {})
    response = templates.TemplateResponse(request, name, values, status_code=status_code)
    settings = get_settings(request)
    new_visitor = getattr(request.state, "new_visitor", None)
    if new_visitor:
        response.set_cookie(
            VISITOR_COOKIE,
            new_visitor,
            httponly=True,
            samesite="lax",
            secure=secure_cookies(settings),
            path="/",
        )
    apply_page_headers(response)
    return response


def apply_page_headers(response: HTMLResponse) -> None:
    """No caching of personal pages, no framing, and no token-bearing URL leaks via Referer."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
