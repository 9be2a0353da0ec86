"""`collector validate` prints the CloudWatch custom metrics a config creates per target, when the
config alone determines them, and why not otherwise (the real CLI, in a subprocess)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from exporters.awsemf.cost import custom_metrics, literal_name
from tests.awsexporters.test_emf_cost import (
    COMMON_COUNTERS,
    COMMON_GAUGES,
    PER_TABLE_COUNTERS,
    SCHEMA_HISTORY,
    SNAPSHOT_GAUGES,
    STREAMING_COUNTERS,
    STREAMING_GAUGES,
    compute_cost_documents,
    curated_config,
)
from tests.support import write_config

OTLP = {"otlp": {"protocols": {"grpc": {"endpoint": "127.0.0.1:4317"}}}}


def shipped_processors() -> dict[str, Any]:
    shipped = yaml.safe_load((Path(__file__).resolve().parents[2] / "otel-config.yaml").read_text())
    return {pid: shipped["processors"][pid] for pid in shipped["service"]["pipelines"]["metrics"]["processors"]}


def validate(
    tmp_path: Path, receivers: dict[str, Any], exporters: dict[str, Any], processors=None, python=sys.executable
) -> list[str]:
    """The cost lines of `collector validate` (run by `python`: the example_plugin fixture's knows `static`)."""
    config = {
        "receivers": receivers,
        "processors": processors or {},
        "exporters": {"debug": {}, **exporters},
        "service": {
            "pipelines": {
                "metrics": {
                    "receivers": list(receivers),
                    "processors": list(processors or {}),
                    "exporters": ["debug", *exporters],
                }
            }
        },
    }
    result = subprocess.run(
        [str(python), "-m", "collector", "validate", "--config", str(write_config(tmp_path, config))],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    start = lines.index("cost (CloudWatch custom metrics):")
    return [line.strip() for line in lines[start + 1 :] if line.startswith("  ")]


def static(names: list[str]) -> dict[str, Any]:
    return {"static": {"metrics": [{"name": name} for name in names]}}


def emf(declarations: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"namespace": "Test", "region": "eu-west-1", "metric_declarations": declarations, **extra}


def test_literal_selectors_are_counted_without_receiver_names(tmp_path: Path) -> None:
    declarations = [
        {"dimensions": [["server"]], "metric_name_selectors": [r"^debezium\.streaming\.Connected$", "lag"]},
        {"dimensions": [["server"], ["server", "state"]], "metric_name_selectors": ["^status$"]},
    ]
    lines = validate(tmp_path, OTLP, {"awsemf": emf(declarations)})
    # Connected and lag in one set each, status in two: 4; debug has no hook, so no line.
    assert lines == [
        "awsemf: 4 custom metrics per target (dimension values: one per target assumed for server, state; "
        "each further value of a dimension adds the metrics that use it again)"
    ]


def test_regex_selectors_need_a_receiver_that_lists_its_names(tmp_path: Path) -> None:
    declarations = [{"dimensions": [["server"]], "metric_name_selectors": [r"^debezium\.(a|b)$"]}]
    lines = validate(tmp_path, OTLP, {"awsemf": emf(declarations), "awscloudwatch": {"namespace": "Test"}})
    assert lines == [
        "awscloudwatch: cannot be known without a target: every metric the pipelines deliver becomes custom "
        "metrics, and their receivers do not list their metric names",
        r"awsemf: cannot be known without a target: metric_name_selectors '^debezium\.(a|b)$' is a regular "
        "expression and the receivers of its pipelines do not list their metric names",
    ]


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ({"metric_declarations": []}, "without metric_declarations every metric and label set"),
        ({"dimension_rollup_option": "SingleDimensionRollupOnly"}, "SingleDimensionRollupOnly adds a dimension set"),
    ],
)
def test_configs_that_depend_on_labels_say_why(tmp_path: Path, example_plugin, extra, reason) -> None:
    declarations = [{"dimensions": [["server"]], "metric_name_selectors": ["^a$"]}]
    [line] = validate(tmp_path, static(["a"]), {"awsemf": emf(declarations, **extra)}, python=example_plugin)
    assert line.startswith("awsemf: cannot be known without a target: " + reason)


