"""Wire the web pages into the app: routers, static files, HTML error pages.

The API keeps its JSON errors (English); a person in a browser gets a page in
their language instead, which says what went wrong by the error's reason code
(REASONS) or, for a reason it does not know, what kind of error it was. A
page that needs sign-in sends them to /login.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from dispatch.allowances import views as allowance_views
from dispatch.auditing import views as audit_views
from dispatch.deps import get_settings
from dispatch.errors import RETRY_AFTER_S, UNAVAILABLE, SprachpoolError
from dispatch.jobs import views as jobs
from dispatch.mediators import views as pool
from dispatch.organisations import views as organisations_views
from dispatch.places import views as places_views
from dispatch.reports import views as report_views
from dispatch.users import views as users_views
from dispatch.web import account, caseworker, coordinator, maps, mediator
from dispatch.web.auth import CsrfRefused, SignInRequired
from dispatch.web.links import LinkInvalid
from dispatch.web.rendering import HERE, formatter, on_mediator_link, render, visitor_lang
from locales import N_, NP_

#: Addresses that are not pages: their errors stay JSON.
NOT_PAGES = ("/api/", "/webhooks/", "/health", "/docs", "/redoc", "/openapi.json")

#: What an error page says for a domain error's reason code (its params fill the text).
REASONS: dict[str, str | tuple[str, str]] = {
    "request_not_cancellable": N_("This request is %(status)s and can no longer be cancelled."),
    "assignment_cancelled": N_("This assignment was already cancelled."),
    "assignment_not_cancellable": N_(
        "This request has started or ended; its assignment can no longer be cancelled."
    ),
    "mediator_inactive": N_("%(name)s is not active in the pool; activate them first."),
    "request_not_assignable": N_("This request is %(status)s; it cannot be assigned."),
    "request_over": N_("This request is over; it cannot be assigned any more."),
    "mediator_busy": N_("%(name)s already has a job at that time."),
    "mediator_lacks_language": N_("%(name)s does not speak the language of this request."),
    "mediator_not_cleared": N_(
        "%(name)s is not cleared for jobs on that day (training, pledge, police certificate, "
        "listed until); complete their clearance first."
    ),
    "already_holds": N_("%(name)s already holds this request."),
    "unknown_language": N_("This language is not served by the pool."),
    **audit_views.REFUSED,  # an unknown mediator or request, a period's order
    "period_too_long": N_("A period covers at most %(days)s days."),
    **allowance_views.MONTH_ERRORS,
    "nothing_to_pay": N_("Nothing of %(month)s is open: every approved job is paid."),
    "not_reported": N_("The mediator has not reported this job yet."),
    "already_decided": N_("This job was already decided; nothing was changed."),
    "other_organisation": N_("This job belongs to another organisation."),
    "dispute_reason_missing": N_("Please say what does not match."),
    **jobs.APPROVAL_MESSAGES,  # an approval without its reason, nothing chosen
    "not_markable": N_(
        "Only a request with a file or client reference can be marked, once the job has "
        "started and a mediator served it."
    ),
    "no_show_not_possible": N_(
        "A no-show can be recorded once the job has started, and only for a mediator who holds it."
    ),
    "unknown_token": N_(
        "You have no API token with the number %(id)s; nothing was revoked. "
        "Your account page lists yours."
    ),
    "no_report": N_("The mediator has not reported this job yet; feedback is possible after that."),
    "own_account": N_("You cannot deactivate your own account; ask another coordinator."),
    "own_account_erase": N_("You cannot erase your own account; ask another coordinator."),
    "erase_active_account": N_("Deactivate the account before erasing it."),
    "erase_open_work": NP_(
        "%(num)s open request still needs this caseworker; hand it to a colleague first.",
        "%(num)s open requests still need this caseworker; hand them to a colleague first.",
    ),
    "account_erased": N_("This account was erased; invite the person as a new account."),
    "not_a_colleague": N_(
        "Open requests can only go to an active caseworker of the same organisation."
    ),
}


def is_page(request: Request) -> bool:
    return not request.url.path.startswith(NOT_PAGES)


def _error_page(
    request: Request, status_code: int, kind: str, error: SprachpoolError | None = None
) -> Response:
    lang = visitor_lang(request)
    message = None
    if error is not None and error.reason in REASONS:
        fmt = formatter(request, lang)
        params = dict(error.params)
        if "status" in params:
            params["status"] = fmt.status(str(params["status"]))
        text = REASONS[error.reason]
        if isinstance(text, tuple):
            message = fmt.ngettext(*text, int(params.get("num", 1)), **params)
        else:
            message = fmt.gettext(text, **params)
    return render(
        request,
        "error.html",
        {
            "kind": kind,
            "status_code": status_code,
            "message": message,
            # A mediator whose link failed learns whom to call (staff know).
            "mediator_link": on_mediator_link(request),
            "coordinator_phone": get_settings(request).coordinator_phone,
        },
        status_code=status_code,
        lang=lang,
    )


def staff_pages() -> list[APIRouter]:
    """The coordinator's administration pages, each in its domain package."""
    return [
        places_views.router,
        organisations_views.router,
        users_views.router,
        audit_views.router,
    ]


def install(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for module in (account, caseworker, pool, coordinator, mediator, jobs, maps):
        app.include_router(module.router)
    app.include_router(allowance_views.router)
    app.include_router(report_views.router)
    for router in staff_pages():
        app.include_router(router)

    json_handlers: dict[Any, Any] = dict(app.exception_handlers)

    async def domain(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SprachpoolError)
        if not is_page(request):
            response: Response = await json_handlers[SprachpoolError](request, exc)
            return response
        if isinstance(exc, SignInRequired):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
        if isinstance(exc, CsrfRefused):
            return _error_page(request, 403, "csrf")
        if isinstance(exc, LinkInvalid):
            return _error_page(request, 410, "link", exc)
        kind = {403: "forbidden", 404: "not_found", 409: "conflict", 410: "link"}.get(
            exc.status_code, "invalid"
        )
        return _error_page(request, exc.status_code, kind, exc)

    async def http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if not is_page(request):
            response: Response = await json_handlers[StarletteHTTPException](request, exc)
            return response
        kind = {404: "not_found", 405: "not_allowed"}.get(exc.status_code, "invalid")
        return _error_page(request, exc.status_code, kind)

    async def validation(request: Request, exc: Exception) -> Response:
        if not is_page(request):
            response: Response = await json_handlers[RequestValidationError](request, exc)
            return response
        return _error_page(request, 422, "invalid")

    async def unavailable(request: Request, exc: Exception) -> Response:
        response: Response = await json_handlers[UNAVAILABLE[0]](request, exc)  # logs it
        if not is_page(request):
            return response
        page = _error_page(request, 503, "unavailable")
        page.headers["Retry-After"] = str(RETRY_AFTER_S)
        return page

    async def raced(request: Request, exc: Exception) -> Response:
        response: Response = await json_handlers[IntegrityError](request, exc)  # logs it
        if not is_page(request):
            return response
        return _error_page(request, 409, "conflict")

    async def unexpected(request: Request, exc: Exception) -> Response:
        response: Response = await json_handlers[Exception](request, exc)  # logs it
        if not is_page(request):
            return response
        return _error_page(request, 500, "internal")

    app.add_exception_handler(SprachpoolError, domain)
    app.add_exception_handler(StarletteHTTPException, http)
    app.add_exception_handler(RequestValidationError, validation)
    for failure in UNAVAILABLE:
        app.add_exception_handler(failure, unavailable)
    app.add_exception_handler(IntegrityError, raced)
    app.add_exception_handler(Exception, unexpected)
