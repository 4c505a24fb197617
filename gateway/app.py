"""Assemble the ASGI application: the REST API (connexion, spec-first), OAuth2 token
endpoint, health checks, and the middleware every request passes through."""

from __future__ import annotations

from connexion import AsyncApp
from connexion.datastructures import MediaTypeDict
from connexion.exceptions import ProblemException
from connexion.options import SwaggerUIOptions
from connexion.validators import VALIDATOR_MAP
from pga_dis.rest import documents_collection
from pga_dis.soap import soap_dis
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp

from gateway import errors, metrics
from gateway.api import error_handlers, health, oauth
from gateway.api.context import SERVICES_SCOPE_KEY
from gateway.api.json_body import AllErrorsJSONBodyValidator
from gateway.middleware import BodyLimitMiddleware, CorrelationMiddleware, ServicesMiddleware
from gateway.resources import resource_dir
from gateway.review.routes import review_app
from gateway.services import Services
from gateway.soap.endpoint import soap_gateway


def create_app(services: Services) -> ASGIApp:
    app = AsyncApp(__name__, specification_dir=resource_dir("openapi"))
    app.add_api(
        "gateway.yaml",
        strict_validation=True,
        validator_map={"body": _body_validators()},
        swagger_ui_options=SwaggerUIOptions(swagger_ui=True, swagger_ui_path="/ui"),
    )
    app.add_url_rule("/oauth/token", "oauth_token", oauth.token_endpoint, methods=["POST"])
    app.add_url_rule("/healthz", "healthz", health.healthz, methods=["GET"])
    app.add_url_rule("/readyz", "readyz", health.readyz, methods=["GET"])
    app.add_url_rule("/metrics", "metrics", metrics.metrics, methods=["GET"])
    app.add_url_rule("/soap/gateway", "soap_gateway", soap_gateway, methods=["GET", "POST"])
    app.add_url_rule("/soap/dis", "soap_dis", soap_dis, methods=["GET", "POST"])
    app.add_url_rule(
        "/api/v1/documents", "documents", documents_collection, methods=["GET", "POST"]
    )
    # Review pages: one Starlette app for every path under /review (gateway/review).
    app.add_url_rule("/review{path:path}", "review", review_app(services), methods=None)

    app.add_error_handler(errors.GatewayError, error_handlers.gateway_error)
    app.add_error_handler(ProblemException, error_handlers.connexion_problem)
    app.add_error_handler(HTTPException, error_handlers.http_exception)
    app.add_error_handler(Exception, error_handlers.unexpected)

    asgi: ASGIApp = BodyLimitMiddleware(app, services.settings.max_body_bytes)
    asgi = ServicesMiddleware(asgi, SERVICES_SCOPE_KEY, services)
    return CorrelationMiddleware(asgi, metrics.RequestStats())


def _body_validators() -> MediaTypeDict:
    # Must stay a MediaTypeDict: connexion looks the request's media type up in it and
    # silently skips validation on a miss.
    validators = MediaTypeDict(VALIDATOR_MAP["body"])
    validators["*/*json"] = AllErrorsJSONBodyValidator
    return validators
