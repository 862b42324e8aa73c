"""The OpenAPI schema, telling the truth about errors.

FastAPI declares its own 422 body (`detail` a list of pydantic errors), but
every error here answers `ErrorBody` (`dispatch.errors`). This module builds
the schema once and declares, on every operation, each 4xx it can give with
`ErrorBody`, so a client generated from `/openapi.json` can read our errors:

- 401 when the route needs a token, 403 when it needs a coordinator;
- 404 when the path names a record;
- 422 when the route takes any parameter or a body; 400 and 413 with a body;
- and what a route declares itself with `errors.responses(...)` (409 for a
  state that does not allow the change, 403 for webhook signatures, ...).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, cast

from fastapi import FastAPI, routing
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from dispatch import deps
from dispatch.errors import ERROR_STATUSES, ErrorBody

_COMPONENTS = "#/components/schemas/"
#: FastAPI's own validation error schemas, which no answer of ours has.
_FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _dependants(sub)


def _needs(route: APIRoute, call: Callable[..., Any]) -> bool:
    return any(d.call is call for d in _dependants(route.dependant))


def api_routes(app: FastAPI) -> Iterator[APIRoute]:
    """The operations in the schema, each with its router's prefix, dependencies and responses."""
    # FastAPI 0.16x keeps included routers nested; their routes are seen through contexts,
    # which answer like the route they wrap.
    contexts = getattr(routing, "iter_route_contexts", None)
    routes: Iterable[Any] = contexts(app.routes) if contexts else app.routes
    for route in routes:
        original = getattr(route, "original_route", route)
        if isinstance(original, APIRoute) and route.include_in_schema:
            yield cast(APIRoute, route)


def error_statuses(route: APIRoute) -> set[int]:
    """Every 4xx the route can answer, from what it takes and whom it lets in; 409 where
    it writes (a race lost at the database, `errors.RACED_MESSAGE`) and 503 where it
    reads the database (busy or unreachable, `errors.UNAVAILABLE`)."""
    found = {
        int(code) for code in route.responses if str(code).isdigit() and 400 <= int(code) < 500
    }
    dependants = list(_dependants(route.dependant))
    takes_parameters = any(
        d.path_params or d.query_params or d.header_params or d.cookie_params for d in dependants
    )
    if route.body_field is not None:
        found |= {400, 413, 422}
    if takes_parameters:
        found.add(422)
    if any(d.path_params for d in dependants):
        found.add(404)
    if _needs(route, deps.current_user):
        found.add(401)
    if _needs(route, deps.coordinator):
        found.add(403)
    if _needs(route, deps.get_session) or _needs(route, deps.current_user):
        found.add(503)
    if _needs(route, deps.get_session) and set(route.methods or ()) - {"GET", "HEAD"}:
        found.add(409)  # a write another unit of work raced (errors.RACED_MESSAGE)
    return found


def _error_response(code: int, declared: dict[str, Any] | None) -> dict[str, Any]:
    described = (declared or {}).get("description")
    return {
        "description": described or ERROR_STATUSES[code],
        "content": {"application/json": {"schema": {"$ref": f"{_COMPONENTS}ErrorBody"}}},
    }


def build_schema(app: FastAPI) -> dict[str, Any]:
    """FastAPI's schema with every error answer declared as ErrorBody."""
    schema = get_openapi(
        title=app.title,
        version=app.version,
        openapi_version=app.openapi_version,
        summary=app.summary,
        description=app.description,
        routes=app.routes,
        tags=app.openapi_tags,
        servers=app.servers,
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    body = ErrorBody.model_json_schema(ref_template=_COMPONENTS + "{model}")
    components.update(body.pop("$defs", {}))
    components["ErrorBody"] = body
    for name in _FASTAPI_VALIDATION_SCHEMAS:
        components.pop(name, None)
    for route in api_routes(app):
        for method in route.methods or ():
            operation = schema["paths"][route.path_format][method.lower()]
            answers = operation.setdefault("responses", {})
            for code in sorted(error_statuses(route)):
                declared = route.responses.get(code) or route.responses.get(str(code))
                answers[str(code)] = _error_response(code, declared)
    return schema


def install(app: FastAPI) -> None:
    """Serve the truthful schema at /openapi.json (built once, on first use)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_schema(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
