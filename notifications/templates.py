"""Every message Sprachpool sends, in the reader's language.

The text of a kind is one Jinja template, ``notifications/templates/<kind>.txt``
(its ``sms``, ``subject`` and ``email`` parts), whose sentences are gettext
msgids translated by the catalogs in ``locales/`` (documented in
``notifications/README.md``). This module is the contract: which kinds
exist, on which channel, for whom, and exactly which fields each one takes.
:func:`render` refuses a missing field and an unexpected one alike, so
nothing personal can slip into a message by accident, and no SMS kind may
even declare a client or notes field.

Dates and times are shown in Europe/Berlin, whatever zone they arrive in, in
the reader's language's way (CLDR, through Babel), as are language names.
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache, lru_cache
from typing import Any, Literal
from zoneinfo import ZoneInfo

import jinja2
from markupsafe import Markup

import locales
from config import data as config_data
from locales import N_
from notifications.channels import Attachment, ChannelName
from notifications.ics import cancel_many, make_ics
from notifications.segments import sms_segments

BERLIN = ZoneInfo("Europe/Berlin")
Audience = Literal["mediator", "caseworker", "coordinator", "staff"]

MEDIATOR_LOCALES = locales.MEDIATOR_LOCALES
STAFF_LOCALES = locales.STAFF_LOCALES
FALLBACK_LOCALE = locales.DEFAULT_LOCALE
RTL_LOCALES = locales.RTL_LOCALES
#: Some locales spell SMS with GSM-7 letters only, doubling the room (Turkish: ş→s ...);
#: emails keep the proper letters.
SMS_SPELLING = {
    "tr": str.maketrans("şŞğĞıİçâîû", "sSgGiIcaiu"),
}
#: How a mode reads inside a sentence ("in person: Town hall").
MODE_WORDS = {
    "in_person": N_("in person"),
    # An in-person job at the client's home: said as such, the street only to the one who holds it.
    "home_visit": N_("Home visit"),
    "phone": N_("phone"),
    "video": N_("video"),
}

#: Reasons given to the coordinator in alerts, by code (others are shown as they are).
REASONS = {
    "no_time_left": N_("There is not enough time left before the start."),
    "nobody_in_pool": N_("Nobody in the pool can take this job."),
    "everyone_asked": N_("Every suitable mediator has been asked."),
    "not_reconfirmed": N_("Not reconfirmed by 4 hours before the start."),
}

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


def _caseworker_spec(kind: str, required: str, optional: str = "") -> TemplateSpec:
    """An email about a request to whoever filed it. `forwarded_for` names a caseworker
    who left with nobody taking over: the coordination reads it in their stead
    (``dispatch.messages._to_caseworker``): the text says why first, and speaks of
    "X's request" where the caseworker reads "your request" (``_staff_parts.txt``)."""
    return _spec(kind, "email", "caseworker", required, f"{optional} forwarded_for")


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
              "place subject notes organisation recipient_name unknown_to_client"),
        _spec("offer_withdrawn", "sms", "mediator", "language start"),
        _spec("offer_withdrawn", "email", "mediator", "language start", "recipient_name"),
        _spec("assignment_confirmed_mediator", "sms", "mediator", f"{WHEN} link", "place",
              max_segments=2, shortenable=("place",)),
        _spec("assignment_confirmed_mediator", "email", "mediator", f"{WHEN} link event_uid",
              "place address subject notes organisation contact_name contact_phone "
              "recipient_name call_direction connection"),
        _spec("reminder_24h", "sms", "mediator", f"{WHEN} link code", "place",
              max_segments=2, shortenable=("place",)),
        _spec("reminder_24h", "email", "mediator", f"{WHEN} link code",
              "place address recipient_name call_direction connection"),
        # The link: the office's number or the video link, the address, for whoever has
        # SMS alone (neither goes by SMS).
        _spec("reminder_2h", "sms", "mediator", "language start mode link", "place",
              max_segments=2, shortenable=("place",)),
        _spec("reminder_2h", "email", "mediator", "language start mode link",
              "place address recipient_name call_direction connection"),
        # The job changed and stays the mediator's; `changed`: codes of what changed;
        # `changed_by`: "coordination" when the coordinator changed it (or its place).
        _spec("request_changed_mediator", "sms", "mediator", "language start end link",
              max_segments=2),
        _spec("request_changed_mediator", "email", "mediator",
              f"{WHEN} link event_uid changed",
              "place address notes recipient_name call_direction connection "
              "contact_name contact_phone changed_by"),
        # The job changed so that it no longer fits: released (start and end as they were).
        _spec("released_after_change_mediator", "sms", "mediator", "language start"),
        # `why`: who changed it ("coordination"; none: the caseworker), or "place_moved"
        # (beyond the distance they travel), "place_moved_busy" (too far from another job).
        _spec("released_after_change_mediator", "email", "mediator",
              "language start end event_uid", "recipient_name why"),
        _spec("cancelled_mediator", "sms", "mediator", "language start"),
        _spec("cancelled_mediator", "email", "mediator", "language start end event_uid",
              "place recipient_name"),
        # Several jobs of a series cancelled at once: one message, every date (`starts`).
        _spec("series_cancelled_mediator", "sms", "mediator", "language starts", max_segments=2),
        _spec("series_cancelled_mediator", "email", "mediator", "language starts ends event_uids",
              "recipient_name"),
        # `reminder`: the report is three days late.
        _spec("completion_request", "sms", "mediator", "language start link", "reminder",
              max_segments=2),
        _spec("completion_request", "email", "mediator", "language start link",
              "recipient_name reminder"),
        # The coordinator rejected the report: the job is not paid; `reason` in the email only
        # (the coordinator's words may name the client).
        _spec("job_rejected_mediator", "sms", "mediator", "language start", max_segments=2),
        _spec("job_rejected_mediator", "email", "mediator", "language start end",
              "recipient_name reason"),
        # The requester recorded a no-show: told neutrally, the coordination will get in touch.
        _spec("no_show_mediator", "sms", "mediator", "language start", max_segments=2),
        _spec("no_show_mediator", "email", "mediator", "language start end", "recipient_name"),
        _spec("sms_help", "sms", "mediator", "", "contact_phone", max_segments=2),
        _spec("sms_give_back", "sms", "mediator", "", "contact_phone", max_segments=2),
        _spec("sms_which_offer", "sms", "mediator", "open_offers", max_segments=2),
        _spec("sms_paused", "sms", "mediator", max_segments=1),
        _spec("sms_resumed", "sms", "mediator", max_segments=1),
        _spec("sms_accept_ok", "sms", "mediator", "language start", "place late",
              max_segments=2, shortenable=("place",)),
        _spec("sms_decline_ok", "sms", "mediator", max_segments=1),
        # JA to an offer the engine's rules no longer let them take: `why` "busy" (a job
        # they hold is in the way) or "over_limit" (their allowance limit).
        _spec("sms_cannot_take", "sms", "mediator", "language start why", max_segments=2),
        _spec("sms_unknown_code", "sms", "mediator", "", "code", max_segments=1),
        # to caseworkers
        # `replaces`: a new mediator instead of the one confirmed before.
        _caseworker_spec("assignment_confirmed_caseworker",
              f"{WHEN} mediator_name mediator_phone request_link request_number",
              "place recipient_name replaces client_ref"),
        # The confirmed mediator is not coming and the request is offered again;
        # never names them (they may have been erased). `after_change`: the caseworker's own
        # change released them.
        _caseworker_spec("assignment_cancelled_caseworker",
              "language start end request_link request_number",
              "client_ref recipient_name after_change"),
        # `dropped_out`: the confirmed mediator is not coming, and nobody else was found.
        _caseworker_spec("request_unfilled_caseworker",
              "language start end request_link request_number",
              "client_ref recipient_name dropped_out"),
        # Told early: the request will probably not be filled in time; the policy's next step.
        _caseworker_spec("request_at_risk_caseworker",
              "language start end request_link request_number next_step",
              "client_ref recipient_name contact"),
        _caseworker_spec("request_cancelled_caseworker",
              "language start end request_link request_number", "client_ref recipient_name reason"),
        # Someone else cancelled several occurrences of a series at once: one email, every date.
        _caseworker_spec("series_cancelled_caseworker",
              "language start end starts request_link request_number",
              "client_ref recipient_name reason"),
        # Someone else (the coordinator, a colleague) changed the request: what changed, the
        # terms now, what became of its mediator (`news`: kept, released, searching).
        _caseworker_spec("request_changed_caseworker",
              f"{WHEN} changed changed_by request_link request_number",
              "place client_ref recipient_name news"),
        # Einsatzbestätigung: confirm or dispute the mediator's report (`reminder`: 3 days late).
        _caseworker_spec("job_confirmation_caseworker",
              "language start end mode mediator_name actual_start actual_end outcome "
              "confirm_link request_link request_number", "client_ref recipient_name reminder"),
        # A colleague left: their open requests (and running series) are now this caseworker's.
        _spec("requests_handed_over_caseworker", "email", "caseworker",
              "from_name requests series link", "recipient_name"),
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
        # The requester disputed a report: the coordinator decides (by email: nothing urgent).
        _spec("alert_disputed_coordinator", "email", "coordinator",
              "language start end organisation mediator_name dispute_reason link"),
        _spec("alert_no_show_coordinator", "email", "coordinator",
              "language start end organisation mediator_name link"),
        # to any staff member
        _spec("signin_link", "email", "staff", "link valid_minutes", "recipient_name"),
        _spec("staff_erasure_waiting_coordinator", "email", "coordinator", "name requests link"),
        _spec(
            "mediator_erasure_waiting_coordinator",
            "email",
            "coordinator",
            "euros open_jobs jobs_to_come link",
        ),
        _spec("staff_invitation", "email", "staff", "link valid_hours role login",
              "recipient_name inviter_name"),
    ]
}  # fmt: skip

# Which emails carry a calendar file, and whether it adds or withdraws the event.
ICS_KINDS: dict[str, Literal["REQUEST", "CANCEL"]] = {
    "assignment_confirmed_mediator": "REQUEST",
    "cancelled_mediator": "CANCEL",
    "request_changed_mediator": "REQUEST",
    "released_after_change_mediator": "CANCEL",
    "series_cancelled_mediator": "CANCEL",
}
#: The first confirmation is the event's version 0; a change or a withdrawal a later one.
ICS_FIRST = frozenset({"assignment_confirmed_mediator"})


def _check_specs() -> None:
    for spec in SPECS.values():
        leaked = (spec.required | spec.optional) & FORBIDDEN_SMS_FIELDS
        if spec.channel == "sms" and leaked:
            raise AssertionError(f"SMS template {spec.kind} declares personal fields {leaked}")


_check_specs()


def resolve_locale(locale: str | None, audience: Audience) -> str:
    """``de-DE`` → ``de``, ``prs`` → ``fa``; anything not translated for this audience → German."""
    return locales.resolve(locale, MEDIATOR_LOCALES if audience == "mediator" else STAFF_LOCALES)


def _berlin(value: datetime) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise TemplateError(f"expected a timezone-aware datetime, got {value!r}")
    return value.astimezone(BERLIN)


def _language_name(value: str, translator: locales.Translator) -> str:
    """A served language's tag becomes its name in the reader's language; a name stays."""
    served = config_data.languages().get(value.lower())
    return translator.language(served.tag) if served else value


@cache
def _environment(locale: str) -> jinja2.Environment:
    """The message templates, speaking `locale`: gettext, dates and names in it.

    Compiled once per process (`auto_reload` off): a message is rendered on
    every filing, and checking each template file's time on every use cost
    more than rendering it.
    """
    t = locales.translator(locale)
    env = jinja2.Environment(
        auto_reload=False,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        extensions=["jinja2.ext.i18n"],
        loader=jinja2.PackageLoader("notifications", "templates"),
    )
    env.install_gettext_translations(locales.translations(locale), newstyle=True)  # type: ignore[attr-defined]
    # Babel's formatting, kept per value: a message shows its start two or three
    # times (subject, text, HTML), and a wave's offers show the same job to each.
    kept = lru_cache(maxsize=1024)
    env.filters.update(
        time=kept(lambda v: t.time(_berlin(v))),
        date=kept(lambda v: t.date(_berlin(v).date(), "medium")),
        day=kept(lambda v: t.day(_berlin(v).date())),
        longday=kept(lambda v: t.date(_berlin(v).date(), "full")),
        mode=lambda v: t.gettext(MODE_WORDS[v]) if v in MODE_WORDS else v,
        subject=lambda v: t.qualification(v),
        language=kept(lambda v: _language_name(v, t)),
        reason=lambda v: t.gettext(REASONS[v]) if v in REASONS else v,
        euros=lambda v: t.currency(v),
    )
    return env


def _text(locale: str, kind: str, part: str, values: Mapping[str, Any]) -> str:
    """One part (sms, subject, email) of a kind's template, in `locale`."""
    template = _environment(locale).get_template(f"{kind}.txt")
    return template.render(values, part=part)


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


