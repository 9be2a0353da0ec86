"""The CLI's other commands: components, schema, --version."""

import json
import subprocess
import sys

import jsonschema
import pytest
import yaml

from tests.support import REPO


def cli(*args):
    return subprocess.run([sys.executable, "-m", "collector", *args], capture_output=True, text=True, timeout=60)


def test_version():
    result = cli("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("collector ") and result.stdout.strip() != "collector unknown"


def test_components_shows_every_kind_with_stability():
    rows = [line.split() for line in cli("components").stdout.splitlines()]
    assert rows[0] == ["TYPE", "KIND", "STABILITY", "DISTRIBUTION"]
    kinds = {row[1] for row in rows[1:]}
    assert kinds == {"receiver", "processor", "exporter", "extension"}
    assert all(row[2] in {"development", "alpha", "beta", "stable"} for row in rows[1:])


@pytest.fixture(scope="module")
def schema():
    result = cli("schema")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_schema_accepts_the_shipped_config(schema):
    config = yaml.safe_load((REPO / "otel-config.yaml").read_text(encoding="utf-8"))
    jsonschema.validate(config, schema)


def test_schema_rejects_typos_editors_should_flag(schema):
    config = {"exporters": {"file": {"path": "x", "rotaton": {}}}, "service": {"pipelines": {}}}
    with pytest.raises(jsonschema.ValidationError, match="rotaton"):
        jsonschema.validate(config, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"exporters": {"nosuch": {}}, "service": {}}, schema)
