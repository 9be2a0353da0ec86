"""Every processor README's sample config is valid: the docs cannot drift from the code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from collector.config import expand_env, validate
from collector.registry import Registry

PROCESSORS = Path(__file__).resolve().parents[2] / "processors"
READMES = sorted(PROCESSORS.glob("*/README.md"))


@pytest.mark.parametrize("readme", READMES, ids=lambda p: p.parent.name)
def test_sample_config_validates(readme):
    blocks = re.findall(r"```yaml\n(.*?)```", readme.read_text(encoding="utf-8"), re.DOTALL)
    assert blocks, f"{readme} has no yaml sample"
    for block in blocks:
        processors = expand_env(yaml.safe_load(block), environ={})["processors"]
        config = {
            "receivers": {"otlp": {"protocols": {"grpc": {}}}},
            "processors": processors,
            "exporters": {"debug": {}},
            "service": {
                "pipelines": {
                    "metrics": {"receivers": ["otlp"], "processors": list(processors), "exporters": ["debug"]}
                }
            },
        }
        validate(config, Registry.discover())  # raises ConfigError with paths if the sample is wrong


def test_every_processor_folder_has_a_readme():
    folders = {p.name for p in PROCESSORS.iterdir() if (p / "__init__.py").exists()}
    assert folders == {p.parent.name for p in READMES}
