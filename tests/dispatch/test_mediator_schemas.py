"""The pool's schemas offer exactly the locales the catalogs serve to mediators."""

from __future__ import annotations

from typing import get_args

import locales
from dispatch.mediators.schemas import MESSAGE_LOCALES, MessageLocale


def test_the_message_locale_type_lists_the_mediator_locales() -> None:
    assert get_args(MessageLocale) == MESSAGE_LOCALES == locales.MEDIATOR_LOCALES
