"""Failures a user can cause, each mapped to one 4xx response shape.

Every error body is `{"detail": "<sentence a person understands>",
"code": "<machine code>", "errors": [{"field": ..., "message": ...}]}`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)


class FieldError(BaseModel):
    """What is wrong with one field of the input."""

    field: str = Field(
        description="The field as the client wrote it: 'start', 'absences.0.end', 'from', "
        "'Idempotency-Key', or 'body' for the body as a whole."
    )
    message: str = Field(description="What is wrong, in a sentence a person understands.")


class ErrorBody(BaseModel):
    """The body of every error answer (4xx and 5xx), as the OpenAPI schema declares it."""

    detail: str = Field(description="A sentence a person understands.")
    code: str = Field(description="A machine code, e.g. invalid_input, not_found, conflict.")
    errors: list[FieldError] = Field(
        default_factory=list,
        description="One entry per wrong field; empty when no field is to blame.",
    )


#: What each error status means in this API, for the OpenAPI schema.
ERROR_STATUSES: dict[int, str] = {
    400: "The body could not be read (not UTF-8 JSON or form data, or nested too deeply).",
    401: "No token, or a token that is unknown, revoked or mistyped.",
    403: "Not allowed for this user's role, or a webhook without a valid signature.",
    404: "There is no such record (or it belongs to another organisation).",
    409: "The record's state does not allow this now; `detail` says why.",
    410: "The link is no longer valid.",
    413: "The body is larger than the server accepts.",
    422: "Invalid input: `errors` names each wrong field and what is wrong with it.",
    503: "The database is busy or cannot be reached just now; try again after `Retry-After`.",
}

#: Seconds a client is asked to wait before it tries again when the database is busy.
RETRY_AFTER_S = 30

#: A unique key or a reference the database refused at the write: the checks before it
#: passed, so another unit of work saved something in between (two coordinators adding
#: the same address at once, a mediator removed while an organisation lists them). The
#: flows check what a person can get wrong; this is the race that remains after them.
RACED_MESSAGE = (
    "Someone else saved a conflicting change at the same moment; nothing was saved. "
    "Please reload and try again."
)

#: Failures of the database, not of the request: a writer's turn or a pooled connection
#: not had in time, SQLite's "database is locked", PostgreSQL down, restarting, out of
#: connections or breaking a deadlock. Nothing of the request was committed.
UNAVAILABLE: tuple[type[Exception], ...] = (OperationalError, PoolTimeout)
UNAVAILABLE_MESSAGE = (
    "The service is busy or cannot reach its database just now; nothing was saved. "
    "Please try again in a minute."
)


def responses(*status_codes: int) -> dict[int | str, dict[str, Any]]:
    """Declare error answers of a route for the OpenAPI schema, all with ErrorBody."""
    return {
        code: {"model": ErrorBody, "description": ERROR_STATUSES[code]} for code in status_codes
    }


class SprachpoolError(Exception):
    """A failure the user caused: an English `message` for the API, and for pages
    (which speak the reader's language) a `reason` code with its `params`."""

    status_code = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        reason: str | None = None,
        params: Mapping[str, Any] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.reason = reason
        self.params = dict(params or {})
        #: More of the answer's body beside detail, code and errors (e.g. candidates to pick).
        self.extra = dict(extra or {})


class InvalidInput(SprachpoolError):
    status_code = 422
    code = "invalid_input"


class NotAuthenticated(SprachpoolError):
    status_code = 401
    code = "not_authenticated"


class Forbidden(SprachpoolError):
    status_code = 403
    code = "forbidden"


class NotFound(SprachpoolError):
    status_code = 404
    code = "not_found"


class Conflict(SprachpoolError):
    status_code = 409
    code = "conflict"


def error_body(
    message: str, code: str, errors: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {"detail": message, "code": code, "errors": errors or []}


def _field_name(location: tuple[Any, ...]) -> str:
    parts = [str(part) for part in location if part not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def friendly_message(error: Mapping[str, object]) -> str:
    message = str(error.get("msg", "is invalid"))
    if error.get("type") == "json_invalid":
        return "the request body is not valid JSON"
    if error.get("type") == "missing":
        return "is required"
    # pydantic prefixes custom errors with "Value error, "; people need not see that.
    return message.removeprefix("Value error, ").removeprefix("Assertion failed, ")


def install_handlers(app: FastAPI) -> None:
    @app.exception_handler(SprachpoolError)
    async def _domain(_request: Request, exc: SprachpoolError) -> JSONResponse:
        errors = [{"field": exc.field, "message": exc.message}] if exc.field else []
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        return JSONResponse(
            {**error_body(exc.message, exc.code, errors), **exc.extra},
            status_code=exc.status_code,
            headers=headers,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "field": "body"
                if error.get("type") == "json_invalid"
                else _field_name(tuple(error.get("loc", ()))),
                "message": friendly_message(error),
            }
            for error in exc.errors()
        ]
        summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        return JSONResponse(
            error_body(f"Invalid input — {summary}", "invalid_input", errors), status_code=422
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else "request refused"
        if exc.status_code == 404 and message == "Not Found":
            message = "There is nothing at this address."
        if message == "There was an error parsing the body":
            message = "The request body could not be read; send UTF-8 JSON."
        if exc.status_code == 405:
            message = "This method is not allowed here."
        return JSONResponse(
            error_body(message, f"http_{exc.status_code}"),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
        log.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc)
        return JSONResponse(
            error_body(UNAVAILABLE_MESSAGE, "unavailable"),
            status_code=503,
            headers={"Retry-After": str(RETRY_AFTER_S)},
        )

    for failure in UNAVAILABLE:
        app.add_exception_handler(failure, _unavailable)

    @app.exception_handler(IntegrityError)
    async def _raced(request: Request, exc: IntegrityError) -> JSONResponse:
        log.warning("integrity conflict on %s %s: %s", request.method, request.url.path, exc)
        return JSONResponse(error_body(RACED_MESSAGE, "conflict"), status_code=409)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, _exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return JSONResponse(
            error_body("Something went wrong on our side; it has been logged.", "internal_error"),
            status_code=500,
        )
