"""Templates, the page language and the formatting every page shares.

Texts come from the gettext catalogs in locales/ (English msgids; see the
README, "Texts and languages"), through Jinja's i18n extension: one template
environment per locale, so ``_``, ``ngettext`` and ``pgettext`` in a template
speak the page's language. Staff pages are German or English (a switch in the
header, kept in a cookie); a mediator's pages open in their own language.
Dates, numbers and names come from CLDR (Babel) in the same language, times
in the town's time zone, the way people there read them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

import locales
from dispatch.deps import get_settings
from dispatch.planning import reasons
from dispatch.users.models import User
from dispatch.web import names, questions
from dispatch.web.auth import VISITOR_COOKIE, form_token, secure_cookies

HERE = Path(__file__).parent
LANG_COOKIE = "sp_lang"
LANGS = locales.STAFF_LOCALES

#: Pages may only load what the service itself serves: no CDN, no inline script.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def page_environment(loader: jinja2.BaseLoader, locale: str) -> jinja2.Environment:
    """A template environment whose gettext speaks `locale` (autoescaped HTML)."""
    env = jinja2.Environment(
        loader=loader, autoescape=True, extensions=["jinja2.ext.i18n"], auto_reload=False
    )
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_translations(locales.translations(locale), newstyle=True)  # type: ignore[attr-defined]
    return env


@cache
def templates_for(locale: str) -> Jinja2Templates:
    env = page_environment(jinja2.FileSystemLoader(HERE / "templates"), locale)
    # A form's data-confirm takes its words from the question the page without scripts
    # asks (sure.py): ``f.question(questions.CANCEL_REQUEST, n=r.id)``.
    env.globals["questions"] = questions
    return Jinja2Templates(env=env)


#: Pages a mediator opens from a message: an offer (``/o/``) and their own page (``/m/``).
MEDIATOR_LINK_PATHS = ("/o/", "/m/")


def on_mediator_link(request: Request) -> bool:
    """Whether `request` is for a page a mediator opened from a message."""
    return request.url.path.startswith(MEDIATOR_LINK_PATHS)


def switch_choices(request: Request) -> tuple[str, ...]:
    """The languages the header's switch offers here: German and English on staff pages,
    every mediator language on a mediator's link."""
    return locales.MEDIATOR_LOCALES if on_mediator_link(request) else LANGS


def chosen_lang(request: Request) -> str | None:
    """The language the switch chose, where this page offers it (a mediator's Arabic
    is no staff page's language: those stay German or English)."""
    code = request.cookies.get(LANG_COOKIE)
    return code if code in switch_choices(request) else None


def page_lang(request: Request) -> str:
    """The language of a page for anyone: the switch's choice, else German."""
    return chosen_lang(request) or locales.DEFAULT_LOCALE


def visitor_lang(request: Request) -> str:
    """The language of a page that cannot tell who asked (an error, a link nobody owns).

    The language switch's choice where one was made. On a mediator's link
    without one, the browser's among the mediator languages: a link that no
    longer works names no mediator, and whoever opened it reads their phone's
    language better than German. Staff pages stay German or English.
    """
    chosen = chosen_lang(request)
    if chosen is not None or not on_mediator_link(request):
        return chosen or locales.DEFAULT_LOCALE
    asked = locales.from_accept_language(
        request.headers.get("accept-language"), locales.MEDIATOR_LOCALES
    )
    return asked or locales.DEFAULT_LOCALE


def switch_links(request: Request, current: str, own: str | None) -> list[tuple[str, str, str]]:
    """(code, the language's name in itself, its direction) for each language the switch
    offers besides the page's: German and English, and on a mediator's page their own
    language, so that whoever switched to German finds the way back to Arabic."""
    offered = [own] if own is not None and own in switch_choices(request) else []
    offered += [code for code in LANGS if code not in offered]
    return [
        (code, _autonym(code), locales.translator(code).direction)
        for code in offered
        if code != current
    ]


@cache
def _autonym(code: str) -> str:
    """ "Deutsch", "English", "العربية", "Українська": a language as its speakers write it."""
    name = locales.language_name(code, code)
    return name[:1].upper() + name[1:]


