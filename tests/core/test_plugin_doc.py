"""docs/plugins.md is enough to write a plugin: the files its code blocks name (`# file: PATH`), copied as
they are, make a package that installs into a virtualenv, is discovered, runs in a real collector and
passes the tests the page shows; and what the page says about config values is what the collector does."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from collector.component import Kind
from collector.config import ConfigError, validate
from collector.registry import Registry
from exporters.file import FileConfig
from tests.support import (
    REPO,
    collector_components,
    pipeline_config,
    plugin_environment,
    read_points,
    run_collector,
    run_plugin_tests,
    wait_for,
    write_config,
)

DOC = (REPO / "docs" / "plugins.md").read_text(encoding="utf-8")
FILE_BLOCK = re.compile(r"```(?:python|toml)\n# file: (\S+)\n(.*?)```", re.DOTALL)


@pytest.fixture(scope="module")
def doc_plugin(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the package written from the page, the python of a virtualenv it is installed in)."""
    package = tmp_path_factory.mktemp("collector-loadavg")
    files = FILE_BLOCK.findall(DOC)
    assert {name for name, _ in files} >= {"pyproject.toml", "collector_loadavg/__init__.py", "tests/test_loadavg.py"}
    for name, text in files:
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text(f"# file: {name}\n{text}", encoding="utf-8")
    return package, plugin_environment(tmp_path_factory.mktemp("loadavg-venv"), package)


def test_the_doc_plugin_is_listed_by_collector_components(doc_plugin: tuple[Path, Path]) -> None:
    _, python = doc_plugin
    assert ["loadavg", "receiver", "alpha", "collector-loadavg"] in collector_components(python)


def test_the_doc_plugin_passes_the_tests_the_doc_shows(doc_plugin: tuple[Path, Path]) -> None:
    package, python = doc_plugin
    assert "3 passed" in run_plugin_tests(python, package)


def test_the_doc_plugin_runs_its_sample_config_in_a_real_collector(doc_plugin: tuple[Path, Path], tmp_path) -> None:
    _, python = doc_plugin
    [sample] = re.findall(r"```yaml\n(receivers:\n  loadavg:.*?)```", DOC, re.DOTALL)
    receivers = yaml.safe_load(sample)["receivers"]
    receivers["loadavg"]["collection_interval"] = "200ms"
    out = tmp_path / "out.jsonl"
    config = pipeline_config(receivers, {"file": {"path": str(out)}})
    with run_collector(write_config(tmp_path, config), python=python) as collector:
        wait_for(lambda: len(read_points(out)) >= 4, 20, "two scrapes written by the file exporter")
        assert collector.stop() == 0
    points = read_points(out)
    assert {p.name for p in points} == {"system.cpu.load_average"}
    assert {p.attributes["window"] for p in points} == {"1m", "15m"}


def test_the_config_error_the_doc_quotes_is_what_validate_says(doc_plugin: tuple[Path, Path], tmp_path) -> None:
    _, python = doc_plugin
    [quoted] = re.findall(r"`(receivers\.loadavg/a\.windows\[0\]: [^`]*)`", DOC)
    config = pipeline_config({"loadavg/a": {"windows": ["2m"]}}, {"debug": {}})
    result = subprocess.run(
        [str(python), "-m", "collector", "validate", "--config", str(write_config(tmp_path, config))],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert quoted in result.stdout + result.stderr


def pipeline_with(exporter: dict) -> dict:
    return pipeline_config({"otlp": {"protocols": {"grpc": {}}}}, {"file": exporter})


def test_a_number_is_not_taken_for_a_string_as_the_doc_says() -> None:
    assert "`path: 3` is an error" in DOC
    with pytest.raises(ConfigError, match=r"exporters\.file\.path: input should be a valid string"):
        validate(pipeline_with({"path": 3}), Registry.discover())
    validate(pipeline_with({"path": "3"}), Registry.discover())


def test_a_string_is_converted_where_nothing_is_lost_as_the_doc_says() -> None:
    """`${env:VAR}` expands to a string: an int or duration field still takes it."""
    assert '(`"8080"` to an int field' in DOC
    config = pipeline_with({"path": "out.jsonl", "rotation": {"max_megabytes": "8"}})
    validated = validate(config, Registry.discover())
    file_config = validated.component(Kind.EXPORTER, "file").config
    assert isinstance(file_config, FileConfig) and file_config.rotation is not None
    assert file_config.rotation.max_megabytes == 8
