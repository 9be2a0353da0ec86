"""The zpages extension in a real in-process service (real receivers and exporters, real HTTP): read-only,
the strict policy on every answer, JSON on request, no credential on any page, and receiver output (here
Debezium-shaped points pushed over OTLP/HTTP) observed into /debug/targetz."""

from __future__ import annotations

import asyncio
import json
import re
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from typing import Any

import pytest

from collector.config import validate
from collector.otlpjson import to_request
from collector.pipeline import Service
from collector.registry import Registry
from extensions.zpages import render
from tests.support import free_port
from tests.zpages.data import debezium_batch, parse_html

SECRETS = ("Bearer s3cr3t-header", "jmx-pa55word", "AKIAIOSFODNN7EXAMPLE")
PAGES = ("servicez", "pipelinez", "extensionz", "targetz")


def request(url: str, method: str = "GET", body: bytes | None = None, **headers: str) -> tuple[int, Any, bytes]:
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


@pytest.fixture
async def service() -> AsyncIterator[tuple[Service, str, str]]:
    zpages_port, otlp_port = free_port(), free_port()
    raw = {
        "receivers": {
            "otlp": {"protocols": {"http": {"endpoint": f"127.0.0.1:{otlp_port}"}}},
            "jmx/worker": {
                "endpoint": f"127.0.0.1:{free_port()}",
                "username": "monitor",
                "password": SECRETS[1],
                "target_system": "debezium-mysql",
                "collection_interval": "1h",
                "initial_delay": "0s",
                "resource_attributes": {"note": f"key {SECRETS[2]}"},
            },
        },
        "exporters": {
            "otlphttp": {"endpoint": "http://127.0.0.1:9", "headers": {"Authorization": SECRETS[0]}},
            "debug": {},
        },
        "extensions": {"zpages": {"endpoint": f"127.0.0.1:{zpages_port}", "refresh_interval": "30s"}},
        "service": {
            "extensions": ["zpages"],
            "telemetry": {"metrics": {"address": "127.0.0.1:0"}},
            "shutdown_grace_period": "1s",
            "pipelines": {"metrics": {"receivers": ["otlp", "jmx/worker"], "exporters": ["otlphttp", "debug"]}},
        },
    }
    svc = Service(validate(raw, Registry.discover()))
    await svc.start()
    try:
        yield svc, f"http://127.0.0.1:{zpages_port}", f"http://127.0.0.1:{otlp_port}"
    finally:
        await svc.shutdown()


async def test_read_only_with_the_policy_on_every_answer(service: tuple[Service, str, str]) -> None:
    _, base, _ = service
    for page in PAGES:
        status, headers, body = await asyncio.to_thread(request, f"{base}/debug/{page}")
        assert status == 200 and headers["Content-Type"].startswith("text/html")
        assert headers["Content-Security-Policy"] == render.CSP and headers["X-Content-Type-Options"] == "nosniff"
        assert b'<meta http-equiv="refresh" content="30">' in body
        status, headers, body = await asyncio.to_thread(request, f"{base}/debug/{page}", "HEAD")
        assert status == 200 and body == b""
        for method in ("POST", "PUT", "DELETE"):
            status, headers, _ = await asyncio.to_thread(request, f"{base}/debug/{page}", method, b"x")
            assert status == 405 and headers["Content-Security-Policy"] == render.CSP
    status, headers, _ = await asyncio.to_thread(request, f"{base}/debug/nothing")
    assert status == 404 and headers["Content-Security-Policy"] == render.CSP
    status, _, body = await asyncio.to_thread(request, f"{base}/debug/targetz?format=xml")
    assert status == 400 and b"format" in body


async def test_no_credential_on_any_page(service: tuple[Service, str, str]) -> None:
    svc, base, _ = service
    while not svc.scrape_targets.all():  # the worker's first scrape (its resource is on the page then)
        await asyncio.sleep(0.05)
    for page in PAGES:
        for suffix in ("", "?format=json"):
            status, _, body = await asyncio.to_thread(request, f"{base}/debug/{page}{suffix}")
            assert status == 200
            assert not [s for s in SECRETS if s.encode() in body], (page, suffix)
    _, _, body = await asyncio.to_thread(request, f"{base}/debug/servicez?format=json")
    config = json.loads(body)["config"]
    assert config["exporters"]["otlphttp"]["headers"] == {"Authorization": "[redacted]"}
    assert config["receivers"]["jmx/worker"]["password"] == "[redacted]"
    assert config["receivers"]["jmx/worker"]["username"] == "monitor"  # not a credential on its own
    assert config["service"]["pipelines"]["metrics"]["exporters"] == ["otlphttp", "debug"]
    _, _, body = await asyncio.to_thread(request, f"{base}/debug/targetz?format=json")
    [worker] = json.loads(body)["targets"]
    assert worker["up"] is False and worker["resource"]["note"] == "[redacted]"


async def test_pipelinez_shows_components_status_and_queue_fill(service: tuple[Service, str, str]) -> None:
    _, base, _ = service
    _, _, body = await asyncio.to_thread(request, f"{base}/debug/pipelinez?format=json")
    [pipeline] = json.loads(body)["pipelines"]
    assert [r["id"] for r in pipeline["receivers"]] == ["otlp", "jmx/worker"]
    exporters = {e["id"]: e for e in pipeline["exporters"]}
    # the debug exporter drains at once: at most the jmx receiver's first scrape is in its queue right now
    assert exporters["debug"]["queue_capacity"] == 1000 and exporters["debug"]["queue_fill"] in (0, 1 / 1000)
    _, _, html_body = await asyncio.to_thread(request, f"{base}/debug/pipelinez")
    text = parse_html(html_body.decode()).all_text()
    # the jmx receiver's first scrape may be queued by now: the page shows whatever fill it has, as "n / cap (p%)"
    assert "otlphttp" in text and re.search(r"\d+ / 1000 \(\d+%\)", text), text
    _, _, body = await asyncio.to_thread(request, f"{base}/debug/extensionz?format=json")
    [ext] = json.loads(body)["extensions"]
    assert ext["id"] == "zpages" and ext["status"] == "ok" and ext["config"]["refresh_interval"] == "30s"


async def test_pushed_connector_points_are_observed(service: tuple[Service, str, str]) -> None:
    svc, base, otlp = service
    batch = debezium_batch("orders-db", 1_800_000_000, lag_ms=4321, connected=True, resource={"host.name": "w1"})
    body = to_request(batch).SerializeToString()
    status, _, _ = await asyncio.to_thread(
        request, f"{otlp}/v1/metrics", "POST", body, **{"Content-Type": "application/x-protobuf"}
    )
    assert status == 200
    _, _, page = await asyncio.to_thread(request, f"{base}/debug/targetz?format=json")
    pushed = [t for t in json.loads(page)["targets"] if not t["scraped"]]
    assert [(t["receiver"], t["resource"]) for t in pushed] == [("otlp", {"host.name": "w1"})]
    [connector] = pushed[0]["connectors"]
    assert (connector["server"], connector["lag_ms"], connector["connected"]) == ("orders-db", 4321, True)
    assert svc.telemetry.value("otelcol_receiver_accepted_metric_points", receiver="otlp") == 2  # nothing lost
