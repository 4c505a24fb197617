"""The review pages under ``/review/``: sign-in, queue, entry page, document viewer, actions.

Every read goes through the shared services with the signed-in user's principal (so their
visibility rules apply: another agency's entry, line or document is "not found"); every action
goes through ``DispositionService.submit`` or ``DocumentService.review`` and adds an audit
event (``review.action``) naming the staff user and the address the request came from. The
audit event is not attached to the entry, so the filer's history never shows staff addresses.
"""

from __future__ import annotations

import datetime as dt
import logging
import urllib.parse
from collections.abc import Awaitable, Callable
from typing import Any

from pga_dis.service import REJECT_REASONS
from pga_dis.validation import label_table
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

from gateway.coordination import HOLD_CODES
from gateway.db import repository
from gateway.db.models import EntryRow
from gateway.dispositions import dispositions_for_entry
from gateway.errors import AuthenticationFailed, GatewayError, NotFound, PermissionDenied
from gateway.pgams.entry_number import normalize_entry_number
from gateway.queries import coordinate_for, visible_entry
from gateway.review import queue
from gateway.review.auth import (
    CSRF_FIELD,
    SESSION_COOKIE,
    SignInThrottle,
    StaffUser,
    csrf_ok,
    csrf_token,
    current_user,
    oidc_client,
    sign_in,
    sign_out,
    user_from_claims,
)
from gateway.review.render import environment, reason_codes, status_options
from gateway.services import Services

log = logging.getLogger("gateway.review")

PREFIX = "/review"
DOCUMENTS_REQUIRED = "10"
DOCUMENTS_REASON = "90"
INLINE_TYPES = ("application/pdf", "image/png", "image/jpeg", "image/gif")
_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-src 'self'; object-src 'self'; frame-ancestors 'self'; form-action 'self'; "
    "base-uri 'none'"
)
Handler = Callable[[Request], Awaitable[Response]]


def review_app(services: Services) -> ASGIApp:
    """The review pages as one Starlette app (routes carry the full ``/review`` paths)."""
    settings = services.settings
    secret = settings.review_session_secret or services.identity.review_session_secret()
    pages = ReviewPages(services)
    routes = [
        Route(PREFIX, pages.home),
        Route(PREFIX + "/", pages.home),
        Route(PREFIX + "/login", pages.login_form, methods=["GET"]),
        Route(PREFIX + "/login", pages.login, methods=["POST"]),
        Route(PREFIX + "/oidc/login", pages.oidc_login, methods=["GET"]),
        Route(PREFIX + "/oidc/callback", pages.oidc_callback, methods=["GET"]),
        Route(PREFIX + "/logout", pages.logout, methods=["POST"]),
        Route(PREFIX + "/queue", pages.queue_page, methods=["GET"]),
        Route(PREFIX + "/entries/{entry_number}", pages.entry_page, methods=["GET"]),
        Route(
            PREFIX + "/entries/{entry_number}/dispositions",
            pages.record_disposition,
            methods=["POST"],
        ),
        Route(
            PREFIX + "/entries/{entry_number}/document-requests",
            pages.request_documents,
            methods=["POST"],
        ),
        Route(PREFIX + "/documents/{document_id}", pages.document_page, methods=["GET"]),
        Route(PREFIX + "/documents/{document_id}/content", pages.document_content, methods=["GET"]),
        Route(PREFIX + "/documents/{document_id}/review", pages.review_document, methods=["POST"]),
        Mount(PREFIX + "/static", StaticFiles(packages=[("gateway.review", "static")])),
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(
                SessionMiddleware,
                secret_key=secret,
                session_cookie=SESSION_COOKIE,
                max_age=settings.review_session_idle_seconds,
                path=PREFIX,
                same_site="lax",
                https_only=bool(settings.review_secure_cookies),
            )
        ],
        exception_handlers={404: pages.not_found_handler, 405: pages.not_found_handler},
    )
    return app