#: Stands in for a shortenable field while its cut is sought (no space, no letter the
#: SMS spelling changes): the text around it is rendered once, not once per cut.
_MARK = "\x00cut\x00"


def _render_sms(spec: TemplateSpec, locale: str, values: dict[str, Any]) -> str:
    spelling = SMS_SPELLING.get(locale, {})

    def finish(raw: str) -> str:
        return _SPACES.sub(" ", raw).strip().translate(spelling)

    def render_once() -> str:
        return finish(_text(locale, spec.kind, "sms", values))

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
        if not over_budget(text) or len(values.get(name) or "") <= MIN_KEPT:
            continue
        # The text with the field as it is, rendered once; each cut is put in its place.
        # A template that changed the field (a filter) would not show the mark: then
        # every cut is rendered.
        marked = _text(locale, spec.kind, "sms", {**values, name: _MARK})
        while over_budget(text) and len(values.get(name) or "") > MIN_KEPT:
            values[name] = (
                values[name][: max(MIN_KEPT, len(values[name]) - 2) - 1].rstrip(" ,.-") + "."
            )
            text = finish(marked.replace(_MARK, values[name])) if _MARK in marked else render_once()
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
        auto_reload=False,
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
    content_type = f"text/calendar; method={method}; charset=utf-8"
    if "event_uids" in values:  # several jobs in one message: each is withdrawn
        events = list(zip(values["event_uids"], values["starts"], values["ends"], strict=True))
        data = cancel_many(events=events, summary=subject, description=body, dtstamp=now)
        return (Attachment("einsatz.ics", content_type, data),)
    location = values.get("address") or values.get("place") or ""
    if values.get("mode") == "video" and values.get("connection"):
        location = values["connection"]  # calendars offer to open a link there
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
        sequence=0 if kind in ICS_FIRST else 1,
    )
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
    subject = _text(used, kind, "subject", values).strip()
    body = _text(used, kind, "email", values).strip() + "\n"
    return RenderedMessage(
        subject=subject,
        body=body,
        html=text_to_html(body, locale=used, title=subject),
        locale=used,
        attachments=_calendar_file(kind, subject, body, values, now or datetime.now(UTC)),
    )
