"""Component discovery: entry points are loaded when a configuration names them, not at start-up, and a
plugin that cannot be loaded is a clear problem of the configuration that uses it."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import EntryPoint

from collector.component import Kind
from collector.config import ConfigError, validate
from collector.registry import Registry
from tests.core.fakes import registry as fake_registry

HEAVY_MODULES = ("boto3", "botocore", "grpc")


def test_a_collector_imports_only_the_components_its_configuration_names() -> None:
    """The fleet's shape (jmx into prometheus) must not import boto3 or gRPC (tens of MiB of RSS each); an
    awsemf exporter in the configuration does import boto3."""
    probe = f"""
import sys
from collector.config import validate
from collector.registry import Registry
pipeline = {{"receivers": ["jmx"], "exporters": ["EXPORTER"]}}
raw = {{
    "receivers": {{"jmx": {{"endpoint": "localhost:9999", "target_system": "jvm"}}}},
    "exporters": {{"EXPORTER": {{}}}},
    "service": {{"pipelines": {{"metrics": pipeline}}}},
}}
validate(raw, Registry.discover())
print(sorted(m for m in {HEAVY_MODULES!r} if m in sys.modules))
"""

    def imported_with(exporter: str) -> str:
        code = probe.replace("EXPORTER", exporter)
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    assert imported_with("prometheus") == "[]"
    assert "'boto3'" in imported_with("awsemf"), "the probe must be able to see an import"


def test_types_come_from_entry_point_names_and_all_loads_every_one() -> None:
    registry = Registry.discover()
    assert {"jmx", "otlp"} <= set(registry.types(Kind.RECEIVER))
    assert "awsemf" in registry.types(Kind.EXPORTER)
    loaded = {(entry.factory.kind, entry.factory.type) for entry in registry.all()}
    assert (Kind.EXPORTER, "awsemf") in loaded and (Kind.RECEIVER, "otlp") in loaded
    assert not registry.load_errors, registry.load_errors


def test_a_plugin_that_cannot_be_loaded_is_a_problem_of_the_config_that_names_it() -> None:
    registry = fake_registry()
    broken = EntryPoint(name="broken", value="no_such_plugin_module:factory", group="collector.exporters")
    registry.add_entry_point(Kind.EXPORTER, broken)
    assert "broken" in registry.types(Kind.EXPORTER)
    raw = {
        "receivers": {"push": {}},
        "exporters": {"broken": {}},
        "service": {"pipelines": {"metrics": {"receivers": ["push"], "exporters": ["broken"]}}},
    }
    try:
        validate(raw, registry)
    except ConfigError as exc:
        problems = [(p.path, p.message) for p in exc.problems]
    else:
        raise AssertionError("a configured plugin that cannot be imported must be a config problem")
    assert len(problems) == 1, problems
    path, message = problems[0]
    assert path == "exporters.broken"
    assert "cannot load collector.exporters entry point 'broken'" in message and "no_such_plugin_module" in message
    assert registry.load_errors == [message]
    assert "broken" in registry.types(Kind.EXPORTER), "still installed, so not an unknown type"


def test_two_distributions_claiming_one_type_is_an_error_not_a_pick() -> None:
    registry = fake_registry()  # its `record` exporter comes from distribution ""
    original = registry.get(Kind.EXPORTER, "record")
    registry.add_entry_point(Kind.EXPORTER, EntryPoint(name="record", value="x:f", group="collector.exporters"))
    assert registry.load_errors == ["exporter type 'record' is provided by both '' and 'unknown'; uninstall one"]
    assert registry.get(Kind.EXPORTER, "record") is original
