"""Every message Sprachpool sends, in the reader's language.

Texts live in ``notifications/templates/<locale>.toml`` (one file a locale,
Jinja syntax, documented in ``notifications/README.md``); this module is the
contract: which kinds exist, on which channel, for whom, and exactly which
fields each one takes. :func:`render` refuses a missing field and an
unexpected one alike, so nothing personal can slip into a message by
accident, and no SMS kind may even declare a client or notes field.

Dates and times are shown in Europe/Berlin, whatever zone they arrive in.
"""

from __future__ import annotations

import html as html_lib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Any, Literal
from zoneinfo import ZoneInfo

import jinja2
from markupsafe import Markup

from notifications.channels import Attachment, ChannelName
from notifications.ics import make_ics
from notifications.segments import sms_segments

BERLIN = ZoneInfo("Europe/Berlin")
Audience = Literal["mediator", "caseworker", "coordinator", "staff"]

MEDIATOR_LOCALES = ("de", "en", "ar", "uk", "ru", "fa", "tr")
STAFF_LOCALES = ("de", "en")
FALLBACK_LOCALE = "de"
LOCALE_ALIASES = {"prs": "fa"}  # Dari speakers read the Farsi texts
RTL_LOCALES = frozenset({"ar", "fa"})

# Fields that hold a client's identity or free text about the case: never in an SMS.
FORBIDDEN_SMS_FIELDS = frozenset(
    {"client", "client_name", "client_ref", "client_reference", "notes", "notes_for_mediator"}
)


class TemplateError(Exception):
    """A message could not be rendered: unknown kind, missing or unexpected field."""


@dataclass(frozen=True)
class TemplateSpec:
    kind: str
    channel: ChannelName
    audience: Audience
    required: frozenset[str]
    optional: frozenset[str] = frozenset()
    max_segments: int | None = None  # SMS budget the text must keep
    droppable: tuple[str, ...] = ()  # optional fields left out first to keep the budget
    shortenable: tuple[str, ...] = ()  # then these are cut (from the end), to MIN_KEPT chars

    @property
    def locales(self) -> tuple[str, ...]:
        return MEDIATOR_LOCALES if self.audience == "mediator" else STAFF_LOCALES


@dataclass(frozen=True)
class RenderedMessage:
    subject: str | None  # emails only
    body: str
    html: str | None  # emails only
    locale: str  # the locale actually used, after fallback
    attachments: tuple[Attachment, ...] = field(default=())


def _spec(
    kind: str,
    channel: ChannelName,
    audience: Audience,
    required: str = "",
    optional: str = "",
    **extra: Any,
) -> TemplateSpec:
    return TemplateSpec(
        kind, channel, audience, frozenset(required.split()), frozenset(optional.split()), **extra
    )


