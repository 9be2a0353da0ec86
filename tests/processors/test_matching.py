"""The shared selection module: names, attributes, include/exclude, Go-style templates."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from common.matching import (
    MatchProperties,
    MetricsSelector,
    NamePattern,
    Selection,
    check_template,
    compile_regexp,
    expand_template,
)


def test_strict_names_are_equal_names_and_regexps_are_searched_as_in_go():
    assert NamePattern("a.b", "strict").match("a.b") is True
    assert NamePattern("a.b", "strict").match("axb") is False
    assert NamePattern("b", "regexp").match("abc")  # unanchored, as Go's MatchString
    assert not NamePattern("^b", "regexp").match("abc")


def test_go_templates_expand_numbered_and_named_groups_and_dollar_escape():
    match = compile_regexp(r"^debezium\.(?P<ctx>\w+)\.(\w+)$").search("debezium.streaming.Lag")
    assert match
    assert expand_template("$2.${ctx}.$${x}.${2}", match) == "Lag.streaming.${x}.Lag"


def test_templates_referring_to_missing_groups_are_refused():
    with pytest.raises(ValueError, match=r"group \$\{3\}"):
        check_template("$3", compile_regexp("(a)(b)"))
    with pytest.raises(ValueError, match=r"group \$\{name\}"):
        check_template("${name}", compile_regexp("(a)"))


def selection(include=None, exclude=None) -> Selection:
    return Selection.of(
        MatchProperties.model_validate(include) if include else None,
        MatchProperties.model_validate(exclude) if exclude else None,
    )


def test_exclude_wins_over_include_and_absent_include_selects_everything():
    s = selection(include={"match_type": "regexp", "metric_names": ["^jvm\\."]}, exclude={"metric_names": ["jvm.gc"]})
    assert s.for_metric("jvm.heap", {}) is True
    assert s.for_metric("jvm.gc", {}) is False
    assert s.for_metric("kafka.lag", {}) is False
    assert selection(exclude={"metric_names": ["x"]}).for_metric("y", {}) is True


def test_point_attributes_make_a_per_point_decision():
    s = selection(
        include={"metric_names": ["lag"], "attributes": [{"key": "server"}]},
        exclude={"attributes": [{"key": "server", "value": "test"}]},
    )
    keep = s.for_metric("lag", {})
    assert callable(keep)
    assert keep({"server": "prod"}) and not keep({"server": "test"}) and not keep({})
    assert s.for_metric("other", {}) is False


def test_resource_attributes_accept_both_collector_spellings_and_regexp_values():
    for key in ("resource_attributes", "resources"):
        s = selection(include={"match_type": "regexp", key: [{"key": "host", "value": "^prod-"}]})
        assert s.for_metric("m", {"host": "prod-1"}) is True
        assert s.for_metric("m", {"host": "dev-1"}) is False


def test_name_only_selection_for_cumulativetodelta():
    s = Selection.of(
        MetricsSelector(match_type="strict", metrics=["a", "b"]), MetricsSelector(match_type="regexp", metrics=["^b"])
    )
    assert [s.matches_name(n) for n in ("a", "b", "c")] == [True, False, False]


def test_invalid_regexps_are_config_errors():
    with pytest.raises(ValidationError, match="invalid regular expression"):
        MatchProperties.model_validate({"match_type": "regexp", "metric_names": ["("]})
    with pytest.raises(ValidationError, match="invalid regular expression"):
        MetricsSelector.model_validate({"match_type": "regexp", "metrics": ["[a"]})
    # the same text is a fine strict name
    MatchProperties.model_validate({"metric_names": ["("]})
