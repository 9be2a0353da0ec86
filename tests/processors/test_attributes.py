"""attributes: the Collector's actions (plus rename) on point attributes, limited by include/exclude."""

from __future__ import annotations

import hashlib

import pytest
from pydantic import ValidationError

from collector import testing
from processors.attributes import AttributesConfig, factory


def run(actions, attributes, **selectors):
    processor = testing.create(factory, {"actions": actions, **selectors})
    (point,) = testing.data_points(
        processor.process(testing.metrics_data(testing.gauge("m", testing.number_point(1, attributes))))
    )
    return point.attributes


def test_rename_moves_server_to_dbservername():
    rename = [{"key": "DBServerName", "from_attribute": "server", "action": "rename"}]
    assert run(rename, {"server": "inv", "x": 1}) == {"DBServerName": "inv", "x": 1}
    assert run(rename, {"x": 1}) == {"x": 1}


def test_insert_update_upsert_with_value_from_attribute_and_default():
    attrs = {"a": "1", "b": "2"}
    assert run([{"key": "a", "value": "new", "action": "insert"}], attrs) == attrs
    assert run([{"key": "c", "value": 3, "action": "insert"}], attrs) == {**attrs, "c": 3}
    assert run([{"key": "c", "value": True, "action": "update"}], attrs) == attrs
    assert run([{"key": "a", "from_attribute": "b", "action": "update"}], attrs) == {"a": "2", "b": "2"}
    assert run([{"key": "a", "value": 2.5, "action": "upsert"}], attrs) == {"a": 2.5, "b": "2"}
    assert run([{"key": "r", "from_attribute": "missing", "action": "upsert"}], attrs) == attrs
    assert run([{"key": "r", "from_attribute": "missing", "default_value": "eu", "action": "insert"}], attrs) == {
        **attrs,
        "r": "eu",
    }


def test_delete_hash_extract_convert():
    attrs = {"user": "bob", "key_1": "x", "key_2": "y", "url": "https://db:3306/inventory", "port": "3306"}
    assert run([{"pattern": "^key_", "action": "delete"}, {"key": "url", "action": "delete"}], attrs) == {
        "user": "bob",
        "port": "3306",
    }
    assert run([{"key": "user", "action": "hash"}], attrs)["user"] == hashlib.sha1(b"bob").hexdigest()
    extracted = run([{"key": "url", "pattern": r"^(?P<scheme>\w+)://(?P<host>[^:/]+)", "action": "extract"}], attrs)
    assert extracted["scheme"] == "https" and extracted["host"] == "db" and extracted["url"] == attrs["url"]
    assert run([{"key": "port", "converted_type": "int", "action": "convert"}], attrs)["port"] == 3306
    assert run([{"key": "user", "converted_type": "int", "action": "convert"}], attrs)["user"] == "bob"
    assert run([{"key": "p", "converted_type": "double", "action": "convert"}], {"p": 3}) == {"p": 3.0}


def test_include_and_exclude_limit_which_metrics_and_points_change():
    processor = testing.create(
        factory,
        {
            "actions": [{"key": "team", "value": "cdc", "action": "insert"}],
            "include": {"match_type": "regexp", "metric_names": ["^debezium"]},
            "exclude": {"attributes": [{"key": "server", "value": "test"}]},
        },
    )
    out = testing.metrics_by_name(
        processor.process(
            testing.metrics_data(
                testing.gauge(
                    "debezium.lag",
                    testing.number_point(1, {"server": "prod"}),
                    testing.number_point(2, {"server": "test"}),
                ),
                testing.gauge("jvm.heap", 3),
                testing.histogram("debezium.latency", testing.histogram_point([1], [], 1.0, {"server": "prod"})),
            )
        )
    )
    assert [p.attributes for p in out["debezium.lag"].data.data_points] == [
        {"server": "prod", "team": "cdc"},
        {"server": "test"},
    ]
    assert out["jvm.heap"].data.data_points[0].attributes == {}
    assert out["debezium.latency"].data.data_points[0].attributes == {"server": "prod", "team": "cdc"}


def test_input_points_are_not_mutated():
    processor = testing.create(factory, {"actions": [{"key": "a", "action": "delete"}]})
    data = testing.metrics_data(testing.gauge("m", testing.number_point(1, {"a": 1})))
    processor.process(data)
    assert testing.data_points(data)[0].attributes == {"a": 1}


@pytest.mark.parametrize(
    ("action", "message"),
    [
        ({"key": "a", "action": "insert"}, "needs key and one of value, from_attribute or default_value"),
        ({"action": "delete"}, "needs key and/or pattern"),
        ({"key": "a", "pattern": "(x)", "action": "extract"}, "named groups"),
        ({"key": "a", "action": "rename"}, "from_attribute"),
        ({"key": "a", "value": 1, "from_attribute": "b", "action": "upsert"}, "not both"),
        ({"key": "a", "from_context": "metadata.x", "action": "upsert"}, "from_context"),
    ],
)
def test_bad_actions_are_refused(action, message):
    with pytest.raises(ValidationError, match=message):
        AttributesConfig.model_validate({"actions": [action]})


def test_points_without_attributes_are_handled():
    processor = testing.create(
        factory,
        {"actions": [{"key": "a", "value": 1, "action": "insert"}], "include": {"attributes": [{"key": "b"}]}},
    )
    data = testing.metrics_data(testing.gauge("m", 1))
    object.__setattr__(testing.data_points(data)[0], "attributes", None)
    assert testing.data_points(processor.process(data))[0].attributes is None  # not selected: no `b`
    everywhere = testing.create(factory, {"actions": [{"key": "a", "value": 1, "action": "insert"}]})
    assert testing.data_points(everywhere.process(data))[0].attributes == {"a": 1}
