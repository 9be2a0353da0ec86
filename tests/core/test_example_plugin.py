"""The example third-party plugin is discovered through its entry point and runs in a real pipeline."""

import sys

from tests.support import (
    EXAMPLE_PLUGIN,
    collector_components,
    pipeline_config,
    read_points,
    run_collector,
    run_plugin_tests,
    wait_for,
    write_config,
)


def test_components_lists_the_plugin_with_its_distribution(example_plugin):
    rows = collector_components(example_plugin)
    assert ["static", "receiver", "alpha", "collector-static-receiver"] in rows
    assert ["file", "exporter", "beta", "jmx-otel-collector"] in rows


def test_the_plugin_stays_out_of_the_projects_own_environment(example_plugin):
    """The suite installs the plugin in a throwaway virtualenv: the user's `collector components` lists only
    what they installed. (An older suite pip-installed it here: `pip uninstall collector-static-receiver`.)"""
    rows = collector_components(sys.executable)
    assert ["file", "exporter", "beta", "jmx-otel-collector"] in rows
    assert not [row for row in rows if row[:1] == ["static"]]


def test_the_plugin_passes_its_own_tests_in_its_environment(example_plugin):
    """examples/ tests itself with collector.testing, as a third-party plugin would."""
    assert "3 passed" in run_plugin_tests(example_plugin, EXAMPLE_PLUGIN)


def test_pipeline_runs_the_plugin_receiver_into_the_file_exporter(example_plugin, tmp_path):
    out = tmp_path / "out.jsonl"
    events = {"name": "demo.events", "type": "sum", "increment": 3, "unit": "{event}"}
    receivers = {"static/demo": {"collection_interval": "200ms", "initial_delay": "0s", "metrics": [events]}}
    config = write_config(tmp_path, pipeline_config(receivers, {"file": {"path": str(out)}}))
    with run_collector(config, python=example_plugin) as collector:
        wait_for(lambda: len(read_points(out)) >= 3, 20, "three scrapes written by the file exporter")
        assert collector.stop() == 0
    points = read_points(out)
    values = [p.value for p in points]
    assert values[:3] == [0, 3, 6]
    assert {p.unit for p in points} == {"{event}"}
    assert all(p.monotonic and p.temporality == 2 for p in points)
    assert len({p.start_time for p in points}) == 1