WHEN = "language start end mode"
SPECS: dict[tuple[str, ChannelName], TemplateSpec] = {
    (spec.kind, spec.channel): spec
    for spec in [
        # to mediators
        _spec("offer", "sms", "mediator", f"{WHEN} link code", "place subject",
              max_segments=2, droppable=("subject",), shortenable=("place",)),
        _spec("offer", "email", "mediator", f"{WHEN} link code expires_at",
              "place subject notes organisation recipient_name"),
        _spec("offer_withdrawn", "sms", "mediator", "language start"),
        _spec("offer_withdrawn", "email", "mediator", "language start", "recipient_name"),
        _spec("assignment_confirmed_mediator", "sms", "mediator", f"{WHEN} link", "place",
              max_segments=2, shortenable=("place",)),
        _spec("assignment_confirmed_mediator", "email", "mediator", f"{WHEN} link event_uid",
              "place address subject notes organisation contact_name contact_phone "
              "recipient_name"),
        _spec("reminder_24h", "sms", "mediator", f"{WHEN} link code", "place",
              max_segments=2, shortenable=("place",)),
        _spec("reminder_24h", "email", "mediator", f"{WHEN} link code",
              "place address recipient_name"),
        _spec("reminder_2h", "sms", "mediator", "language start mode", "place",
              max_segments=2, shortenable=("place",)),
        _spec("reminder_2h", "email", "mediator", "language start mode link",
              "place address recipient_name"),
        _spec("cancelled_mediator", "sms", "mediator", "language start"),
        _spec("cancelled_mediator", "email", "mediator", "language start end event_uid",
              "place recipient_name"),
        _spec("completion_request", "sms", "mediator", "language start link", max_segments=2),
        _spec("completion_request", "email", "mediator", "language start link",
              "recipient_name"),
        _spec("sms_help", "sms", "mediator", "", "contact_phone", max_segments=2),
        _spec("sms_paused", "sms", "mediator", max_segments=1),
        _spec("sms_resumed", "sms", "mediator", max_segments=1),
        _spec("sms_accept_ok", "sms", "mediator", "language start", "place",
              max_segments=2, shortenable=("place",)),
        _spec("sms_decline_ok", "sms", "mediator", max_segments=1),
        _spec("sms_unknown_code", "sms", "mediator", "", "code", max_segments=1),
        # to caseworkers
        # `replaces`: a new mediator instead of the one confirmed before.
        _spec("assignment_confirmed_caseworker", "email", "caseworker",
              f"{WHEN} mediator_name mediator_phone request_link",
              "place recipient_name replaces"),
        # The confirmed mediator is not coming and the request is offered again;
        # never names them (they may have been erased).
        _spec("assignment_cancelled_caseworker", "email", "caseworker",
              "language start end request_link", "recipient_name"),
        # `dropped_out`: the confirmed mediator is not coming, and nobody else was found.
        _spec("request_unfilled_caseworker", "email", "caseworker",
              "language start end request_link", "recipient_name dropped_out"),
        _spec("request_cancelled_caseworker", "email", "caseworker",
              "language start end request_link", "recipient_name reason"),
        # to the coordinator
        _spec("alert_unfilled_coordinator", "email", "coordinator",
              "language start end organisation link", "reason"),
        _spec("alert_unfilled_coordinator", "sms", "coordinator", "language start link"),
        _spec("alert_late_cancellation_coordinator", "email", "coordinator",
              "language start end organisation mediator_name link", "cancelled_by"),
        _spec("alert_late_cancellation_coordinator", "sms", "coordinator",
              "language start link"),
        _spec("alert_at_risk_coordinator", "email", "coordinator",
              "language start end organisation reason link", "mediator_name"),
        _spec("alert_at_risk_coordinator", "sms", "coordinator", "language start link"),
        # to any staff member
        _spec("signin_link", "email", "staff", "link valid_minutes", "recipient_name"),
    ]
}  # fmt: skip

# Which emails carry a calendar file, and whether it adds or withdraws the event.
ICS_KINDS: dict[str, Literal["REQUEST", "CANCEL"]] = {
    "assignment_confirmed_mediator": "REQUEST",
    "cancelled_mediator": "CANCEL",
}


def _check_specs() -> None:
    for spec in SPECS.values():
        leaked = (spec.required | spec.optional) & FORBIDDEN_SMS_FIELDS
        if spec.channel == "sms" and leaked:
            raise AssertionError(f"SMS template {spec.kind} declares personal fields {leaked}")


_check_specs()


def resolve_locale(locale: str | None, audience: Audience) -> str:
    """``de-DE`` → ``de``, ``prs`` → ``fa``; anything not translated for this audience → German."""
    base = (locale or "").replace("_", "-").split("-")[0].strip().lower()
    base = LOCALE_ALIASES.get(base, base)
    available = MEDIATOR_LOCALES if audience == "mediator" else STAFF_LOCALES
    return base if base in available else FALLBACK_LOCALE


@cache
def _catalogue(locale: str) -> dict[str, Any]:
    text = resources.files("notifications").joinpath(f"templates/{locale}.toml").read_text("utf-8")
    return tomllib.loads(text)


def _berlin(value: datetime) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise TemplateError(f"expected a timezone-aware datetime, got {value!r}")
    return value.astimezone(BERLIN)


@cache
def _environment(locale: str) -> jinja2.Environment:
    meta = _catalogue(locale)["meta"]
    env = jinja2.Environment(
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        loader=jinja2.DictLoader(_catalogue(locale).get("partials", {})),
    )

    @jinja2.pass_context
    def part(context: jinja2.runtime.Context, name: str) -> str:
        """A shared block of this locale (``[partials]``), as an expression: no newline eaten."""
        return env.get_template(name).render(context.get_all()).strip("\n")

    env.globals["part"] = part
    env.filters.update(
        time=lambda v: _berlin(v).strftime("%H:%M"),
        date=lambda v: _berlin(v).strftime("%d.%m.%Y"),
        day=lambda v: f"{meta['weekdays_short'][_berlin(v).weekday()]} {_berlin(v):%d.%m.}".strip(),
        longday=lambda v: f"{meta['weekdays'][_berlin(v).weekday()]}, {_berlin(v):%d.%m.%Y}",
        mode=lambda v: meta["modes"].get(v, v),
        subject=lambda v: meta["subjects"].get(v, v),
    )
    return env


