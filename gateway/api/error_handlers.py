"""Render every error as problem+json, including connexion's and Starlette's own."""

from __future__ import annotations

import logging

from connexion.exceptions import ProblemException
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from starlette.exceptions import HTTPException

from gateway import errors
from gateway.api.responses import problem_response

log = logging.getLogger("gateway.api")

_BY_STATUS: dict[int, type[errors.GatewayError]] = {
    400: errors.MalformedInput,
    401: errors.AuthenticationFailed,
    403: errors.PermissionDenied,
    404: errors.NotFound,
    409: errors.Conflict,
    413: errors.PayloadTooLarge,
    415: errors.UnsupportedMediaType,
    422: errors.ValidationFailed,
}


def gateway_error(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    assert isinstance(exc, errors.GatewayError)
    if exc.http_status >= 500:
        log.error("request failed: %s", exc.detail)
    return problem_response(exc, request.url.path)


def connexion_problem(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    assert isinstance(exc, ProblemException)
    status = exc.status or 500
    cls = errors.MethodNotAllowed if status == 405 else _BY_STATUS.get(status, errors.ServerError)
    detail = str(exc.detail or exc.title or cls.title)
    if status == 401 and "No authorization token provided" in detail:
        detail = "this API needs 'Authorization: Bearer <token>' (get one at POST /oauth/token)"
    return problem_response(cls(detail), request.url.path)


def http_exception(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    assert isinstance(exc, HTTPException)
    cls = errors.MethodNotAllowed if exc.status_code == 405 else _BY_STATUS.get(exc.status_code)
    if cls is None:
        cls = errors.ServerError if exc.status_code >= 500 else errors.ClientError
    return problem_response(cls(str(exc.detail)), request.url.path)


def unexpected(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    # Never echo internals to the caller; the log has the traceback.
    log.exception("unhandled error on %s", request.url.path)
    return problem_response(errors.ServerError("internal error"), request.url.path)
