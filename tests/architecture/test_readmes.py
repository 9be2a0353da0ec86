"""Every built-in component follows the one template, and its README's sample config is valid.

The template (docs/architecture.md): `<kind>/<type>/` holds `__init__.py` (re-exports only: the `factory`
and the config class, listed in `__all__`), `factory.py`, `config.py`, the component module
(`receiver.py`, `processor.py`, `exporter.py` or `extension.py`), `README.md` with a sample config and
`testdata/` with at least one YAML sample (`testdata/config.yaml`, when there is one, is a config sample
validated here; `collector-keys.yaml` is the conformance suite's).

A README sample is every ```yaml block that starts with a component section (`receivers:`,
`processors:`, `exporters:`, `extensions:` or `service:`). It goes through what `collector validate`
runs (`collector.config.load`: the file reader, `${env}` expansion, validation against the installed
components). Samples are fragments, so their pipelines are replaced by pipelines over every component
the sample defines, with a stand-in receiver and exporter where the sample has none; the rest of the
sample (its `service.extensions`, `service.telemetry`) is kept as written.
"""

from __future__ import annotations

import ast
import importlib
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from collector.component import Kind
from collector.config import load, load_files
from collector.registry import Registry

REPO = Path(__file__).resolve().parents[2]
KINDS = {
    "receivers": Kind.RECEIVER,
    "processors": Kind.PROCESSOR,
    "exporters": Kind.EXPORTER,
    "extensions": Kind.EXTENSION,
}
COMPONENT_MODULE = {
    "receivers": "receiver.py",
    "processors": "processor.py",
    "exporters": "exporter.py",
    "extensions": "extension.py",
}
FOLDERS = sorted(p.parent for kind in KINDS for p in (REPO / kind).glob("*/__init__.py"))
SAMPLE = re.compile(r"^( *)```ya?ml\n(.*?)^\1```", re.DOTALL | re.MULTILINE)
# a config sample's first line that is not blank or a comment opens a component section
CONFIG_START = re.compile(r"(?:[ \t]*(?:#.*)?\n)*(?:receivers|processors|exporters|extensions|service):")
# the variables README samples use, with values of the shape they expect
ENVIRON = {"OTLP_TOKEN": "t" * 32, "GATEWAY_TOKEN": "g" * 32, "SHARD_INDEX": "0", "HOSTNAME": "collector-0"}
STAND_IN_RECEIVER = {"otlp/readme": {"protocols": {"grpc": None}}}
STAND_IN_EXPORTER: dict[str, dict[str, Any]] = {"debug/readme": {}}
REGISTRY = Registry.discover()


def ident(folder: Path) -> str:
    return f"{folder.parent.name}/{folder.name}"


def samples(readme: Path) -> list[str]:
    """The README's config samples (indented blocks, inside list items, dedented)."""
    blocks = (textwrap.dedent(block) for _, block in SAMPLE.findall(readme.read_text(encoding="utf-8")))
    return [block for block in blocks if CONFIG_START.match(block)]


def with_pipelines(sample: dict[str, Any]) -> dict[str, Any]:
    """`sample` made whole: one pipeline per processor (so they do not chain), receivers and exporters
    all in each, extensions enabled unless the sample lists them itself."""
    receivers = sample.get("receivers") or STAND_IN_RECEIVER
    exporters = sample.get("exporters") or STAND_IN_EXPORTER
    config = {**sample, "receivers": receivers, "exporters": exporters}
    base = {"receivers": list(receivers), "exporters": list(exporters)}
    processors = list(config.get("processors") or {})
    pipelines = {f"metrics/{i}": {**base, "processors": [p]} for i, p in enumerate(processors)} or {"metrics": base}
    service = dict(config.get("service") or {})
    service["pipelines"] = pipelines
    service.setdefault("extensions", list(config.get("extensions") or {}))
    config["service"] = service
    return config


