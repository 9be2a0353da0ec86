"""Processor config mistakes come out of `collector.config` with their full paths."""

from __future__ import annotations

import pytest

from collector.config import ConfigError, load
from collector.registry import Registry
from tests.support import write_config


def problems(tmp_path, processors: dict) -> dict[str, str]:
    config = write_config(
        tmp_path,
        {
            "receivers": {},
            "processors": processors,
            "exporters": {"debug": {}},
            "service": {"pipelines": {"metrics": {"receivers": [], "exporters": ["debug"]}}},
        },
    )
    with pytest.raises(ConfigError) as caught:
        load([config], Registry.discover(), environ={})
    return {p.path: p.message for p in caught.value.problems}


def test_paths_point_at_the_offending_key(tmp_path):
    found = problems(
        tmp_path,
        {
            "rename/x": {
                "rules": [
                    {"include": "a", "new_name": "b"},
                    {"include": "^(a)$", "match_type": "regexp", "new_name": "$2"},
                ]
            },
            "rescale/y": {"rules": [{"include": "lag", "from_unit": "ms", "to_unit": "By"}]},
            "attributes/z": {"actions": [{"key": "a", "action": "upsert", "valeu": 1}]},
            "cumulativetodelta": {"include": {"match_type": "regexp", "metrics": ["("]}},
            "batch": {"timeout": "soon"},
        },
    )
    assert "refers to group ${2}" in found["processors.rename/x.rules[1].new_name"]
    assert "cannot convert 'ms' (time) to 'By' (size)" in found["processors.rescale/y.rules[0].to_unit"]
    assert "unknown key 'valeu' (did you mean 'value'?)" in found["processors.attributes/z.actions[0].valeu"]
    assert "invalid regular expression" in found["processors.cumulativetodelta.include.metrics"]
    assert "invalid duration" in found["processors.batch.timeout"]


def test_metricstransform_paths(tmp_path):
    found = problems(
        tmp_path,
        {
            "metricstransform": {
                "transforms": [
                    {"include": "a", "action": "update", "operations": [{"action": "toggle_scalar_data_type"}]}
                ]
            }
        },
    )
    (path,) = [p for p in found if p.startswith("processors.metricstransform.transforms[0].operations[0]")]
    assert path == "processors.metricstransform.transforms[0].operations[0].action"
