"""The Starlette application: routes, lifespan and the GraphQL view."""

from __future__ import annotations

import gc
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import Any
from urllib.parse import quote

import orjson
from cross_web import AsyncHTTPRequestAdapter, StarletteRequestAdapter
from cross_web import HTTPException as StrawberryHTTPException
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.parse_content_type import parse_content_type
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UNSET
from tortoise import connections
from tortoise.contrib.starlette import RegisterTortoise

from app import refusals
from app.context import Context, timeouts
from app.db import ensure_sqlite_dir, tortoise_config
from app.headers import SecurityHeaders
from app.jobs import running_queue
from app.limits import RequestLimits
from app.logging import RequestLogging, install_log_guards
from app.pubsub import running_bus
from app.refusals import JsonCORSMiddleware, Refusal, refused
from app.settings import Settings, get_settings
from app.websocket import SessionSocket
from resolvers import ratelimit
from resolvers.branding import logo_for_slug
from resolvers.documents import download
from resolvers.principal import Caller, Principal
from resolvers.sessions import bearer, cached_principal
from schema import build_schema
from schema.compiled import GiveUp
from schema.execution import SEVERAL_OPERATIONS


def client_ip(conn: HTTPConnection) -> str | None:
    return conn.client.host if conn.client else None


@lru_cache(maxsize=64)
def _media_type(content_type: str) -> str:
    """strawberry's parser builds an e-mail message per call; clients repeat one header."""
    media_type, _ = parse_content_type(content_type)
    return media_type


# Where the compiled path leaves a body it parsed but does not answer, for the normal path.
_REQUEST_DATA = "portal.request_data"
_SUB_RESPONSE = "portal.sub_response"


class PortalRequestAdapter(StarletteRequestAdapter):
    """strawberry's adapter, keeping the request where parse_http_body can read its scope."""

    def __init__(self, request: Request) -> None:
        super().__init__(request)
        self.request = request


class PortalGraphQL(GraphQL[Context, None]):
    graphql_transport_ws_handler_class = SessionSocket
    request_adapter_class = PortalRequestAdapter

    def __init__(self, settings: Settings) -> None:
        super().__init__(
            build_schema(settings),
            graphql_ide="graphiql",
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            multipart_uploads_enabled=True,
            allowed_origins=settings.allowed_origins,
        )
        self.settings = settings
        self.max_text_chars = settings.max_text_chars
        self.timeouts = timeouts(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            response, context = await self._compiled_answer(request)
            if response is None:
                # The same context: its caller remembers refusals already audited.
                response = await self.run(request, context=context or UNSET)
        except StrawberryHTTPException as exc:
            response = refusals.answer(refusals.from_strawberry(exc), request.url.path)
        except Refusal as refusal:
            response = refusals.answer(refusal, request.url.path)
        await response(scope, receive, send)

    async def _compiled_answer(self, request: Request) -> tuple[Response | None, Context | None]:
        """A plain read's answer from its compiled plan (schema/compiled.py), or no answer
        (and the context, if one was made) for the normal path. Refusals of the body or the
        session are the same either way."""
        compiled = getattr(self.schema, "compiled", None)
        if compiled is None or request.method != "POST":
            return None, None
        if _media_type(request.headers.get("content-type", "")) != "application/json":
            return None, None
        data = self._request_data(self.parse_json(await request.body()))
        # The normal path takes it from here instead of parsing the body again.
        request.scope[_REQUEST_DATA] = data
        plan = compiled.get(data.query, data.operation_name)
        if plan is None:
            return None, None
        sub_response = await self.get_sub_response(request)
        request.scope[_SUB_RESPONSE] = sub_response  # the context's, if the normal path goes on
        context = await self.get_context(request, sub_response)
        try:
            result = await plan.run(context, data.variables)
        except GiveUp:
            return None, context
        return self.create_response({"data": result}, sub_response), context

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        known = request.scope.get(_SUB_RESPONSE)
        return known if known is not None else await super().get_sub_response(request)

    async def parse_http_body(self, request: AsyncHTTPRequestAdapter) -> GraphQLRequestData:
        if isinstance(request, PortalRequestAdapter) and _REQUEST_DATA in request.request.scope:
            return request.request.scope[_REQUEST_DATA]  # type: ignore[no-any-return]
        # strawberry's own fails with a 500 on a body of `null` or `5`, answers plain text
        # and has no rule for operationName's text; we take neither batches nor streams.
        content_type = _media_type(request.content_type or "")
        if request.method == "GET":
            data = self.parse_query_params(request.query_params)
        elif content_type == "application/json":
            data = self.parse_json(await request.get_body())
        elif content_type == "multipart/form-data":
            data = await self.parse_multipart(request)
        else:
            raise refused(415, refusals.GENERIC[415])
        return self._request_data(data)

    def _request_data(self, data: object) -> GraphQLRequestData:
        """refusals.request_data, and a document of several operations without operationName
        refused as README says: strawberry would otherwise run the first one (a mutation
        too) where the spec asks for a request error."""
        found = refusals.request_data(data, self.max_text_chars)
        documents = getattr(self.schema, "documents", None)
        if documents is not None and documents.several_unnamed(found.query, found.operation_name):
            raise refused(400, SEVERAL_OPERATIONS)
        return found

    def parse_json(self, data: str | bytes) -> Any:
        try:
            return json.loads(data)
        # Not JSON, not UTF-8, or nested deeper than the parser's stack (a 400 KB `[[[…`).
        except (ValueError, RecursionError) as exc:
            raise refused(400, "The request is not valid JSON.") from exc

    def encode_json(self, data: object) -> str:
        # orjson: about a tenth of json.dumps' time on a 20-row page. A str, not orjson's
        # bytes: strawberry sends bytes over a WebSocket as a binary frame, which
        # graphql-transport-ws clients refuse. What orjson cannot encode (an integer past 64
        # bits) goes the old way.
        try:
            return orjson.dumps(data).decode()
        except TypeError:
            return super().encode_json(data)  # type: ignore[return-value]

    def create_response(
        self, response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse], sub_response: Response
    ) -> Response:
        errors = response_data.get("errors") if isinstance(response_data, dict) else None
        if errors and refusals.all_unavailable(errors):
            sub_response.status_code = 503
        return super().create_response(response_data, sub_response)

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        principal = await self._principal(request)
        return Context(
            request=request,
            response=response,
            caller=Caller(principal, client_ip(request)),
            settings=self.settings,
        )

    async def render_graphql_ide(self, request: Request) -> Response:
        # Production shows GraphiQL to signed-in staff only, as if absent to anyone else.
        if self.settings.is_production:
            principal = await self._principal(request)
            if principal is None or not principal.is_staff:
                raise refused(404, refusals.GENERIC[404])
        return await super().render_graphql_ide(request)

    async def _principal(self, conn: HTTPConnection) -> Principal | None:
        token = bearer(conn.headers.get("authorization", ""))
        if token is None:
            return None
        return await cached_principal(token, self.timeouts)


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    checks = {"database": await _database_ok()}
    settings: Settings = request.app.state.settings
    if settings.redis_url:
        checks["redis"] = await _redis_ok(settings.redis_url)
    status = 200 if all(checks.values()) else 503
    return JSONResponse({"ready": status == 200, "checks": checks}, status_code=status)