@pytest.mark.parametrize("folder", FOLDERS, ids=ident)
def test_readme_samples_validate(folder, tmp_path):
    found = samples(folder / "README.md")
    assert found, f"{ident(folder)}/README.md has no yaml sample starting with a component section"
    defined = set()
    for i, block in enumerate(found):
        path = tmp_path / f"sample-{i}.yaml"
        path.write_text(block, encoding="utf-8")
        sample = load_files([path])  # the collector's own reader: a sample YAML cannot parse fails here
        defined |= {component_id.split("/")[0] for component_id in sample.get(folder.parent.name) or {}}
        path.write_text(yaml.safe_dump(with_pipelines(sample)), encoding="utf-8")
        load([path], REGISTRY, environ=ENVIRON)  # raises ConfigError with paths if the sample is wrong
    assert folder.name in defined, f"no sample in {ident(folder)}/README.md configures {folder.name}"


@pytest.mark.parametrize("folder", FOLDERS, ids=ident)
def test_folder_follows_the_template(folder):
    kind = folder.parent.name
    for name in ("__init__.py", "factory.py", "config.py", COMPONENT_MODULE[kind], "README.md"):
        assert (folder / name).is_file(), f"{ident(folder)} has no {name}"
    testdata = [p for p in (folder / "testdata").glob("*.yaml") if p.is_file()]
    assert testdata, f"{ident(folder)}/testdata has no YAML sample"
    for path in testdata:
        assert load_files([path]), f"{path.relative_to(REPO)} is empty"


@pytest.mark.parametrize("folder", [f for f in FOLDERS if (f / "testdata" / "config.yaml").is_file()], ids=ident)
def test_testdata_config_validates(folder, tmp_path):
    """`testdata/config.yaml` is a config sample (the other files there have formats of their own tests):
    it validates as a README sample does."""
    whole = tmp_path / "config.yaml"
    whole.write_text(
        yaml.safe_dump(with_pipelines(load_files([folder / "testdata" / "config.yaml"]))), encoding="utf-8"
    )
    load([whole], REGISTRY, environ=ENVIRON)


@pytest.mark.parametrize("folder", FOLDERS, ids=ident)
def test_init_only_re_exports_the_factory_and_config(folder):
    module = ast.parse((folder / "__init__.py").read_text(encoding="utf-8"))
    body = module.body[1:] if ast.get_docstring(module) else module.body
    imports = [node for node in body if isinstance(node, ast.ImportFrom)]
    exported = [node for node in body if isinstance(node, ast.Assign)]
    assert len(imports) + len(exported) == len(body), f"{ident(folder)}/__init__.py holds more than re-exports"
    assert [t.id for node in exported for t in node.targets if isinstance(t, ast.Name)] == ["__all__"]
    names = ast.literal_eval(exported[0].value)
    assert "factory" in names, f"{ident(folder)}/__init__.py does not export factory"
    package = ".".join(folder.relative_to(REPO).parts)
    sources = {alias.asname or alias.name: node.module for node in imports for alias in node.names}
    assert sources["factory"] == f"{package}.factory"
    assert set(names) == set(sources), f"{ident(folder)}: __all__ and the imports differ"
    assert len(names) == 2 and any(sources[n] == f"{package}.config" for n in names), (
        f"{ident(folder)}/__init__.py must export exactly factory and the config class"
    )


@pytest.mark.parametrize("folder", FOLDERS, ids=ident)
def test_registered_factory_is_the_package_one(folder):
    factory = REGISTRY.get(KINDS[folder.parent.name], folder.name)
    assert factory is not None, f"{ident(folder)} is not registered (pyproject entry points)"
    assert factory.type == folder.name
    assert importlib.import_module(".".join(folder.relative_to(REPO).parts)).factory is factory


def test_every_kind_has_components():
    # a kind folder renamed or emptied must not leave these tests with nothing to check
    assert {folder.parent.name for folder in FOLDERS} == set(KINDS)
