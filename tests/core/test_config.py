"""Config loading, ${env} expansion and every class of config error, with their paths."""

import subprocess
import sys

import pytest

from collector.config import ConfigError, expand_env, load, validate
from collector.configtypes import parse_duration
from tests.core.fakes import registry
from tests.support import write_config


def minimal(**overrides):
    config = {
        "receivers": {"push": {}},
        "exporters": {"record": {}},
        "service": {"pipelines": {"metrics": {"receivers": ["push"], "exporters": ["record"]}}},
    }
    config.update(overrides)
    return config


def problems(raw) -> list[str]:
    with pytest.raises(ConfigError) as info:
        validate(raw, registry())
    return [str(p) for p in info.value.problems]


# --- ${env} expansion -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("${env:HOST}", "db.local"),
        ("${HOST}", "db.local"),
        ("${env:HOST:-fallback}", "db.local"),
        ("${env:MISSING:-fallback}", "fallback"),
        ("${env:MISSING:-}", ""),
        ("${env:EMPTY:-fallback}", ""),  # set-but-empty is a value, as in the Collector
        ("rmi://${env:HOST}:${env:PORT:-7098}/jmxrmi", "rmi://db.local:7098/jmxrmi"),
        ("$$HOST", "$HOST"),
        ("$${env:HOST}", "${env:HOST}"),
        ("cost: $5", "cost: $5"),
        ("${env:URL:-http://a:1/x}", "http://a:1/x"),
        ("${env:NESTED}", "${env:HOST}"),  # expanded once: a value is never re-expanded
    ],
)
def test_env_expansion(value, expected):
    environ = {"HOST": "db.local", "EMPTY": "", "NESTED": "${env:HOST}"}
    assert expand_env({"a": {"b": [value]}}, environ) == {"a": {"b": [expected]}}


def test_env_expansion_keeps_types_and_keys():
    raw = {"${env:HOST}": 5, "flag": True, "none": None, "n": "${env:PORT}"}
    assert expand_env(raw, {"HOST": "x", "PORT": "7098"}) == {"${env:HOST}": 5, "flag": True, "none": None, "n": "7098"}


def test_every_unset_variable_is_reported_with_its_path():
    with pytest.raises(ConfigError) as info:
        expand_env({"receivers": {"jmx": {"endpoint": "${env:A}", "password": ["${B}"]}}}, {})
    assert [str(p) for p in info.value.problems] == [
        "receivers.jmx.endpoint: environment variable A is not set and has no default",
        "receivers.jmx.password[0]: environment variable B is not set and has no default",
    ]


def test_unsupported_provider_is_an_error():
    with pytest.raises(ConfigError, match=r"x: unsupported reference \$\{file:/etc/passwd\}"):
        expand_env({"x": "${file:/etc/passwd}"}, {})


# --- durations ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("10s", 10), ("500ms", 0.5), ("1m30s", 90), ("1h", 3600), ("1.5s", 1.5), ("250us", 0.00025), (0, 0), ("0", 0)],
)
def test_durations(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["10", 10, "s", "10 s", "10x", "", "1s2", True])
def test_bad_durations(text):
    with pytest.raises(ValueError):
        parse_duration(text)


# --- validation errors ----------------------------------------------------------------------------------


def test_valid_config_resolves():
    config = validate(minimal(), registry())
    assert list(config.service.pipelines) == ["metrics"]
    assert config.warnings == []


def test_unknown_key_names_path_and_suggests():
    raw = minimal(processors={"suffix/x": {"sufix": "_a"}})
    raw["service"]["pipelines"]["metrics"]["processors"] = ["suffix/x"]
    assert problems(raw) == [
        "processors.suffix/x.suffix: field required",
        "processors.suffix/x.sufix: unknown key 'sufix' (did you mean 'suffix'?); allowed keys: suffix",
    ]


def test_nested_unknown_key_and_bad_value_paths():
    raw = minimal(
        exporters={"record": {"retry_on_failure": {"max_intervl": "5s", "multiplier": 0.5}, "timeout": "soon"}}
    )
    found = problems(raw)
    assert any(
        p.startswith(
            "exporters.record.retry_on_failure.max_intervl: unknown key 'max_intervl' (did you mean 'max_interval'?)"
        )
        for p in found
    )
    assert "exporters.record.retry_on_failure.multiplier: input should be greater than or equal to 1" in found
    assert any(p.startswith("exporters.record.timeout: invalid duration 'soon'") for p in found)


def test_unknown_component_type_lists_known_ones():
    raw = minimal(exporters={"recrod": {}})
    raw["service"]["pipelines"]["metrics"]["exporters"] = ["recrod"]
    assert problems(raw) == [
        "exporters.recrod: unknown exporter type 'recrod' (did you mean 'record'?); known exporter types: record"
    ]


