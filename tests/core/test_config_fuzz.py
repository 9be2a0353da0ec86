"""Config fuzzing: any YAML shape ends in a valid config or a ConfigError naming paths, never a traceback."""

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collector.component import Kind
from collector.config import TOP_LEVEL_KEYS, ConfigError, expand_env, load_files, validate
from collector.registry import Registry

REGISTRY = Registry.discover()
KEY_WORDS = [
    "endpoint",
    "path",
    "verbosity",
    "timeout",
    "rules",
    "metrics",
    "name",
    "value",
    "collection_interval",
    "retry_on_failure",
    "sending_queue",
    "enabled",
    "queue_size",
    "rotation",
    "max_megabytes",
    "include",
    "match_type",
    "new_name",
    "factor",
    "actions",
    "key",
    "action",
    "namespace",
    "region",
    "x" * 300,
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(
        [
            "10s",
            "0",
            "-1s",
            "${env:HOME}",
            "${env:NOPE:-5s}",
            "$$",
            "${env:UNSET}",
            "localhost:0",
            "é\u202e\x00",
            "strict",
            "regexp",
            "(",
            "gauge",
        ]
    ),
)
keys = st.one_of(st.sampled_from(KEY_WORDS), st.text(max_size=12))
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)),
    max_leaves=12,
)


@st.composite
def component_ids(draw, kind: Kind):
    known = REGISTRY.types(kind) or ["none"]
    type_ = draw(st.one_of(st.sampled_from(known), st.text(max_size=8)))
    name = draw(st.one_of(st.just(""), st.text(max_size=6)))
    return f"{type_}/{name}" if name or draw(st.booleans()) else type_


@st.composite
def configs(draw):
    raw = {}
    for kind in Kind:
        if draw(st.booleans()):
            raw[kind.section] = draw(st.one_of(st.dictionaries(component_ids(kind), values, max_size=3), values))
    pipelines = draw(
        st.dictionaries(
            st.sampled_from(["metrics", "metrics/a", "traces", "metrics/"]),
            st.one_of(
                values,
                st.fixed_dictionaries(
                    {},
                    optional={
                        section: st.lists(st.one_of(component_ids(kind), scalars), max_size=3)
                        for section, kind in (
                            ("receivers", Kind.RECEIVER),
                            ("processors", Kind.PROCESSOR),
                            ("exporters", Kind.EXPORTER),
                        )
                    },
                ),
            ),
            max_size=2,
        )
    )
    raw["service"] = draw(st.one_of(st.just({"pipelines": pipelines}), values))
    if draw(st.booleans()):
        raw[draw(st.sampled_from([*TOP_LEVEL_KEYS, "connectors", "recievers"]))] = draw(values)
    return raw


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configs())
def test_any_config_is_valid_or_a_config_error_with_paths(raw):
    try:
        validate(expand_env(raw, {"HOME": "/root"}), REGISTRY)
    except ConfigError as error:
        assert error.problems
        for problem in error.problems:
            assert problem.message, problem
            assert isinstance(problem.path, str)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_yaml_text_is_a_mapping_or_a_config_error(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("fuzz") / "c.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        loaded = load_files([path])
    except ConfigError as error:
        assert str(path) in str(error)
        return
    assert isinstance(loaded, dict)


def test_huge_and_non_finite_values_are_refused_with_a_path():
    raw = {
        "exporters": {"file": {"path": "/tmp/x", "rotation": {"max_megabytes": math.inf}}},
        "receivers": {},
        "service": {"pipelines": {"metrics": {"receivers": [], "exporters": ["file"]}}},
    }
    try:
        validate(raw, REGISTRY)
    except ConfigError as error:
        assert any(str(p).startswith("exporters.file.rotation.max_megabytes:") for p in error.problems)
    else:
        raise AssertionError("inf accepted as a size")
