"""Small coordinator forms (places, organisations, staff) checked by the API's own schemas.

As with the request form (``forms.py``), what a person typed is turned into the
API's body and validated by the same pydantic schema, so the page and the JSON API
accept exactly the same things. Errors are placed beside the field the schema names
(its ``loc``), in the reader's language: a field's own message where it has one,
otherwise the message for the error's code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from dispatch.errors import SprachpoolError
from dispatch.web.forms import CODE_MESSAGES, message_for
from locales import N_, Text

M = TypeVar("M", bound=BaseModel)

#: Messages by the error code of a domain error (a service's `reason`) or a schema check.
ENTRY_MESSAGES = {
    "name_taken": N_("This name is taken already; please choose another."),
    "email_taken": N_("There is an account with this email address already."),
    "email_invalid": N_("Please give a valid email address, e.g. name@beckum.de."),
    "unknown_mediator": N_("There is no mediator with id %(id)s."),
    "mediator_on_both_lists": N_("A mediator cannot be preferred and excluded at once."),
    "greater_than_equal": N_("Please give a number of at least %(ge)s."),
    "less_than_equal": N_("Please give a number of at most %(le)s."),
    "int_parsing": N_("Please give a whole number."),
    "float_parsing": N_("Please give a number, e.g. 51.7553."),
    "missing": N_("Please fill this in."),
}

#: Errors that say more than a field's own message ("at most 90" beats "give the latitude").
TELLING_CODES = frozenset(
    {
        "greater_than_equal",
        "less_than_equal",
        "string_too_long",
        "control_characters",
        "email_local_part_not_ascii",
        "null_island",
        "point_too_far",
    }
)


@dataclass
class EntryForm:
    """What was typed (to show it again) and what is wrong with it, by field."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, Text] = field(default_factory=dict)

    def error(self, name: str, message: Text) -> None:
        self.errors.setdefault(name, message)

    def get(self, name: str) -> str:
        return self.values.get(name, "")


def code_message(code: str | None, params: Mapping[str, Any] | None = None) -> Text:
    """The reader's message for an error code (ours first, then the request form's)."""
    if code in ENTRY_MESSAGES:
        shown = {k: v for k, v in (params or {}).items() if isinstance(v, (str, int, float))}
        return Text(ENTRY_MESSAGES[code], shown)
    if code in CODE_MESSAGES:
        return message_for(code, params)
    return message_for(None)


def validate(
    form: EntryForm,
    schema: type[M],
    body: Mapping[str, Any],
    *,
    field_messages: Mapping[str, str] | None = None,
    to_field: Mapping[str, str] | None = None,
) -> M | None:
    """The schema's model of `body`, or None with every error placed beside its field.

    `to_field` maps an API field (an error's whole location as "a.b", or its first
    part) to the form field it is shown beside; `field_messages` gives a field its own message.
    """
    try:
        data = schema.model_validate(dict(body))
    except ValidationError as exc:
        for error in exc.errors():
            location = tuple(error["loc"])
            api_field = str(location[0]) if location else "form"
            path = ".".join(str(part) for part in location)
            name = (to_field or {}).get(path) or (to_field or {}).get(api_field, api_field)
            if field_messages and name in field_messages and error["type"] not in TELLING_CODES:
                form.error(name, Text(field_messages[name]))
            else:
                form.error(name, code_message(error["type"], error.get("ctx")))
        return None
    return None if form.errors else data


def domain_error(
    form: EntryForm, error: SprachpoolError, *, to_field: Mapping[str, str] | None = None
) -> None:
    """Put a service's refusal (a taken name, an unknown id) beside its field."""
    name = (to_field or {}).get(error.field or "", error.field or "form")
    form.error(name, code_message(error.reason, error.params))


def optional_number(value: str) -> str | None:
    """A typed number as the schema should see it: None when left empty, "," as decimal point."""
    value = value.strip().replace(",", ".")
    return value or None