def test_undefined_reference_and_unknown_top_level_key():
    raw = minimal(recievers={})
    raw["service"]["pipelines"]["metrics"]["exporters"] = ["record", "record/missing"]
    assert problems(raw) == [
        "recievers: unknown key 'recievers' (did you mean 'receivers'?); allowed keys: receivers, processors, "
        "exporters, extensions, service",
        "service.pipelines.metrics.exporters[1]: exporter 'record/missing' is not defined under exporters: "
        "(did you mean 'record'?)",
    ]


def test_empty_pipeline_and_cycle():
    raw = minimal(processors={"suffix": {"suffix": "_x"}})
    raw["service"]["pipelines"] = {
        "metrics": {"receivers": [], "exporters": []},
        "metrics/loop": {"receivers": ["push"], "processors": ["suffix", "suffix"], "exporters": ["record"]},
    }
    assert problems(raw) == [
        "service.pipelines.metrics.receivers: empty: a pipeline needs at least one receiver",
        "service.pipelines.metrics.exporters: empty: a pipeline needs at least one exporter",
        "service.pipelines.metrics/loop.processors[1]: processor 'suffix' is listed twice: data would loop "
        "through it (a cycle)",
    ]


def test_other_signals_and_missing_service():
    raw = minimal()
    raw["service"]["pipelines"]["traces"] = {"receivers": ["push"], "exporters": ["record"]}
    assert problems(raw) == [
        "service.pipelines: pipeline 'traces': only metrics pipelines are supported (metrics or metrics/<name>)"
    ]
    assert problems({"receivers": {"push": {}}}) == ["service: missing: a config needs service.pipelines"]


def test_unused_component_is_a_warning_not_an_error():
    config = validate(minimal(exporters={"record": {}, "record/spare": {}}), registry())
    assert config.warnings == ["exporters.record/spare: defined but not used by any pipeline; it will not run"]


def test_invalid_ids():
    raw = minimal(exporters={"record": {}, "record/": {}, "/x": {}})
    found = problems(raw)
    assert "exporters.record/: invalid component id 'record/': the name after '/' is empty" in found
    assert "exporters./x: invalid component id '/x': the type before '/' is empty" in found


def test_files_merge_in_order(tmp_path):
    base = write_config(tmp_path, minimal(exporters={"record": {"mode": "ok"}}), "a.yaml")
    override = write_config(tmp_path, {"exporters": {"record": {"mode": "raise"}}}, "b.yaml")
    config = load([base, override], registry(), {})
    assert config.component(config.components[next(iter(config.components))].kind, "push")
    assert [s.config.mode for s in config.components.values() if str(s.id) == "record"] == ["raise"]


def test_unreadable_and_invalid_yaml_files(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("receivers: [unclosed", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load([tmp_path / "missing.yaml", bad], registry(), {})
    found = [str(p) for p in info.value.problems]
    assert found[0].startswith(f"{tmp_path / 'missing.yaml'}: cannot read config")
    assert found[1].startswith(f"{bad}: invalid YAML")


# --- the CLI, end to end ---------------------------------------------------------------------------------


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "collector", *args], capture_output=True, text=True, timeout=60)


def test_validate_lists_all_three_mistakes_and_exits_2(tmp_path):
    path = write_config(
        tmp_path,
        {
            "receivers": {"nosuch": {}},
            "exporters": {"file": {"path": str(tmp_path / "o.jsonl"), "rotaton": {}}},
            "service": {"pipelines": {"metrics": {"receivers": ["nosuch"], "exporters": ["file", "debug"]}}},
        },
    )
    result = run_cli("validate", "--config", str(path))
    assert result.returncode == 2, result.stderr
    lines = [line.strip() for line in result.stderr.splitlines()]
    assert lines[0] == "invalid configuration (3 problems):"
    assert lines[1].startswith("receivers.nosuch: unknown receiver type 'nosuch'")
    assert lines[2].startswith("exporters.file.rotaton: unknown key 'rotaton' (did you mean 'rotation'?)")
    assert lines[3] == "service.pipelines.metrics.exporters[1]: exporter 'debug' is not defined under exporters:"
    assert "Traceback" not in result.stderr


def test_run_with_bad_config_exits_2_before_starting(tmp_path):
    path = write_config(tmp_path, {"service": {"pipelines": {}}})
    result = run_cli("run", "--config", str(path))
    assert result.returncode == 2
    assert "service.pipelines: no pipelines" in result.stderr
    assert "collector started" not in result.stderr


def test_validate_shipped_config_exits_0():
    from tests.support import REPO

    result = run_cli("validate", "--config", str(REPO / "otel-config.yaml"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("configuration is valid")
