from __future__ import annotations

import base64
import gzip
import json
import time
import zlib
from email.utils import parsedate_to_datetime

import requests
from google.protobuf.message import DecodeError
from google.rpc.status_pb2 import Status
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from requests.adapters import HTTPAdapter

from collector.component import Host, PermanentError
from collector.executors import OwnedExecutor
from collector.otlpjson import request_to_dict
from common.otlp import OTLPExporter, RetryableExportError, without_userinfo
from exporters.otlphttp.config import OTLPHTTPConfig

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
# OTLP spec, "OTLP/HTTP Response": only these are transient; every other 4xx/5xx is permanent.
RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})


def otlp_json(request: ExportMetricsServiceRequest) -> bytes:
    """OTLP/JSON as the spec has it: protobuf's JSON mapping, but trace and span ids in hex, not base64."""
    body = request_to_dict(request)
    for resource in body.get("resourceMetrics", []):
        for scope in resource.get("scopeMetrics", []):
            for metric in scope.get("metrics", []):
                for data in metric.values():
                    for point in data.get("dataPoints", []) if isinstance(data, dict) else []:
                        for exemplar in point.get("exemplars", []):
                            for key in ("traceId", "spanId"):
                                if key in exemplar:
                                    exemplar[key] = base64.b64decode(exemplar[key]).hex()
    return json.dumps(body, separators=(",", ":")).encode()


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as delay-seconds or an HTTP-date (RFC 9110)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def error_detail(response: requests.Response) -> str:
    """The server's reason: google.rpc.Status.message for protobuf bodies, else the start of the text."""
    if PROTOBUF in response.headers.get("Content-Type", ""):
        try:
            return Status.FromString(response.content).message or response.reason
        except DecodeError:
            pass
    text = response.text.strip()
    return (text[:300] + "...") if len(text) > 300 else (text or response.reason)


def classify(response: requests.Response) -> Exception:
    message = f"HTTP {response.status_code}: {error_detail(response)}"
    if response.status_code in RETRYABLE_STATUSES:
        return RetryableExportError(message, retry_after=retry_after_seconds(response.headers.get("Retry-After")))
    return PermanentError(message)


class OTLPHTTPExporter(OTLPExporter):
    """requests in a thread pool of its own (one thread per queue consumer), so slow POSTs neither block
    the event loop nor take the threads other components share."""

    config: OTLPHTTPConfig

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.url = self.config.metrics_url
        self.display_url = without_userinfo(self.url)  # for messages: user:password@ never reaches a log
        # requests blocks: posts run on this exporter's threads, one per sending consumer.
        self._posts = OwnedExecutor(f"{self.id}-send", self.config.sending_queue.num_consumers)
        self._session: requests.Session | None = None
        headers = {"Content-Type": JSON if self.config.encoding == "json" else PROTOBUF}
        if self.config.compression != "none":
            headers["Content-Encoding"] = self.config.compression
        self._headers = {**headers, **dict(self.config.header_items())}

    async def start(self, host: Host) -> None:
        config = self.config
        if self.url.startswith("https://"):
            await self._posts.run(config.tls.read_files)  # a missing file fails start, naming its key
            if config.tls.insecure_skip_verify:
                self.logger.warning("tls.insecure_skip_verify is set: the server's certificate is not verified")
        workers = config.sending_queue.num_consumers
        session = requests.Session()
        session.mount("http://", HTTPAdapter(pool_maxsize=workers))
        session.mount("https://", HTTPAdapter(pool_maxsize=workers))
        session.verify = config.tls.ca_file or not config.tls.insecure_skip_verify
        if config.tls.cert_file:
            session.cert = (config.tls.cert_file, config.tls.key_file)  # type: ignore[assignment]
        # HTTP(S)_PROXY / NO_PROXY are honoured, as by the Collector; the rest of what requests reads from
        # the environment (.netrc credentials, REQUESTS_CA_BUNDLE) is not, so nothing overrides this config.
        proxy = config.proxy_url
        session.proxies = {"http": proxy, "https": proxy} if proxy else requests.utils.get_environ_proxies(self.url)
        session.trust_env = False
        self._session = session

    async def _send(self, request: ExportMetricsServiceRequest) -> ExportMetricsServiceResponse:
        assert self._session is not None, "export before start"
        # Awaited even past the export timeout (requests bounds it by `timeout`): a retry while this post
        # still ran would deliver the batch twice.
        return await self._posts.run(self._post, request)

    def _post(self, request: ExportMetricsServiceRequest) -> ExportMetricsServiceResponse:
        assert self._session is not None
        body = otlp_json(request) if self.config.encoding == "json" else request.SerializeToString()
        level = self.config.compression_params.level
        if self.config.compression == "gzip":
            body = gzip.compress(body, compresslevel=level)
        elif self.config.compression == "deflate":
            body = zlib.compress(body, level)  # HTTP's "deflate" is the zlib format (RFC 9110)
        try:
            response = self._session.post(self.url, data=body, headers=self._headers, timeout=self.config.timeout)
        except requests.RequestException as exc:  # connection refused, reset, TLS, timeout: transient
            reason = f"{type(exc).__name__}: {_root_cause(exc)}"
            raise RetryableExportError(f"cannot reach {self.display_url}: {reason}") from exc
        if not 200 <= response.status_code < 300:
            raise classify(response)
        if response.content and PROTOBUF in response.headers.get("Content-Type", ""):
            try:
                return ExportMetricsServiceResponse.FromString(response.content)
            except DecodeError:
                self.logger.debug("undecodable success response ignored")
        return ExportMetricsServiceResponse()

    async def shutdown(self) -> None:
        self._posts.shutdown()
        self._encoder.shutdown()
        if self._session is not None:
            self._session.close()
            self._session = None


def _root_cause(exc: BaseException) -> str:
    """The innermost reason (e.g. 'Connection refused'), not urllib3's nested wrapper text."""
    while exc.__cause__ is not None or exc.__context__ is not None:
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    reason = getattr(exc, "reason", None) or (exc.args[-1] if exc.args else exc)
    return str(getattr(reason, "strerror", None) or reason)
