"""What a Collector user brings must load: each component's `testdata/collector-keys.yaml` holds configs
written from the OpenTelemetry Collector's documentation (README, config.go, config.schema.yaml,
testdata) for that component, in three lists:

- `accepted`: configs using every documented key with the Collector's meaning: they validate;
- `refused`: documented keys this design cannot have: they fail with their path and the documented
  reason ("not supported: why; use what instead");
- `invalid`: the Collector's own invalid cases (its config_test.go and testdata): they fail with a path.

Validation is `collector validate`'s (collector.config.validate against the installed components); one
test runs the real `collector validate` on every accepted config at once.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
import yaml

from collector.config import ConfigError, validate
from collector.registry import Registry
from tests.support import REPO, write_config

COMPONENTS = [
    "receivers/otlp",
    "exporters/otlp",
    "exporters/otlphttp",
    "exporters/prometheus",
    "processors/batch",
    "processors/filter",
    "processors/attributes",
    "processors/cumulativetodelta",
    "processors/metricstransform",
    "processors/memory_limiter",
    "extensions/health_check",
    "extensions/file_storage",
]
REGISTRY = Registry.discover()


def collector_keys(component: str) -> dict[str, Any]:
    return yaml.safe_load((REPO / component / "testdata" / "collector-keys.yaml").read_text(encoding="utf-8"))


def whole_config(components: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A complete config around `components` ({section: {id: settings}}): receivers and exporters all in
    one pipeline, each processor in a pipeline of its own (so they do not chain), extensions enabled."""
    receivers = components.get("receivers") or {"otlp/conformance": {"protocols": {"grpc": None}}}
    exporters = components.get("exporters") or {"debug/conformance": {}}
    processors = components.get("processors") or {}
    extensions = components.get("extensions") or {}
    base = {"receivers": list(receivers), "exporters": list(exporters)}
    pipelines = {f"metrics/{i}": {**base, "processors": [p]} for i, p in enumerate(processors)} or {"metrics": base}
    return {
        "receivers": receivers,
        "processors": processors,
        "exporters": exporters,
        "extensions": extensions,
        "service": {"extensions": list(extensions), "pipelines": pipelines},
    }


def problems(section: str, component_id: str, settings: Any) -> list[str]:
    try:
        validate(whole_config({section: {component_id: settings}}), REGISTRY)
    except ConfigError as exc:
        return [str(p) for p in exc.problems]
    return []


def cases(kind: str) -> list[tuple[str, str, dict[str, Any]]]:
    result = []
    for component in COMPONENTS:
        data = collector_keys(component)
        for i, case in enumerate(data.get(kind) or []):
            result.append((f"{component}#{i}", data["section"], case))
    return result


@pytest.mark.parametrize("component", COMPONENTS)
def test_every_documented_key_is_accepted(component):
    data = collector_keys(component)
    assert data["accepted"], "each component has accepted configs"
    for component_id, settings in data["accepted"].items():
        assert problems(data["section"], component_id, settings) == [], component_id


@pytest.mark.parametrize(("where", "section", "case"), cases("refused"), ids=[c[0] for c in cases("refused")])
def test_keys_this_design_cannot_have_are_refused_with_the_reason(where, section, case):
    component_type = case["error"].split(".")[1].split(":")[0].split("/")[0]
    found = problems(section, case.get("id", component_type), case["config"])
    assert any(case["error"] in p for p in found), found
    assert any("not supported" in p for p in found), found


@pytest.mark.parametrize(("where", "section", "case"), cases("invalid"), ids=[c[0] for c in cases("invalid")])
def test_the_collectors_invalid_cases_fail_with_a_path(where, section, case):
    component_type = case["error"].split(".")[1].split(":")[0].split("/")[0]
    found = problems(section, case.get("id", component_type), case["config"])
    assert any(case["error"] in p for p in found), found


def test_collector_validate_accepts_every_accepted_config(tmp_path):
    """The real command, once, with every accepted config of every component in one file."""
    everything: dict[str, dict[str, Any]] = {}
    for component in COMPONENTS:
        data = collector_keys(component)
        everything.setdefault(data["section"], {}).update(data["accepted"])
    path = write_config(tmp_path, whole_config(everything))
    result = subprocess.run(
        [sys.executable, "-m", "collector", "validate", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("configuration is valid")
    for section in ("receivers", "processors", "exporters"):
        for component_id in everything[section]:
            assert f" {component_id}" in result.stdout, component_id


def test_the_json_schema_agrees():
    """`collector schema` (what editors check against) accepts every accepted config and marks every
    refused key (`Refused`: "<path>: not supported: ...") as never valid. Refused values of valid keys
    (`transport: unix`, `compression: zstd` ...) are left to the validators."""
    import jsonschema

    from collector.schema import config_schema

    validator = jsonschema.Draft202012Validator(config_schema(REGISTRY))
    for component in COMPONENTS:
        data = collector_keys(component)
        errors = [e.message for e in validator.iter_errors(whole_config({data["section"]: data["accepted"]}))]
        assert errors == [], component
        for case in data.get("refused") or []:
            if ": not supported:" not in case["error"]:
                continue
            component_id = case["error"].split(".")[1].split(":")[0]
            refused = whole_config({data["section"]: {component_id: case["config"]}})
            assert list(validator.iter_errors(refused)), case["error"]