async def _database_ok() -> bool:
    try:
        await connections.get("default").execute_query("SELECT 1")
    except Exception:
        return False
    return True


async def _redis_ok(url: str) -> bool:
    from redis.asyncio import Redis

    client = Redis.from_url(url)
    try:
        return bool(await client.ping())
    except Exception:
        return False
    finally:
        await client.aclose()


async def logo(request: Request) -> Response:
    found = await logo_for_slug(request.path_params["slug"])
    if found is None:
        return Response(status_code=404)
    headers = {
        "Cache-Control": "public, max-age=300",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'",
        "ETag": f'"{found.sha256}"',
    }
    return Response(found.data, media_type=found.content_type, headers=headers)


def _attachment(file_name: str) -> str:
    """Content-Disposition for any name: an ASCII fallback and the exact UTF-8 name."""
    fallback = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in file_name
    )
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(file_name, safe='')}"


async def document(request: Request) -> Response:
    """GET /documents/<token>: the file, or one 404 for any link that may not be used now."""
    settings: Settings = request.app.state.settings
    found = await download(request.path_params["token"], timeouts(settings), client_ip(request))
    if found is None:
        return refusals.answer(refused(404, refusals.GENERIC[404]), "/documents")
    headers = {
        "Content-Disposition": _attachment(found.document.file_name),
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
    }
    return Response(found.data, media_type=found.document.content_type, headers=headers)


# Python's default (700, 10, 10) ran a full collection every few hundred requests, each walking
# every object the app keeps for its life (schema, models, pools): about a sixth of a read's CPU
# on the PostgreSQL bench (bench/POSTGRES.md). Collections are still made, less often, over fewer
# objects: what exists once started is frozen out of them.
GC_THRESHOLDS = (20_000, 10, 10)


def tune_gc() -> None:
    """Once the app has started: what exists now lives as long as the process."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or get_settings()
    install_log_guards()
    ensure_sqlite_dir(settings.database_url)
    graphql = PortalGraphQL(settings)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with (
            RegisterTortoise(app, config=tortoise_config(settings.database_url)),
            running_queue(settings) as queue,
            ratelimit.installed(settings.redis_url, settings.secret_key),
            running_bus(settings),
        ):
            app.state.jobs = queue
            tune_gc()
            yield

    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/logos/{slug}", logo),
            Route("/documents/{token}", document, methods=["GET"]),
        ],
        middleware=[
            # Outermost first: every answer, an error answer included, gets the headers.
            Middleware(SecurityHeaders),
            Middleware(RequestLogging),
            Middleware(
                JsonCORSMiddleware,
                allow_origins=settings.allowed_origins,
                allow_methods=["GET", "POST"],
                allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
                expose_headers=["X-Request-ID"],
            ),
            # Inside CORS, so a browser can read the 413/401 it answers.
            Middleware(RequestLimits, settings=settings),
        ],
        exception_handlers={HTTPException: refusals.starlette_refusal},
        lifespan=lifespan,
    )
    app.state.settings = settings
    return app