@cache
def _template(locale: str, kind: str, part: str) -> jinja2.Template:
    try:
        source = _catalogue(locale)[kind][part]
    except KeyError:
        raise TemplateError(f"no {part!r} text for {kind!r} in {locale}.toml") from None
    return _environment(locale).from_string(source)


def _check_fields(spec: TemplateSpec, fields: Mapping[str, Any]) -> dict[str, Any]:
    given = {name for name, value in fields.items() if value is not None}
    missing = spec.required - given
    unexpected = set(fields) - spec.required - spec.optional
    if missing or unexpected:
        problems = []
        if missing:
            problems.append(f"missing {sorted(missing)}")
        if unexpected:
            problems.append(f"unexpected {sorted(unexpected)}")
        raise TemplateError(f"{spec.kind}/{spec.channel}: " + ", ".join(problems))
    values = dict.fromkeys(spec.optional)
    values.update(fields)
    return values


_SPACES = re.compile(r"[ \t]+")
MIN_KEPT = 12  # a place name is never cut shorter than this


def _render_sms(spec: TemplateSpec, locale: str, values: dict[str, Any]) -> str:
    template = _template(locale, spec.kind, "sms")
    # Some locales spell SMS with GSM-7 letters only (tr: ş→s ...), doubling the room.
    spelling = str.maketrans(_catalogue(locale)["meta"].get("sms_replace", {}))

    def render_once() -> str:
        return _SPACES.sub(" ", template.render(values)).strip().translate(spelling)

    def over_budget(text: str) -> bool:
        return spec.max_segments is not None and sms_segments(text).segments > spec.max_segments

    text = render_once()
    # Keep the budget by leaving out secondary details, then by cutting a long place
    # name only as far as needed; the link shows everything in full.
    for name in spec.droppable:
        if over_budget(text) and values.get(name) is not None:
            values[name] = None
            text = render_once()
    for name in spec.shortenable:
        while over_budget(text) and len(values.get(name) or "") > MIN_KEPT:
            values[name] = (
                values[name][: max(MIN_KEPT, len(values[name]) - 2) - 1].rstrip(" ,.-") + "."
            )
            text = render_once()
    return text


_URL = re.compile(r"https?://[^\s<>\"]+[^\s<>\".,;:!?)]")


def text_to_html(text: str, *, locale: str, title: str) -> str:
    """The HTML part: the same words as the plain part, with links clickable."""
    paragraphs = []
    for block in re.split(r"\n\s*\n", text.strip()):
        escaped = html_lib.escape(block)
        linked = _URL.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', escaped)
        paragraphs.append("<p>" + linked.replace("\n", "<br>\n") + "</p>")
    layout = _layout_environment().get_template("_layout.html")
    return layout.render(
        lang=locale,
        dir="rtl" if locale in RTL_LOCALES else "ltr",
        title=title,
        body=Markup("\n".join(paragraphs)),
    )


@cache
def _layout_environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("notifications", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )


def _calendar_file(
    kind: str, subject: str, body: str, values: Mapping[str, Any], now: datetime
) -> tuple[Attachment, ...]:
    method = ICS_KINDS.get(kind)
    if method is None:
        return ()
    location = values.get("address") or values.get("place") or ""
    data = make_ics(
        uid=values["event_uid"],
        start=values["start"],
        end=values["end"],
        summary=subject,
        location=location,
        description=body,
        url=values.get("link"),
        dtstamp=now,
        method=method,
        sequence=0 if method == "REQUEST" else 1,
    )
    content_type = f"text/calendar; method={method}; charset=utf-8"
    return (Attachment("einsatz.ics", content_type, data),)


def render(
    kind: str,
    channel: ChannelName,
    locale: str | None,
    /,
    *,
    now: datetime | None = None,
    **fields: Any,
) -> RenderedMessage:
    """Render one message; raises :class:`TemplateError` on a missing or unexpected field.

    ``now`` (the service clock) only stamps an attached calendar file.
    """
    spec = SPECS.get((kind, channel))
    if spec is None:
        raise TemplateError(f"no {channel} template for {kind!r}")
    values = _check_fields(spec, fields)
    used = resolve_locale(locale, spec.audience)
    if channel == "sms":
        return RenderedMessage(None, _render_sms(spec, used, values), None, used)
    subject = _template(used, kind, "subject").render(values).strip()
    body = _template(used, kind, "email").render(values).strip() + "\n"
    return RenderedMessage(
        subject=subject,
        body=body,
        html=text_to_html(body, locale=used, title=subject),
        locale=used,
        attachments=_calendar_file(kind, subject, body, values, now or datetime.now(UTC)),
    )
