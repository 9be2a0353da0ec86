"""`collector healthcheck` (the image's HEALTHCHECK): it probes the endpoint the config gives, after the same
${env} expansion `collector run` does, against a real running collector."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from extensions.health_check.probe import probe_urls
from tests.support import free_port, listening, run_collector, wait_for, write_config


def config(out: Path, extensions: list[str] | None = None) -> dict:
    return {
        "extensions": {"health_check": {"endpoint": "${env:HC_ENDPOINT}", "path": "/healthz"}},
        "receivers": {"static": {"collection_interval": "1s", "metrics": [{"name": "lag", "value": 1}]}},
        "exporters": {"file": {"path": str(out)}},
        "service": {
            "extensions": ["health_check"] if extensions is None else extensions,
            "pipelines": {"metrics": {"receivers": ["static"], "exporters": ["file"]}},
        },
    }


def healthcheck(path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "collector", "healthcheck", "--config", str(path)]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)


def test_probes_the_configured_endpoint_of_a_running_collector(example_plugin, tmp_path):
    port = free_port()
    env = {"HC_ENDPOINT": f"127.0.0.1:{port}", "PATH": "/usr/bin:/bin"}
    path = write_config(tmp_path, config(tmp_path / "out.jsonl"))

    down = healthcheck(path, env)
    assert down.returncode == 1 and f"127.0.0.1:{port}/healthz" in down.stderr, down

    with run_collector(path, env=env) as collector:
        wait_for(lambda: listening(port), 60, "health endpoint listening")
        up = wait_for(lambda: (r := healthcheck(path, env)).returncode == 0 and r, 30, "healthcheck exit 0")
        assert json.loads(up.stdout)["healthy"] is True
        collector.stop()
    assert healthcheck(path, env).returncode == 1


def test_without_a_health_check_extension_it_says_so(tmp_path):
    path = write_config(tmp_path, config(tmp_path / "out.jsonl", extensions=[]))
    result = healthcheck(path, {"PATH": "/usr/bin:/bin"})
    assert result.returncode == 1 and "no health_check extension in service.extensions" in result.stderr


def test_a_listen_everywhere_endpoint_is_probed_on_loopback(tmp_path, monkeypatch):
    for endpoint, url in [
        ("0.0.0.0:13133", "http://127.0.0.1:13133/healthz"),
        (":8080", "http://127.0.0.1:8080/healthz"),
        ("[::]:9000", "http://[::1]:9000/healthz"),
        ("collector.internal:7000", "http://collector.internal:7000/healthz"),
    ]:
        monkeypatch.setenv("HC_ENDPOINT", endpoint)
        assert probe_urls([str(write_config(tmp_path, config(tmp_path / "out.jsonl")))]) == [url]
