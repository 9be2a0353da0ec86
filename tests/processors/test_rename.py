"""rename: first matching rule wins, capture groups, conflicts refused (dropped, counted, logged once)."""

from __future__ import annotations

import logging

from hypothesis import given
from hypothesis import strategies as st

from collector.metrics import count_points, iter_metrics
from collector.testing import create, data_points, gauge, metrics_by_name, metrics_data, number_point, sum_metric
from processors.rename import factory

RULES = {
    "rules": [
        {"include": "debezium.streaming.MilliSecondsBehindSource", "new_name": "MilliSecondBehindSource"},
        {"include": r"^debezium\.(\w+)\.(?P<attr>\w+)$", "match_type": "regexp", "new_name": "dbz.$1.${attr}"},
        {"include": r"^debezium\.", "match_type": "regexp", "new_name": "never-reached"},
    ]
}


def test_first_matching_rule_wins_and_groups_expand():
    processor = create(factory, RULES)
    out = processor.process(
        metrics_data(
            gauge("debezium.streaming.MilliSecondsBehindSource", 5),
            gauge("debezium.snapshot.RowsScanned", 7),
            gauge("jvm.heap", 1),
        )
    )
    assert list(metrics_by_name(out)) == ["MilliSecondBehindSource", "dbz.snapshot.RowsScanned", "jvm.heap"]
    assert [p.value for p in data_points(out)] == [5, 7, 1]


def test_rename_onto_a_metric_of_another_type_is_dropped_counted_and_logged_once(caplog):
    processor = create(factory, {"rules": [{"include": "lag_ms", "new_name": "lag"}]})
    data = metrics_data(gauge("lag", 1, unit="s"), sum_metric("lag_ms", 2, 3, unit="s"))
    with caplog.at_level(logging.ERROR):
        first = processor.process(data)
        second = processor.process(data)
    assert list(metrics_by_name(first)) == ["lag"] and data_points(first)[0].value == 1
    assert count_points(second) == 1
    dropped = processor.settings.telemetry.value(
        "collector_dropped_metric_points", component="rename", reason="rename_conflict"
    )
    assert dropped == 4
    errors = [r.getMessage() for r in caplog.records if "cannot rename" in r.getMessage()]
    assert len(errors) == 1
    assert "'lag_ms'" in errors[0] and "'lag'" in errors[0] and "gauge" in errors[0] and "sum" in errors[0]


def test_conflict_is_remembered_across_batches_and_units_count():
    processor = create(factory, {"rules": [{"include": "lag_ms", "new_name": "lag"}]})
    processor.process(metrics_data(gauge("lag", 1, unit="s")))
    out = processor.process(metrics_data(gauge("lag_ms", 1500, unit="ms")))
    assert out.resource_metrics == []
    assert (
        processor.settings.telemetry.value(
            "collector_dropped_metric_points", component="rename", reason="rename_conflict"
        )
        == 1
    )


def test_rename_onto_a_metric_of_the_same_type_and_unit_is_allowed():
    processor = create(factory, {"rules": [{"include": "b", "new_name": "a"}]})
    out = processor.process(
        metrics_data(gauge("a", number_point(1, {"k": "1"})), gauge("b", number_point(2, {"k": "2"})))
    )
    assert [m.name for m in iter_metrics(out)] == ["a", "a"]
    assert count_points(out) == 2


names = st.text(alphabet="abc._", min_size=1, max_size=8)
values = st.one_of(st.integers(-(10**12), 10**12), st.floats(allow_nan=False))


@given(metrics=st.lists(st.tuples(names, st.lists(values, min_size=1, max_size=4)), max_size=8))
def test_rename_never_changes_values_or_point_counts(metrics):
    processor = create(factory, {"rules": [{"include": "^(a+)(.*)$", "match_type": "regexp", "new_name": "x$2$1"}]})
    data = metrics_data(
        *[gauge(name, *[number_point(v, {"i": i}) for i, v in enumerate(vals)]) for name, vals in metrics]
    )
    out = processor.process(data)
    assert count_points(out) == count_points(data)
    assert [(p.value, p.attributes) for p in data_points(out)] == [(p.value, p.attributes) for p in data_points(data)]
