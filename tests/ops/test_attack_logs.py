"""Issue 18 item 7: a client cannot drive the log. Alternating bad and good requests used to log two lines
per pair; now every refusal is counted per reason and each reason is logged at most once a minute."""

from __future__ import annotations

import requests

from tests.ops.attack import PROTOBUF, big_request
from tests.ops.conftest import free_port, listening, scrape_own_metrics
from tests.support import run_collector, wait_for, write_config

PAIRS = 200


def test_a_flood_of_bad_requests_is_counted_per_reason_and_logged_once_per_reason(tmp_path):
    http, telemetry = free_port(), free_port()
    config = {
        "receivers": {
            "otlp": {"protocols": {"http": {"endpoint": f"127.0.0.1:{http}", "max_request_body_size": 10_000}}}
        },
        "exporters": {"file": {"path": str(tmp_path / "out.jsonl")}},
        "service": {
            "telemetry": {"metrics": {"address": f"127.0.0.1:{telemetry}"}},
            "pipelines": {"metrics": {"receivers": ["otlp"], "exporters": ["file"]}},
        },
    }
    url = f"http://127.0.0.1:{http}/v1/metrics"
    bad = {
        "malformed": (b"\x0a\xff", PROTOBUF),
        "too_large": (b"\x00" * 20_000, PROTOBUF),
        "unsupported_media_type": (b"x", {"Content-Type": "text/plain"}),
    }
    good = big_request(1)
    with run_collector(write_config(tmp_path, config), free_telemetry_port=False) as collector:
        wait_for(lambda: listening(http), 30, "listening")
        lines_before = len(collector.logs().splitlines())
        with requests.Session() as session:
            for i in range(PAIRS):
                body, headers = list(bad.values())[i % len(bad)]
                assert session.post(url, data=body, headers=headers, timeout=10).status_code in (400, 413, 415)
                assert session.post(url, data=good, headers=PROTOBUF, timeout=10).status_code == 200
        own = scrape_own_metrics(telemetry)
        new_lines = collector.logs().splitlines()[lines_before:]
        assert collector.stop() == 0
    for n, reason in enumerate(bad):
        sent = len(range(n, PAIRS, len(bad)))
        assert own[f'collector_rejected_requests_total{{component="otlp",reason="{reason}"}}'] == sent
        assert sum(f"refusing requests: {reason}" in line for line in new_lines) == 1
    assert len(new_lines) == len(bad), "\n".join(new_lines)  # nothing else: no line per request
    assert own['otelcol_receiver_accepted_metric_points_total{receiver="otlp"}'] == PAIRS
