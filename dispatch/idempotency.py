"""Retry-safe creation: the `Idempotency-Key` header and the fingerprint of what was sent.

A client that lost the answer to a POST sends it again with the same key;
the service returns what the first one created. The fingerprint tells a
true retry (same body) from a key reused for something else (a 409).
Requests and series both keep (user, key, fingerprint) on their rows.
"""

from __future__ import annotations

import hashlib
import json

from pydantic import BaseModel

from dispatch.errors import InvalidInput

#: The longest `Idempotency-Key` kept (the columns' width).
KEY_MAX = 200


def key_of(value: str | None) -> str | None:
    """The `Idempotency-Key` header as stored, or a 422 naming it (blank, too long, unprintable)."""
    if value is None:
        return None
    value = value.strip()
    if not value or len(value) > KEY_MAX or not value.isprintable():
        raise InvalidInput(
            f"Idempotency-Key must be 1 to {KEY_MAX} printable characters.",
            field="Idempotency-Key",
        )
    return value


def fingerprint(body: BaseModel) -> str:
    """SHA-256 of the body as sent, in a canonical form; `allow_duplicate` does not count
    (a retry that confirms "yes, file it anyway" is still the same request)."""
    sent = body.model_dump(mode="json", exclude={"allow_duplicate"})
    canonical = json.dumps(sent, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
