"""Issue 18 items 3 and 4: listeners bounded like a server on the internet.

One real collector runs under `prlimit --nofile=256:512` (soft below hard). It must raise its soft limit
to the hard one, hold at most `max_connections` per data listener, close clients that send headers or a
body too slowly, and keep health, own metrics and new OTLP requests working through a flood of
half-open connections, logging the flood in a few lines instead of one per accept.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from collector.httpserver import raise_nofile_limit
from tests.ops.attack import PROTOBUF, big_request, nofile_limits, open_descriptors
from tests.ops.conftest import free_port, listening, scrape_own_metrics
from tests.support import CollectorProcess, run_collector, wait_for, write_config

SOFT, HARD = 256, 512
MAX_CONNECTIONS = 100
HEADER_TIMEOUT_S, BODY_TIMEOUT_S = 1.0, 2.0
BACKLOG = 128  # accepted in one go by the loop before their protocols run: a transient surplus over the cap
ACCEPT_BATCHES_IN_FLIGHT = 2
"""A refused connection's socket closes a few loop iterations after its accept batch; on a slow machine the
next batch is accepted before that (measured on CI: 100 held + 177 refused-but-not-yet-closed + 16 own)."""
OWN_FILES = 64
FLOOD = 600  # half-open connections: more than the cap, more than the soft limit the collector started with


@dataclass
class Listeners:
    http: int
    grpc: int
    health: int
    telemetry: int
    process: CollectorProcess

    def rejected(self, reason: str) -> float:
        series = f'collector_rejected_requests_total{{component="otlp",reason="{reason}"}}'
        return scrape_own_metrics(self.telemetry).get(series, 0)

    def healthy(self) -> bool:
        return requests.get(f"http://127.0.0.1:{self.health}/", timeout=2).status_code == 200


@pytest.fixture(scope="module")
def listeners(tmp_path_factory) -> Iterator[Listeners]:
    tmp_path: Path = tmp_path_factory.mktemp("listeners")
    http, grpc, health, telemetry = free_port(), free_port(), free_port(), free_port()
    limits = {"max_connections": MAX_CONNECTIONS}
    config = {
        "extensions": {"health_check": {"endpoint": f"127.0.0.1:{health}"}},
        "receivers": {
            "otlp": {
                "protocols": {
                    "grpc": {"endpoint": f"127.0.0.1:{grpc}", **limits},
                    "http": {
                        "endpoint": f"127.0.0.1:{http}",
                        "read_header_timeout": f"{HEADER_TIMEOUT_S}s",
                        "read_timeout": f"{BODY_TIMEOUT_S}s",
                        **limits,
                    },
                }
            }
        },
        "exporters": {"debug": {}},
        "service": {
            "extensions": ["health_check"],
            "telemetry": {"metrics": {"address": f"127.0.0.1:{telemetry}"}},
            "pipelines": {"metrics": {"receivers": ["otlp"], "exporters": ["debug"]}},
        },
    }
    prefix = ("prlimit", f"--nofile={SOFT}:{HARD}")
    with run_collector(write_config(tmp_path, config), free_telemetry_port=False, prefix=prefix) as process:
        wait_for(lambda: listening(http) and listening(health), 30, "listening")
        yield Listeners(http, grpc, health, telemetry, process)


def test_the_soft_nofile_limit_is_raised_to_the_hard_one(listeners):
    assert nofile_limits(listeners.process.process.pid) == (HARD, HARD)


def test_a_flood_of_half_open_connections_costs_the_cap_not_the_service(listeners):
    soft, _ = raise_nofile_limit()  # the test process itself needs descriptors for the flood
    assert soft > FLOOD + 64, f"the test process may open only {soft} files"
    pid = listeners.process.process.pid
    log_before = len(listeners.process.logs().splitlines())
    refused_before = listeners.rejected("connection_limit")
    flood = []
    try:
        held = []
        for i in range(FLOOD):
            flood.append(socket.create_connection(("127.0.0.1", listeners.http), timeout=5))
            if i % 50 == 0:
                held.append(open_descriptors(pid))
        # Held by the collector: at most its cap, its own files and the accept batches being closed; without
        # the cap it would run into its own `nofile` limit (HARD) well before the flood ends.
        assert max(held) < MAX_CONNECTIONS + ACCEPT_BATCHES_IN_FLIGHT * BACKLOG + OWN_FILES < HARD, held
        assert listeners.healthy()
        assert scrape_own_metrics(listeners.telemetry)  # own metrics still answer
        # Accepts lag the clients' connects (the kernel's backlog); the cap bites once they are processed.
        wait_for(
            lambda: listeners.rejected("connection_limit") > refused_before, 10, "connections over the cap refused"
        )
        # Once the refused ones are closed, the flood costs the cap alone.
        wait_for(lambda: open_descriptors(pid) < MAX_CONNECTIONS + OWN_FILES, 10, "refused connections closed")
        # The header timeout frees the cap: a new client gets through without anyone closing the flood.
        wait_for(lambda: _posts_ok(listeners), 5 * HEADER_TIMEOUT_S + 5, "a fresh OTLP request accepted")
    finally:
        for connection in flood:
            connection.close()
    new_lines = listeners.process.logs().splitlines()[log_before:]
    assert len(new_lines) <= 5, "\n".join(new_lines[:20])  # one line per reason and state, not per connection
    assert listeners.process.process.poll() is None


def _posts_ok(listeners: Listeners) -> bool:
    return _posts_ok_on(listeners.http)


def test_slow_headers_are_cut_at_the_header_timeout(listeners):
    clients = [socket.create_connection(("127.0.0.1", listeners.http), timeout=10) for _ in range(10)]
    started = time.monotonic()
    for client in clients:
        client.sendall(b"POST /v1/metrics HTTP/1.1\r\nHost: x\r\n")
    closed_after = []
    for client in clients:
        try:
            while True:  # a header byte now and then, never the blank line that ends them
                client.sendall(b"X")
                client.settimeout(0.2)
                try:
                    if client.recv(1024) == b"":
                        break
                except TimeoutError:
                    pass
                assert time.monotonic() - started < HEADER_TIMEOUT_S + 10, "slow headers were never cut"
        except (BrokenPipeError, ConnectionResetError):
            pass
        closed_after.append(time.monotonic() - started)
        client.close()
    assert max(closed_after) < HEADER_TIMEOUT_S + 10
    assert listeners.healthy()


def test_a_slow_body_gets_408_at_the_read_timeout(listeners):
    refused_before = listeners.rejected("read_timeout")
    client = socket.create_connection(("127.0.0.1", listeners.http), timeout=10)
    client.sendall(
        b"POST /v1/metrics HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n"
        b"Content-Length: 1000000\r\n\r\n"
    )
    started = time.monotonic()
    answer = b""
    client.settimeout(0.3)
    while time.monotonic() - started < BODY_TIMEOUT_S + 10:
        try:
            client.sendall(b"\x00" * 10)
            chunk = client.recv(4096)
        except TimeoutError:
            continue
        except (BrokenPipeError, ConnectionResetError):
            break
        if not chunk:
            break
        answer += chunk
    client.close()
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert time.monotonic() - started < BODY_TIMEOUT_S + 10
    assert listeners.rejected("read_timeout") == refused_before + 1


def test_out_of_descriptors_is_logged_once_per_state_change(tmp_path):
    """A cap set above what the process may open: accept() fails with EMFILE until connections close.
    The loop reports each failed accept; the collector logs the condition once, and once its end."""
    http, telemetry = free_port(), free_port()
    config = {
        "receivers": {"otlp": {"protocols": {"http": {"endpoint": f"127.0.0.1:{http}", "max_connections": 4000}}}},
        "exporters": {"file": {"path": str(tmp_path / "out.jsonl")}},  # data stays out of the log
        "service": {
            "telemetry": {"metrics": {"address": f"127.0.0.1:{telemetry}"}},
            "pipelines": {"metrics": {"receivers": ["otlp"], "exporters": ["file"]}},
        },
    }
    prefix = ("prlimit", "--nofile=128:128")
    with run_collector(write_config(tmp_path, config), free_telemetry_port=False, prefix=prefix) as process:
        wait_for(lambda: listening(http), 30, "listening")
        flood = []
        try:
            for _ in range(200):  # past the 128 descriptors, within what the kernel's backlog then queues
                flood.append(socket.create_connection(("127.0.0.1", http), timeout=5))
            wait_for(lambda: "cannot accept connections" in process.logs(), 10, "EMFILE noticed")
            time.sleep(3)  # the loop retries accept() every second meanwhile
        finally:
            for connection in flood:
                connection.close()
        wait_for(lambda: _posts_ok_on(http) and "accept connections again" in process.logs(), 20, "accepting again")
        logs = process.logs()
        # One line per state change: failing, then working again. Closing the flood may cause one more short
        # failing spell while the collector still holds the old connections; never a line per accept.
        failing = logs.count("cannot accept connections")
        assert 1 <= failing <= 3, logs[-3000:]
        assert logs.count("accept connections again") == failing, logs[-3000:]
        assert "Traceback" not in logs
        assert len(logs.splitlines()) < 20


def _posts_ok_on(port: int) -> bool:
    try:
        response = requests.post(
            f"http://127.0.0.1:{port}/v1/metrics", data=big_request(1), headers=PROTOBUF, timeout=5
        )
    except requests.RequestException:
        return False
    return response.status_code == 200


def test_a_flood_on_grpc_is_capped_by_grpc_itself(listeners):
    raise_nofile_limit()
    pid = listeners.process.process.pid
    flood = [socket.create_connection(("127.0.0.1", listeners.grpc), timeout=5) for _ in range(3 * MAX_CONNECTIONS)]
    try:
        time.sleep(0.5)
        assert open_descriptors(pid) < MAX_CONNECTIONS + 64
        assert listeners.healthy()
        assert _posts_ok(listeners)  # the HTTP listener's cap is its own
    finally:
        for connection in flood:
            connection.close()
    assert listeners.process.process.poll() is None