@dataclass(frozen=True)
class Formatter:
    """Words, dates, times, numbers and names in the page's language and the town's zone."""

    lang: str
    tz: ZoneInfo

    @property
    def t(self) -> locales.Translator:
        return locales.translator(self.lang)

    def gettext(self, message: str, /, **params: Any) -> str:
        return self.t.gettext(message, **params)

    def ngettext(self, singular: str, plural: str, n: int, /, **params: Any) -> str:
        return self.t.ngettext(singular, plural, n, **params)

    def pgettext(self, context: str, message: str, /, **params: Any) -> str:
        return self.t.pgettext(context, message, **params)

    def text(self, text: locales.Text | str) -> str:
        """A `locales.Text` (or a msgid) in the page's language."""
        return self.t.text(text)

    def question(self, question: questions.Question, /, **values: str | int | date) -> str:
        """An "are you sure?" question (dispatch/web/questions.py) in the page's language,
        a day among the `values` written short: the words of a form's ``data-confirm``
        and of the page that asks without scripts (sure.py) alike."""
        shown = {name: self.day(v) if isinstance(v, date) else v for name, v in values.items()}
        return self.t.gettext(question.text, **shown)

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.tz)

    def day(self, moment: datetime | date) -> str:
        """Weekday and day, short: "Di 01.12.", "Tue 1 Dec"."""
        return self.t.day(self.local(moment).date() if isinstance(moment, datetime) else moment)

    def day_long(self, value: date) -> str:
        """ "Dienstag, 1. Dezember 2026"."""
        return self.t.date(value, "full")

    def weekday(self, index: int, width: str = "wide") -> str:
        return self.t.weekday(index, "abbreviated" if width == "abbreviated" else "wide")

    def time(self, moment: datetime) -> str:
        return self.t.time(self.local(moment))

    def dt(self, moment: datetime | None) -> str:
        if moment is None:
            return "–"
        return f"{self.day(moment)} {self.time(moment)}"

    def span(self, start: datetime, end: datetime) -> str:
        return f"{self.day(start)} {self.time(start)}–{self.time(end)}"

    def minutes(self, value: float | None) -> str:
        """A duration as people say it: "45 Min.", "1 Std. 30 Min.", "2,5 Tg."."""
        if value is None:
            return "–"
        minutes = round(value)
        if minutes < 60:
            return self.t.unit(minutes, "duration-minute")
        hours, rest = divmod(minutes, 60)
        if hours >= 48:
            return self.t.unit(round(hours / 24, 1), "duration-day")
        shown = self.t.unit(hours, "duration-hour")
        return f"{shown} {self.t.unit(rest, 'duration-minute')}" if rest else shown

    def percent(self, value: float | None) -> str:
        return "–" if value is None else self.t.percent(value)

    def number(self, value: float | None, digits: int = 1) -> str:
        return "–" if value is None else self.t.number(value, digits)

    def euros(self, value: Decimal | None) -> str:
        """An amount in euros as the reader writes it: "1.234,50 €", "€1,234.50"."""
        return "–" if value is None else self.t.currency(value)

    def language(self, tag: str | None) -> str:
        return self.t.language(tag)

    def qualification(self, tag: str | None) -> str:
        return self.t.qualification(tag)

    def reason(self, reason: Mapping[str, Any]) -> str:
        """An engine's reason (its code and params) as a sentence in the page's language."""
        return reasons.describe(reason["code"], reason["params"], t=self.t, tz=self.tz)

    def clearance_item(self, item: str) -> str:
        """A clearance item ("police_certificate") by its name in the page's language."""
        return reasons.clearance_item(item, self.t)

    def status(self, status: str) -> str:
        return self._named(names.STATUS, status)

    def mode(self, mode: str) -> str:
        return self._named(names.MODE, mode)

    def level(self, level: str) -> str:
        return self._named(names.LEVEL, level)

    def score_part(self, name: str) -> str:
        return self._named(names.SCORE_PART, name)

    def travel(self, mode: str) -> str:
        return self._named(names.TRAVEL, mode)

    def message_kind(self, kind: str) -> str:
        return self._named(names.MESSAGE_KIND, kind)

    def recipient_kind(self, kind: str) -> str:
        return self._named(names.RECIPIENT_KIND, kind)

    def channels(self, channels: str) -> str:
        """An offer's channels ("sms,email") in words; "direct" as the override it was."""
        return ", ".join(self._named(names.CHANNEL, part) for part in channels.split(",") if part)

    def _named(self, table: Mapping[str, str], code: object) -> str:
        msgid = table.get(str(code))
        return self.t.gettext(msgid) if msgid else str(code)


def formatter(request: Request, lang: str | None = None) -> Formatter:
    """Formatting for `request`'s page: in `lang`, else in the page's language."""
    return Formatter(lang=lang or page_lang(request), tz=get_settings(request).tz)


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

    `lang` is the page's language when no switch was chosen (a mediator's own
    locale, any of locales.MEDIATOR_LOCALES; right to left where the script is).
    """
    own = locales.resolve(lang) if lang is not None else None
    shown = chosen_lang(request) or own or locales.DEFAULT_LOCALE
    fmt = Formatter(lang=shown, tz=get_settings(request).tz)
    values: dict[str, Any] = {
        "lang": fmt.lang,
        "switch_links": switch_links(request, fmt.lang, own),
        "dir": fmt.t.direction,
        "f": fmt,
        "csrf_token": form_token(request),
        "user": user if user is not None else getattr(request.state, "web_user", None),
        "path": request.url.path,
        "full_path": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
    }
    values.update(context or {})
    response = templates_for(fmt.lang).TemplateResponse(
        request, name, values, status_code=status_code
    )
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
