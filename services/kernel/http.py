"""The HTTP side every service shares: app factory, unit-of-work dependency, health, metrics."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.kernel.config import Settings
from services.kernel.events.envelope import new_trace_id
from services.kernel.language import (
    InvalidValue,
    Language,
    error_message,
    preferred_language,
)
from services.kernel.pages import STATIC_DIR
from services.kernel.telemetry import HTTP_DURATION, HTTP_REQUESTS, exposition
from services.kernel.work import Work

MAX_BODY_BYTES = 1024 * 1024
_BODY_ALLOWANCE = "minqing_max_body_bytes"
# Requests inside the app at once, each on one thread for sync endpoints; the rest wait their
# turn in the event loop. A request holds its database connection across several thread hops
# (run the endpoint, then commit), so letting more in than there are threads
# lets connection holders starve waiting for a thread while every thread waits for a connection.
HTTP_THREADS = 16

WorkOpener = Callable[[str], AbstractContextManager[Work]]
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])
ReadinessCheck = Callable[[], bool]


def allow_body(max_bytes: int) -> Callable[[Endpoint], Endpoint]:
    """Let the route whose endpoint this marks take bodies up to `max_bytes` (file uploads)."""

    def mark(endpoint: Endpoint) -> Endpoint:
        setattr(endpoint, _BODY_ALLOWANCE, max_bytes)
        return endpoint

    return mark


def _body_allowances(routers: Sequence[APIRouter]) -> list[_Allowance]:
    """The routes marked with `allow_body`, each as its path pattern, methods and allowance."""
    return [
        _Allowance(route.path_regex, frozenset(route.methods or ()), allowance)
        for router in routers
        for route in router.routes
        if isinstance(route, APIRoute)
        and (allowance := getattr(route.endpoint, _BODY_ALLOWANCE, None)) is not None
    ]


@dataclass(frozen=True)
class _Allowance:
    path: re.Pattern[str]
    methods: frozenset[str]
    max_bytes: int


def unit_of_work_for(service: str) -> Callable[[Request], AsyncIterator[Work]]:
    """A dependency giving each request one unit of work on `service`'s database.

    Use it with `Depends(..., scope="function")` so the commit happens before the response is
    sent: a citizen never holds a tracking number for a case that was not committed.
    """

    async def dependency(request: Request) -> AsyncIterator[Work]:
        opener: WorkOpener = request.app.state.work_openers[service]
        # Opening does no I/O (the session connects on first use), so it runs on the event loop;
        # only the endpoint and the commit take a worker thread, one hop fewer per request.
        unit = opener(request.headers.get("x-trace-id") or new_trace_id())
        work = unit.__enter__()
        try:
            yield work
        except BaseException as exc:
            await run_in_threadpool(unit.__exit__, type(exc), exc, exc.__traceback__)
            raise
        await run_in_threadpool(unit.__exit__, None, None, None)

    return dependency


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


def create_app(
    title: str,
    settings: Settings,
    routers: Sequence[APIRouter],
    work_openers: Mapping[str, WorkOpener],
    readiness: Mapping[str, ReadinessCheck],
) -> FastAPI:
    app = FastAPI(title=title, version="0.1.0")
    app.state.work_openers = dict(work_openers)
    app.state.settings = settings
    for router in routers:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_middleware(_BodyLimit, allowances=_body_allowances(routers))
    app.add_middleware(_Admission, limit=HTTP_THREADS)
    app.add_middleware(_RequestMetrics)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    def readyz() -> JSONResponse:
        checks = {name: check() for name, check in readiness.items()}
        status = 200 if all(checks.values()) else 503
        return JSONResponse({"ready": status == 200, "checks": checks}, status_code=status)

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(exposition(), media_type=CONTENT_TYPE_LATEST)

    return app


def field_errors(errors: Sequence[Any], language: Language) -> list[dict[str, str]]:
    """Pydantic errors as `{field, message, type}`, the field in dotted form without `body`."""
    result = []
    for error in errors:
        location = [str(part) for part in error.get("loc", ())]
        if location and location[0] == "body":
            location = location[1:]
        result.append(
            {
                "field": ".".join(location) or "body",
                "message": error_message(error, language),
                "type": str(error.get("type", "value_error")),
            }
        )
    return result


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    language = preferred_language(request.headers.get("accept-language"))
    return JSONResponse({"detail": field_errors(exc.errors(), language)}, status_code=422)


class _HttpMiddleware:
    """ASGI middleware that acts on HTTP requests and passes anything else straight through."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self.handle(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError


class _Admission(_HttpMiddleware):
    """Lets at most `limit` requests into the app at once; the others wait, first come first in."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        super().__init__(app)
        self._slots = asyncio.Semaphore(limit)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        async with self._slots:
            await self.app(scope, receive, send)


class _BodyLimit(_HttpMiddleware):
    """Refuses request bodies over their route's allowance before they are read into memory.

    Every route takes MAX_BODY_BYTES unless marked with `allow_body`. The allowances are looked up
    only for a body over that default, so an ordinary request pays nothing for them.
    """

    def __init__(self, app: ASGIApp, allowances: Sequence[_Allowance]) -> None:
        super().__init__(app)
        self._allowances = tuple(allowances)

    def allowance(self, scope: Scope) -> int:
        for allowed in self._allowances:
            if scope["method"] in allowed.methods and allowed.path.match(scope["path"]):
                return allowed.max_bytes
        return MAX_BODY_BYTES

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit, looked_up = MAX_BODY_BYTES, False
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            limit, looked_up = self.allowance(scope), True
            if int(length) > limit:
                await _too_large(scope, limit)(scope, receive, send)
                return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received, limit, looked_up
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit and not looked_up:
                limit, looked_up = self.allowance(scope), True
            if received > limit:
                raise _TooLarge
            return message

        try:
            await self.app(scope, limited_receive, send)
        except _TooLarge:
            await _too_large(scope, limit)(scope, receive, send)


class _TooLarge(Exception):
    pass


def _too_large(scope: Scope, limit: int) -> JSONResponse:
    accept_language = dict(scope["headers"]).get(b"accept-language", b"").decode("latin-1")
    message = InvalidValue(f"larger than {limit} bytes", f"超过 {limit} 字节").text(
        preferred_language(accept_language)
    )
    error = {"field": "body", "message": message, "type": "too_large"}
    return JSONResponse({"detail": [error]}, status_code=413)


class _RequestMetrics(_HttpMiddleware):
    """Counts and times requests by route template, labelled with the owning service."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", "unmatched")
            tags = getattr(route, "tags", None) or ["platform"]
            service = str(tags[0])
            HTTP_REQUESTS.labels(service, scope["method"], template, str(status)).inc()
            HTTP_DURATION.labels(service, scope["method"], template).observe(
                time.perf_counter() - started
            )
