"""`collector healthcheck` (the image's HEALTHCHECK): it probes the endpoint the config gives, after the same
${env} expansion `collector run` does, against a real running collector."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from extensions.health_check.probe import probe_targets
from tests.support import free_port, listening, run_collector, wait_for, write_config
from tests.tlscerts import make_cert, make_key, write_pem


def config(out: Path, extensions: list[str] | None = None, tls: dict | None = None) -> dict:
    return {
        "extensions": {
            "health_check": {"endpoint": "${env:HC_ENDPOINT}", "path": "/healthz", **({"tls": tls} if tls else {})}
        },
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


def server_tls(directory: Path) -> dict:
    """A leaf signed by a throwaway CA: the probe must trust the leaf it is configured with, not a CA."""
    ca_key, key = make_key(), make_key()
    leaf = make_cert("collector", key, "probe-test-ca", ca_key, ca=False, san=True)
    return {
        "cert_file": str(write_pem(directory / "server.crt", leaf)),
        "key_file": str(write_pem(directory / "server.key", key=key)),
    }


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_probes_the_configured_endpoint_of_a_running_collector(example_plugin, tmp_path, scheme):
    port = free_port()
    env = {"HC_ENDPOINT": f"127.0.0.1:{port}", "PATH": "/usr/bin:/bin"}
    tls = server_tls(tmp_path) if scheme == "https" else None
    path = write_config(tmp_path, config(tmp_path / "out.jsonl", tls=tls))

    down = healthcheck(path, env)
    assert down.returncode == 1 and f"{scheme}://127.0.0.1:{port}/healthz" in down.stderr, down

    with run_collector(path, env=env, python=example_plugin) as collector:
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
        targets = probe_targets([str(write_config(tmp_path, config(tmp_path / "out.jsonl")))])
        assert [target.url for target in targets] == [url]