class ReviewPages:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.throttle = SignInThrottle()
        self.oidc = oidc_client(services)
        self.env = environment()

    # -- plumbing ----------------------------------------------------------------------------

    def render(
        self, request: Request, template: str, status: int = 200, **context: Any
    ) -> HTMLResponse:
        user = context.get("user")
        context.setdefault("flash", request.session.pop("flash", None) if user else None)
        html = self.env.get_template(template).render(
            csrf_field=CSRF_FIELD, csrf=csrf_token(request), prefix=PREFIX, **context
        )
        return HTMLResponse(html, status_code=status, headers=_page_headers())

    def error_page(
        self, request: Request, status: int, title: str, message: str, user: StaffUser | None
    ) -> HTMLResponse:
        return self.render(
            request, "error.html", status, user=user, title=title, message=message, flash=None
        )

    async def not_found_handler(self, request: Request, exc: Exception) -> Response:
        return self.error_page(request, 404, "Not found", "There is no such page.", None)

    def need_user(self, request: Request) -> StaffUser | Response:
        user = current_user(request, self.services)
        if user is None:
            target = request.url.path
            if request.url.query:
                target += "?" + request.url.query
            return RedirectResponse(
                f"{PREFIX}/login?next={urllib.parse.quote(target)}", status_code=303
            )
        return user

    async def need_action(self, request: Request) -> tuple[StaffUser, Any] | Response:
        """A POST by a signed-in agency user with a valid CSRF token, else the refusal."""
        user = current_user(request, self.services)
        form = await request.form()
        if user is None:
            return self.error_page(
                request, 401, "Signed out", "Your session ended. Sign in again.", None
            )
        if not csrf_ok(request, form):
            return self.error_page(
                request, 403, "Refused", "The form was stale or not from this site.", user
            )
        if user.coordinator:
            return self.error_page(
                request, 403, "Read-only", "Coordinators see every agency's work read-only.", user
            )
        return user, form

    def audit(
        self, request: Request, user: StaffUser, what: str, entry_number: str, **details: Any
    ) -> None:
        address = request.client.host if request.client else None
        with self.services.database.transaction() as session:
            repository.record_event(
                session,
                kind="review.action",
                actor=user.actor,
                payload={
                    "action": what,
                    "entry_number": entry_number,
                    "agency_code": user.agency_code,
                    "user": user.username,
                    "remote_address": address,
                    "user_agent": request.headers.get("user-agent", "")[:200],
                    **details,
                },
            )

    def flash(self, request: Request, kind: str, text: str) -> None:
        request.session["flash"] = {"kind": kind, "text": text}

    # -- sign-in -----------------------------------------------------------------------------

    async def home(self, request: Request) -> Response:
        return RedirectResponse(f"{PREFIX}/queue", status_code=303)

    async def login_form(self, request: Request) -> Response:
        if current_user(request, self.services) is not None:
            return RedirectResponse(_safe_next(request.query_params.get("next")), 303)
        return self.login_page(request, None, 200)

    def login_page(self, request: Request, error: str | None, status: int) -> HTMLResponse:
        return self.render(
            request,
            "login.html",
            status,
            user=None,
            error=error,
            oidc=self.oidc is not None,
            next=_safe_next(request.query_params.get("next")),
        )

    async def login(self, request: Request) -> Response:
        form = await request.form()
        if not csrf_ok(request, form):
            return self.error_page(
                request, 403, "Refused", "The sign-in form was stale; reload the page.", None
            )
        if self.oidc is not None:
            return self.error_page(
                request, 403, "Refused", "Sign in through your organisation's provider.", None
            )
        username = str(form.get("username") or "").strip().lower()
        password = str(form.get("password") or "")
        wait = self.throttle.wait_seconds(username)
        if wait > 0:
            log.warning("review sign-in throttled", extra={"user": username})
            return self.login_page(
                request, f"Too many failed attempts; wait {int(wait) + 1} s and try again.", 429
            )
        try:
            record = await run_in_threadpool(
                self.services.identity.verify_staff, username, password
            )
        except AuthenticationFailed:
            self.throttle.failed(username)
            log.warning("review sign-in failed", extra={"user": username})
            return self.login_page(request, "Unknown user or wrong password.", 401)
        self.throttle.succeeded(username)
        user = StaffUser(record.username, record.agency_code, record.is_coordinator, "local")
        sign_in(request, user, record.fingerprint)
        self.audit(request, user, "signed_in", "")
        return RedirectResponse(_safe_next(str(form.get("next") or "")), status_code=303)

    async def oidc_login(self, request: Request) -> Response:
        if self.oidc is None:
            return self.error_page(request, 404, "Not found", "OIDC is not configured.", None)
        redirect_uri = _base_url(request, self.services) + PREFIX + "/oidc/callback"
        try:
            response: Response = await self.oidc.authorize_redirect(request, redirect_uri)
        except Exception as exc:  # provider unreachable or its metadata unusable
            log.warning("review OIDC provider unavailable: %s", type(exc).__name__)
            return self.error_page(
                request,
                503,
                "Sign-in unavailable",
                "Your organisation's sign-in service cannot be reached; try again shortly.",
                None,
            )
        return response

    async def oidc_callback(self, request: Request) -> Response:
        if self.oidc is None:
            return self.error_page(request, 404, "Not found", "OIDC is not configured.", None)
        try:
            # authlib checks the ID token's signature, iss, exp, nonce and azp, but not that
            # ``aud`` names this client (OIDC Core 3.1.3.7 step 3): a token issued to another
            # client of the same provider would pass. Ask for both explicitly.
            metadata = await self.oidc.load_server_metadata()
            claims_options = {
                "iss": {"essential": True, "value": metadata["issuer"]},
                "aud": {"essential": True, "value": self.services.settings.oidc_client_id},
            }
            token = await self.oidc.authorize_access_token(request, claims_options=claims_options)
        except Exception as exc:  # authlib raises several error types; all mean "no"
            log.warning("review OIDC sign-in failed: %s", type(exc).__name__)
            return self.error_page(request, 401, "Sign-in failed", "The provider said no.", None)
        user = user_from_claims(
            token.get("userinfo"),
            self.services.settings.oidc_agency_claim,
            self.services.registry,
        )
        if user is None:
            return self.error_page(
                request, 403, "No agency", "Your account names no agency for this gateway.", None
            )
        sign_in(request, user, None)
        self.audit(request, user, "signed_in", "")
        return RedirectResponse(f"{PREFIX}/queue", status_code=303)

    async def logout(self, request: Request) -> Response:
        form = await request.form()
        user = current_user(request, self.services)
        if user is not None and not csrf_ok(request, form):
            return self.error_page(request, 403, "Refused", "The form was stale.", user)
        if user is not None:
            self.audit(request, user, "signed_out", "")
        sign_out(request, self.services)
        response = RedirectResponse(f"{PREFIX}/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path=PREFIX)
        return response

    # -- queue -------------------------------------------------------------------------------

    async def queue_page(self, request: Request) -> Response:
        user = self.need_user(request)
        if isinstance(user, Response):
            return user
        q = request.query_params
        agency = user.agency_code if not user.coordinator else _code(q.get("agency"))
        filters = queue.QueueFilters(
            agency_code=agency,
            program=_code(q.get("program")) or "",
            status=_status_filter(q.get("status")),
            port=_digits(q.get("port"), 4),
            filer=_code(q.get("filer")) or "",
            date_from=_date(q.get("from")),
            date_to=_date(q.get("to")),
            sort="newest" if q.get("sort") == "newest" else "oldest",
            page=_int(q.get("page"), 1),
        )
        tab = "documents" if q.get("tab") == "documents" else "lines"

        def load() -> dict[str, Any]:
            with self.services.database.read() as session:
                lines_total = queue.count_lines(session, filters)
                docs_total = queue.count_documents(session, filters)
                page = (
                    queue.documents(session, filters)
                    if tab == "documents"
                    else queue.pga_lines(session, filters)
                )
                return {
                    "page": page,
                    "lines_total": lines_total,
                    "docs_total": docs_total,
                    "programs": queue.programs(session, agency),
                }

        data = await run_in_threadpool(load)
        params = {k: v for k, v in q.items() if k != "page" and v}
        return self.render(
            request,
            "queue.html",
            user=user,
            filters=filters,
            tab=tab,
            query=params,
            query_string=urllib.parse.urlencode(params),
            hold_codes=HOLD_CODES,
            statuses=status_options(),
            **data,
        )

    # -- entry page --------------------------------------------------------------------------

    async def entry_page(self, request: Request) -> Response:
        user = self.need_user(request)
        if isinstance(user, Response):
            return user
        number = request.path_params["entry_number"]
        try:
            data = await run_in_threadpool(self.entry_data, number, user)
        except (NotFound, ValueError, GatewayError):
            return self.error_page(request, 404, "Not found", f"No entry {number} for you.", user)
        return self.render(
            request,
            "entry.html",
            user=user,
            statuses=status_options(),
            reasons=reason_codes(),
            labels=_labels_for(user.agency_code),
            **data,
        )

    def entry_data(self, entry_number: str, user: StaffUser) -> dict[str, Any]:
        principal = user.principal
        number = normalize_entry_number(entry_number)
        view = self.services.queries.get(number, principal)  # NotFound for other agencies
        with self.services.database.read() as session:
            entry: EntryRow = visible_entry(session, number, principal)
            # Statuses of every agency, for display only (remarks/actors of others stay out).
            full = coordinate_for(entry, dispositions_for_entry(session, entry), None).as_dict()
        mine, others = [], []
        for line in full["lines"]:
            if user.coordinator or line["agency_code"] == user.agency_code:
                mine.append(line)
            else:
                others.append(
                    {
                        k: line[k]
                        for k in (
                            "agency_code",
                            "program_code",
                            "cbp_line_number",
                            "pga_line_number",
                            "status",
                            "status_code",
                            "status_text",
                            "disclaimed",
                        )
                    }
                )
        status_by_line = {
            (line["agency_code"], line["cbp_line_number"], line["pga_line_number"]): line
            for line in full["lines"]
        }
        history = self.services.status.history(number, principal)["items"]
        documents = self.services.documents.list(principal, entry_number=number)["items"]
        actionable = [line for line in mine if not line["disclaimed"] and not user.coordinator]
        return {
            "entry": view,
            "coordinated": full,
            "my_lines": mine,
            "other_lines": others,
            "status_by_line": status_by_line,
            "actionable": actionable,
            "history": list(reversed(history)),
            "documents": documents,
        }

    async def record_disposition(self, request: Request) -> Response:
        checked = await self.need_action(request)
        if isinstance(checked, Response):
            return checked
        user, form = checked
        number = request.path_params["entry_number"]
        status = str(form.get("status_code") or "")
        reason = str(form.get("reason_code") or "") or None
        remark = str(form.get("remark") or "").strip() or None
        return await self.submit(request, user, number, form, status, reason, remark, None)

    async def request_documents(self, request: Request) -> Response:
        checked = await self.need_action(request)
        if isinstance(checked, Response):
            return checked
        user, form = checked
        number = request.path_params["entry_number"]
        wanted = [str(v) for v in form.getlist("label") if v]
        note = str(form.get("remark") or "").strip()
        remark = "Documents required: " + (", ".join(wanted) or "see remark")
        if note:
            remark += f". {note}"
        return await self.submit(
            request, user, number, form, DOCUMENTS_REQUIRED, DOCUMENTS_REASON, remark, wanted
        )

    async def submit(
        self,
        request: Request,
        user: StaffUser,
        number: str,
        form: Any,
        status: str,
        reason: str | None,
        remark: str | None,
        requested: list[str] | None,
    ) -> Response:
        target = str(form.get("line") or "")
        try:
            data = await run_in_threadpool(self.entry_data, number, user)
        except (NotFound, ValueError, GatewayError):
            return self.error_page(request, 404, "Not found", f"No entry {number} for you.", user)
        lines = data["actionable"]
        if target != "all":
            lines = [
                line
                for line in lines
                if f"{line['cbp_line_number']}-{line['pga_line_number']}" == target
            ]
            if not lines:
                return self.error_page(
                    request, 404, "Not found", "No such PGA line of your agency.", user
                )
        now = dt.datetime.now(dt.UTC).isoformat()
        items = []
        for line in lines:
            item: dict[str, Any] = {
                "cbp_line_number": line["cbp_line_number"],
                "pga_line_number": line["pga_line_number"],
                "status_code": status,
                "action_time": now,
            }
            if reason:
                item["reason_code"] = reason
            if remark:
                item["remark"] = remark[:2000]
            if requested and _accepts_requested_documents():
                item["requested_documents"] = requested
            items.append(item)
        entry_number = data["entry"]["entry_number"]
        where = f"{PREFIX}/entries/{entry_number}"
        try:
            result = await run_in_threadpool(
                self.services.dispositions.submit,
                entry_number,
                {"dispositions": items},
                user.principal,
                source="review",
            )
        except GatewayError as exc:
            self.flash(request, "error", _problem_text(exc))
            return RedirectResponse(where, status_code=303)
        self.audit(
            request,
            user,
            "documents_requested" if requested is not None else "disposition_recorded",
            entry_number,
            status_code=status,
            reason_code=reason,
            remark=remark,
            lines=[f"{i['cbp_line_number']}-{i['pga_line_number']}" for i in items],
            recorded=result.get("recorded"),
        )
        self.flash(
            request, "ok", f"Recorded status {status} on {len(items)} PGA line(s) of {number}."
        )
        return RedirectResponse(where, status_code=303)

    # -- documents ---------------------------------------------------------------------------

    async def document_page(self, request: Request) -> Response:
        user = self.need_user(request)
        if isinstance(user, Response):
            return user
        doc_id = request.path_params["document_id"]
        try:
            doc = await run_in_threadpool(self.services.documents.get, user.principal, doc_id)
        except GatewayError:
            return self.error_page(request, 404, "Not found", "No such document for you.", user)
        mine = next(
            (a for a in doc["review"]["agencies"] if a["agency_code"] == user.agency_code), None
        )
        return self.render(
            request,
            "document.html",
            user=user,
            doc=doc,
            my_review=mine,
            inline=doc["media_type"] in INLINE_TYPES,
            image=doc["media_type"].startswith("image/"),
            reject_reasons=REJECT_REASONS,
        )

    async def document_content(self, request: Request) -> Response:
        user = current_user(request, self.services)
        if user is None:
            return Response("sign in first", status_code=401, media_type="text/plain")
        doc_id = request.path_params["document_id"]
        try:
            info, chunks = await run_in_threadpool(
                self.services.documents.open_content, user.principal, doc_id
            )
        except GatewayError:
            return Response("not found", status_code=404, media_type="text/plain")
        inline = info["media_type"] in INLINE_TYPES
        name = str(info["file_name"]).replace('"', "")
        headers = {
            "Content-Length": str(info["size_bytes"]),
            "Content-Disposition": f'{"inline" if inline else "attachment"}; filename="{name}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
            "X-Frame-Options": "SAMEORIGIN",
        }
        return StreamingResponse(chunks, media_type=info["media_type"], headers=headers)

    async def review_document(self, request: Request) -> Response:
        checked = await self.need_action(request)
        if isinstance(checked, Response):
            return checked
        user, form = checked
        doc_id = request.path_params["document_id"]
        status = str(form.get("status") or "").upper()
        reason = str(form.get("reject_reason") or "") or None
        comment = str(form.get("comment") or "").strip() or None
        if status == "ACCEPTED":
            reason = None
        try:
            result = await run_in_threadpool(
                lambda: self.services.documents.review(
                    user.principal, doc_id, status=status, reject_reason=reason, comment=comment
                )
            )
        except NotFound:
            return self.error_page(request, 404, "Not found", "No such document for you.", user)
        except PermissionDenied:
            return self.error_page(request, 403, "Refused", "You cannot review this.", user)
        except GatewayError as exc:
            self.flash(request, "error", _problem_text(exc))
            return RedirectResponse(f"{PREFIX}/documents/{doc_id}", status_code=303)
        doc = await run_in_threadpool(self.services.documents.get, user.principal, doc_id)
        self.audit(
            request,
            user,
            "document_reviewed",
            doc["entry_number"],
            document=doc_id,
            status=status,
            reject_reason=reason,
            comment=comment,
            outcome=result["review"]["DocumentReviewStatus"],
        )
        self.flash(request, "ok", f"Document {doc['file_name']} {status.lower()}.")
        return RedirectResponse(f"{PREFIX}/documents/{doc_id}", status_code=303)


# -- helpers ----------------------------------------------------------------------------------


def _page_headers() -> dict[str, str]:
    return {
        "Content-Security-Policy": _CSP,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "SAMEORIGIN",
        "Referrer-Policy": "same-origin",
        "Cache-Control": "no-store",
    }


def _safe_next(target: str | None) -> str:
    """Only a local /review path (no scheme, no host, no //) is followed after sign-in."""
    if target and target.startswith(PREFIX + "/") and "//" not in target and "\\" not in target:
        return target
    return f"{PREFIX}/queue"


def _base_url(request: Request, services: Services) -> str:
    public = services.settings.public_base_url.rstrip("/")
    return public or str(request.base_url).rstrip("/")


def _code(value: str | None) -> str | None:
    value = (value or "").strip().upper()
    return value if len(value) == 3 and value.isalnum() else None


def _digits(value: str | None, size: int) -> str:
    value = (value or "").strip()
    return value if len(value) == size and value.isdigit() else ""


def _status_filter(value: str | None) -> str:
    value = (value or "").strip().upper()
    if value in queue.STATUS_FILTERS or (len(value) == 2 and value.isdigit()):
        return value
    return ""


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat((value or "").strip())
    except ValueError:
        return None


def _int(value: str | None, default: int) -> int:
    try:
        return max(1, min(100_000, int(value or default)))
    except ValueError:
        return default


def _problem_text(exc: GatewayError) -> str:
    details = "; ".join(p.message for p in exc.problems[:5])
    return f"{exc.detail}: {details}" if details else exc.detail


def _labels_for(agency_code: str) -> list[str]:
    table = label_table()
    labels = set(table.get("any_agency", [])) | set(table.get("agencies", {}).get(agency_code, []))
    return sorted(str(x) for x in labels)


def _accepts_requested_documents() -> bool:
    """Whether dispositions carry structured document requests (``requested_documents``)."""
    from gateway.dispositions import DispositionItem

    return "requested_documents" in getattr(DispositionItem, "__dataclass_fields__", {})
