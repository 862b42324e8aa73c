"""Checking that a webhook really comes from Twilio.

Twilio signs the full public URL it called (scheme, host, path, query) plus
the POST parameters. Behind a reverse proxy the app sees another URL, so the
webhook rebuilds the public one from ``PUBLIC_BASE_URL`` with
:func:`public_url` before checking.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from urllib.parse import urlsplit

from twilio.request_validator import RequestValidator

FormParams = Mapping[str, str] | Mapping[str, Sequence[str]]


def public_url(public_base_url: str, path: str, query: str = "") -> str:
    """The URL Twilio called: PUBLIC_BASE_URL (which may carry a path prefix) + path + query.

    ``query`` is the raw query string as received (without ``?``), kept byte
    for byte because Twilio signs it as sent.
    """
    base = public_base_url.rstrip("/")
    if not urlsplit(base).scheme:
        raise ValueError(f"PUBLIC_BASE_URL needs a scheme: {public_base_url!r}")
    url = base + "/" + path.lstrip("/")
    return f"{url}?{query}" if query else url


class _MultiParams:
    """Lets RequestValidator see every value of a repeated form field."""

    def __init__(self, params: Mapping[str, Sequence[str]]) -> None:
        self._params = params

    def __iter__(self) -> Iterator[str]:
        return iter(self._params)

    def getall(self, name: str) -> list[str]:
        return list(self._params[name])


def verify_twilio_signature(
    auth_token: str, url: str, params: FormParams, signature: str | None
) -> bool:
    """True only for a request Twilio signed with ``auth_token`` for exactly ``url`` and ``params``.

    ``params`` is the form body: a plain mapping, or a mapping of lists when a
    field repeats. A missing or empty signature is False, never an exception.
    """
    if not signature or not auth_token:
        return False
    validator = RequestValidator(auth_token)
    multi = {
        name: [value] if isinstance(value, str) else list(value) for name, value in params.items()
    }
    return bool(validator.validate(url, _MultiParams(multi), signature))
