"""OTLP/HTTP: POST protobuf or JSON (optionally gzip) to `metrics_url_path`, answered as the Collector does.

Errors carry a `google.rpc.Status` in the request's encoding; a refusing pipeline gets 503 with
Retry-After. The body limit applies to the bytes on the wire and again to what they inflate to. Every
refusal is counted in `collector_rejected_requests{reason}` and logged at most once a minute per reason.
"""

from __future__ import annotations

import asyncio
import re
from typing import TypeGuard

from aiohttp import web
from google.rpc import code_pb2, status_pb2

from collector.component import Reservation
from collector.httpserver import connection_budget, start_site
from receivers.otlp.codec import (
    CONTENT_TYPES,
    JSON,
    PROTOBUF,
    MalformedRequest,
    RequestTooLarge,
    decompress,
    encode,
    parse_json,
    parse_protobuf,
)
from receivers.otlp.config import CORSConfig, HTTPConfig
from receivers.otlp.handler import DECODE_EXPANSION, ExportHandler, Refused

MIB = 1024 * 1024

_GRPC_CODE = {
    400: code_pb2.INVALID_ARGUMENT,
    408: code_pb2.DEADLINE_EXCEEDED,
    413: code_pb2.RESOURCE_EXHAUSTED,
    503: code_pb2.UNAVAILABLE,
}


def _status(http_status: int, message: str, content_type: str, headers: dict[str, str] | None = None) -> web.Response:
    status = status_pb2.Status(code=_GRPC_CODE.get(http_status, code_pb2.INTERNAL), message=message)
    return web.Response(
        status=http_status, body=encode(status, content_type), content_type=content_type, headers=headers
    )


class CORS:
    """The Collector's `cors:` block: origins may use `*`; preflights are answered for POST only."""

    def __init__(self, config: CORSConfig | None) -> None:
        self.config = config
        patterns = config.allowed_origins if config else []
        self.origins = [re.compile("^" + re.escape(o).replace(r"\*", ".*") + "$") for o in patterns]

    def allows(self, origin: str | None) -> TypeGuard[str]:
        return bool(origin and any(p.match(origin) for p in self.origins))

    def headers(self, request: web.Request) -> dict[str, str]:
        origin = request.headers.get("Origin")
        if not self.allows(origin):
            return {}
        return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}

    def preflight(self, request: web.Request) -> web.Response:
        headers = self.headers(request)
        if headers and self.config:
            headers["Access-Control-Allow-Methods"] = "POST"
            wanted = request.headers.get("Access-Control-Request-Headers", "")
            allowed = {h.lower() for h in self.config.allowed_headers}
            requested = [h.strip() for h in wanted.split(",") if h.strip()]
            default = {"accept", "accept-language", "content-type", "content-language", "content-encoding"}
            if requested and ("*" in allowed or all(h.lower() in allowed | default for h in requested)):
                headers["Access-Control-Allow-Headers"] = ", ".join(requested)
            if self.config.max_age is not None:
                headers["Access-Control-Max-Age"] = str(self.config.max_age)
        return web.Response(status=204, headers=headers)


class HTTPServer:
    def __init__(self, config: HTTPConfig, handler: ExportHandler) -> None:
        self.config = config
        self.handler = handler
        self.cors = CORS(config.cors)
        self.runner: web.AppRunner | None = None
        self.port = 0

    async def _metrics(self, request: web.Request) -> web.StreamResponse:
        if request.method == "OPTIONS":
            return self.cors.preflight(request)
        if request.method != "POST":
            self.handler.bad_request("method_not_allowed", request.method, "http")
            return web.Response(status=405, text="405 method not allowed, supported: [POST]", headers={"Allow": "POST"})
        content_type = request.content_type
        if content_type not in CONTENT_TYPES:
            self.handler.bad_request("unsupported_media_type", content_type, "http")
            return web.Response(status=415, text=f"415 unsupported media type, supported: [{JSON}, {PROTOBUF}]")
        cors = self.cors.headers(request)
        reservation = None
        try:
            try:
                reservation, body = await self._read(request)
                result = await self.handler.decode(
                    lambda: parse_json(body) if content_type == JSON else parse_protobuf(body)
                )
            except RequestTooLarge as exc:
                self.handler.bad_request("too_large", str(exc), "http")
                return _status(413, str(exc), content_type, cors)
            except MalformedRequest as exc:
                self.handler.bad_request("malformed", str(exc), "http")
                return _status(400, str(exc), content_type, cors)
            except TimeoutError:
                self.handler.bad_request(
                    "read_timeout", f"body not received within {self.config.read_timeout}s", "http"
                )
                response = _status(408, "request body not received in time", content_type, cors)
                response.force_close()
                return response
            outcome = await self.handler.export(result)
        except Refused as exc:
            if exc.retryable:
                return _status(503, str(exc), content_type, {**cors, "Retry-After": str(exc.retry_after)})
            return _status(400, str(exc), content_type, cors)
        finally:
            if reservation is not None:
                reservation.release()
        return web.Response(body=encode(outcome.response(), content_type), content_type=content_type, headers=cors)

    async def _read(self, request: web.Request) -> tuple[Reservation, bytes]:
        """The (inflated) body, with its memory reserved before it is read and before it is decoded.

        A plain body with a Content-Length reserves its whole cost up front; otherwise what arrives is
        reserved as it arrives (1 MiB steps) and the decode cost once the inflated size is known.
        """
        limit = self.config.max_request_body_size
        declared = request.content_length
        if declared is not None and declared > limit:
            raise RequestTooLarge(f"body of {declared} bytes exceeds max_request_body_size ({limit})")
        encoding = request.headers.get("Content-Encoding", "").strip().lower()
        plain = encoding in ("", "identity")
        upfront = (declared or 0) * (1 + DECODE_EXPANSION if plain else 1)
        reservation = self.handler.reserve(upfront)
        try:
            chunks, received, reserved = [], 0, upfront
            async with asyncio.timeout(self.config.read_timeout):
                async for chunk in request.content.iter_any():
                    received += len(chunk)
                    if received > limit:
                        raise RequestTooLarge(f"body exceeds max_request_body_size ({limit} bytes)")
                    if received > reserved:
                        step = max(received - reserved, MIB)
                        self.handler.grow(reservation, step)
                        reserved += step
                    chunks.append(chunk)
            body = b"".join(chunks)
            del chunks
            if not plain:
                body = await self.handler.decoder.run(decompress, body, encoding, limit)
            if not plain or declared is None:
                self.handler.grow(reservation, len(body) * DECODE_EXPANSION)
        except BaseException:
            reservation.release()
            raise
        return reservation, body

    async def start(self) -> None:
        app = web.Application(client_max_size=self.config.max_request_body_size)
        app.router.add_route("*", self.config.metrics_url_path, self._metrics)
        # auto_decompress off: decompression is ours, so it is bounded and its errors get OTLP answers.
        self.runner, self.port = await start_site(
            app,
            self.config.endpoint,
            self.config.tls,
            max_connections=self.config.max_connections or connection_budget(),
            read_header_timeout=self.config.read_header_timeout,
            on_refused=lambda: self.handler.bad_request("connection_limit", "max_connections reached", "http"),
            auto_decompress=False,
        )

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None