def test_receiver_names_go_through_processors_and_regexes(tmp_path: Path, example_plugin) -> None:
    names = ["jvm.memory.used", "db.lag", "db.events", "db.other"]
    processors = {"rename": {"rules": [{"include": "db.lag", "new_name": "MilliSecondBehindSource"}]}}
    declarations = [{"dimensions": [["server"]], "metric_name_selectors": ["^MilliSecond", r"^db\.events$"]}]
    exporters = {
        "awsemf": emf(declarations),
        "awscloudwatch": {"namespace": "Test", "dimensions": [{"attribute": "server", "name": "DBServerName"}]},
    }
    lines = validate(tmp_path, static(names), exporters, processors, example_plugin)
    assert lines == [
        "awscloudwatch: 4 custom metrics per target (dimension values: one per target assumed for DBServerName; "
        "each further value of a dimension adds the metrics that use it again)",
        "awsemf: 2 custom metrics per target (dimension values: one per target assumed for server; "
        "each further value of a dimension adds the metrics that use it again)",
    ]


async def test_curated_sample_matches_what_the_exporter_emits(tmp_path: Path, capsys, example_plugin) -> None:
    """The shipped config's processors and declarations over the preset's metric names: validate's count
    equals the custom metrics of one real scrape, counting each metric and dimension set once (one value
    per dimension)."""
    emitted = await compute_cost_documents(capsys)
    per_set = {(name, tuple(d for d, _ in key)) for _, name, key in custom_metrics(emitted)}
    preset = [
        *(f"debezium.{c}.{n}" for c in ("snapshot", "streaming") for n in [*COMMON_COUNTERS, *COMMON_GAUGES]),
        *(f"debezium.{c}.{n}" for c, names in PER_TABLE_COUNTERS.items() for n in names),
        *(f"debezium.snapshot.{n}" for n in SNAPSHOT_GAUGES),
        *(f"debezium.streaming.{n}" for n in [*STREAMING_GAUGES, *STREAMING_COUNTERS]),
        *(f"debezium.schema_history.{n}" for n in [*SCHEMA_HISTORY, "Status"]),
    ]
    config = {k: v for k, v in curated_config().items() if k != "output_destination"}
    [line] = validate(tmp_path, static(sorted(set(preset))), {"awsemf": config}, shipped_processors(), example_plugin)
    assert line.startswith(f"awsemf: {len(per_set)} custom metrics per target "), line
    assert "assumed for DBServerName, server, state;" in line
    readme = (Path(__file__).resolve().parents[2] / "exporters" / "awsemf" / "README.md").read_text()
    assert f"counts once: {len(per_set)} for the\nshipped config" in readme


@pytest.mark.parametrize(
    ("selector", "name"),
    [
        (r"^debezium\.streaming\.Connected$", "debezium.streaming.Connected"),
        ("Connected", "Connected"),
        (r"price\$", "price$"),
        ("^a.b$", None),
        (r"^a\d$", None),
        ("^(a|b)$", None),
        ("^$", None),
    ],
)
def test_literal_selectors(selector: str, name: str | None) -> None:
    assert literal_name(selector) == name


def test_metricstransform_names_follow_update_and_insert() -> None:
    from processors.metricstransform import factory

    config = factory.config_model.model_validate(
        {
            "transforms": [
                {"include": "a", "action": "update", "new_name": "renamed"},
                {"include": "^b(.*)$", "match_type": "regexp", "action": "insert", "new_name": "copy$1"},
            ]
        }
    )
    assert config.map_metric_names(frozenset({"a", "bx", "c"})) == {"renamed", "bx", "copyx", "c"}
