"""The Dockerfile cannot be built here (no Docker engine): check what can be checked statically, so the
built path stays the tested path (scripts/bootstrap) and the container stays non-root."""

import re
import tomllib

from tests.support import REPO

DOCKERFILE = (REPO / "Dockerfile").read_text(encoding="utf-8")


def instructions(name: str) -> list[str]:
    return [m.group(1).strip() for m in re.finditer(rf"^{name}\s+((?:[^\n]*\\\n)*[^\n]*)", DOCKERFILE, re.M)]


def test_runs_as_a_non_root_user():
    users = instructions("USER")
    assert users, "no USER instruction: the container would run as root"
    assert users[-1] not in {"root", "0", "0:0"}
    assert "useradd --system --uid 10001" in DOCKERFILE


def test_builds_with_the_same_bootstrap_as_the_readme():
    assert any("scripts/bootstrap" in run for run in instructions("RUN"))
    assert "scripts/run" in (REPO / "README.md").read_text(encoding="utf-8")
    assert "scripts/bootstrap" in (REPO / "scripts" / "run").read_text(encoding="utf-8")


def test_copies_every_package_the_distribution_ships():
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    packages = [p.rstrip("*") for p in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]]
    copied = {line.split()[0].rstrip("/") for line in instructions("COPY") if not line.startswith("--")}
    assert set(packages) <= copied, f"Dockerfile does not COPY {set(packages) - copied}"


def test_health_check_probes_the_shipped_health_endpoint():
    assert instructions("HEALTHCHECK"), "no HEALTHCHECK"
    config = (REPO / "otel-config.yaml").read_text(encoding="utf-8")
    assert "health_check" in config and "13133" in config
    assert "localhost:13133" in instructions("HEALTHCHECK")[0]


def test_config_lives_at_etc_collector():
    assert "/etc/collector/otel-config.yaml" in instructions("CMD")[0]
