"""Rule config validation and the reply -> metrics mapping (pure logic; the JVM-backed tests are beside)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from receivers.jmx.config import JmxConfig, load_preset, preset_names
from receivers.jmx.rules import MetricBuilder, ReplyError, build_query, compile_rules, parse_reply
from tests.support import write_config

PRESETS = ("debezium-mysql", "debezium-postgres")
SAMPLE = Path(__file__).resolve().parents[2] / "receivers" / "jmx" / "testdata" / "config.yaml"


def config(**overrides) -> JmxConfig:
    return JmxConfig.model_validate({"endpoint": "127.0.0.1:17099", **overrides})


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({}, "give `target_system`"),
        ({"target_system": "debezium-oracle"}, "unknown target system"),
        ({"target_system": "tomcat"}, "not bundled with this collector: give its rules with `jmx_configs`"),
        ({"target_system": "kafka", "target_source": "instrumentation"}, "only legacy definitions"),
        ({"target_system": "kafka-connect", "target_source": "legacy"}, "no legacy definitions"),
        ({"target_system": "jvm", "target_source": "newest"}, "auto"),
        ({"jmx_configs": "/nonexistent/rules.yaml"}, "jmx_configs: /nonexistent/rules.yaml: cannot read"),
        ({"target_system": "jvm", "log_level": "verbose"}, "log_level must be one of"),
        ({"target_system": "jvm", "password": "x", "password_file": "/etc/hostname"}, "not both"),
        ({"target_system": "jvm", "password_file": "/nonexistent/pw"}, "password_file: cannot read"),
        ({"rules": [{"bean": "a:b=c", "mapping": {"*": {"metric": "x"}}}]}, "takes no `metric`"),
        ({"target_system": "jvm", "jar_path": "/opt/opentelemetry-jmx-scraper.jar"}, "jar_path: no jmx-metrics"),
        ({"target_system": "jvm", "otlp": {"endpoint": "h:4317"}}, "otlp: metrics enter the pipeline directly"),
        ({"target_system": "jvm", "additional_jars": ["/opt/jboss-client.jar"]}, "additional_jars: no jmx"),
        ({"target_system": "jvm", "groovy_script": "/opt/script.groovy"}, "groovy_script: Groovy scripts are not run"),
        ({"target_system": "jvm", "remote_profile": "SASL/PLAIN", "realm": "r"}, "SASL profiles are not supported"),
        ({"endpoint": "localhost", "target_system": "jvm"}, "host:port"),
        ({"rules": [{"mapping": {"A": None}}]}, "exactly one of `bean`"),
        ({"rules": [{"bean": "a:b=c", "beans": ["a:b=c"], "mapping": {"A": None}}]}, "exactly one of `bean`"),
        ({"rules": [{"bean": "nodomain", "mapping": {"A": None}}]}, "ObjectName pattern"),
        ({"rules": [{"bean": "a:b=c", "metricAttribute": {"x": "nope(y)"}, "mapping": {"A": None}}]}, "is not param"),
        ({"rules": [{"bean": "a:b=c", "mapping": {"A": {"type": "histogram"}}}]}, "gauge"),
        ({"rules": [{"bean": "a:b=c", "mapping": {"A": {"sourceUnit": "h", "unit": "s"}}}]}, "no conversion"),
        (
            {"rules": [{"bean": "a:b=c", "mapping": {"A": {"type": "state", "metricAttribute": {"s": {"on": "X"}}}}}]},
            "exactly one '\\*'",
        ),
        ({"target_system": "jvm", "auth_token": "t" * 43}, "for a py4j:// endpoint"),
        ({"target_system": "jvm", "tls": {"ca_file": "ca.pem"}}, "for a py4j:// endpoint"),
        ({"endpoint": "py4j://host", "target_system": "jvm"}, "py4j://host:port"),
        ({"endpoint": "py4j://h:1", "target_system": "jvm", "username": "u"}, "unused with a py4j:// endpoint"),
        (
            {"endpoint": "py4j://h:1", "target_system": "jvm", "tls": {"insecure": True, "insecure_skip_verify": True}},
            "exclude each other",
        ),
    ],
)
def test_bad_configs_are_refused_with_a_reason(overrides: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        config(**overrides)


def test_a_config_error_names_its_path_and_exits_2(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        {
            "receivers": {"jmx": {"endpoint": "h:1", "rules": [{"bean": "a:b=c", "mapping": {"A": {"type": "x"}}}]}},
            "exporters": {"debug": {}},
            "service": {"pipelines": {"metrics": {"receivers": ["jmx"], "exporters": ["debug"]}}},
        },
    )
    result = subprocess.run(
        [sys.executable, "-m", "collector", "validate", "--config", str(path)], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "receivers.jmx.rules[0].mapping.A.type" in result.stdout + result.stderr


def test_the_collectors_jmxreceiver_keys_validate() -> None:
    """A config with every key of the Collector's jmxreceiver we accept (testdata, from its README)."""
    testdata = SAMPLE.parent
    raw = yaml.safe_load((testdata / "jmxreceiver-keys.yaml").read_text())
    parsed = JmxConfig.model_validate({**raw, "jmx_configs": str(testdata / raw["jmx_configs"])})
    assert parsed.target_source == "legacy" and parsed.target_identity() == {
        "server.address": "kafka-broker",
        "server.port": 9999,
    }
    names = parsed.known_metric_names()
    assert {"jvm.memory.heap.used", "kafka.message.count", "kafka.broker.state"} <= names
    assert "jvm.memory.used" not in names


def test_password_never_appears_in_the_config_repr() -> None:
    parsed = config(target_system="jvm", username="u", password="hunter2")
    assert "hunter2" not in repr(parsed) and "hunter2" not in str(parsed.model_dump())


def test_every_preset_loads_with_descriptions_and_type_is_case_insensitive() -> None:
    assert set(preset_names()) >= {"debezium", "debezium-mysql", "debezium-postgres", "kafka-connect", "jvm", "kafka"}
    both = {"jvm"}  # the only one with legacy and instrumentation definitions, as upstream
    for name in preset_names():
        for source in ("auto", "legacy") if name in both else ("auto",):
            rules = compile_rules(load_preset(name, source))
            assert rules and all(m.desc for rule in rules for m in rule.mappings), (name, source)
    assert load_preset("jvm", "legacy") != load_preset("jvm", "auto") == load_preset("jvm", "instrumentation")
    assert config(target_system="JVM, Kafka").preset_list == ["jvm", "kafka"]  # case-insensitive, as upstream
    rule = config(rules=[{"bean": "a:b=c", "type": "COUNTER", "mapping": {"A": None}}]).rules[0]
    assert rule.type == "counter"


def test_a_py4j_endpoint_names_the_in_jvm_gateway() -> None:
    cfg = config(endpoint="py4j://[::1]:25333", target_system="jvm", auth_token="s3cret-token")
    assert cfg.in_jvm and cfg.py4j_address == ("::1", 25333)
    assert cfg.tls.insecure is False and cfg.tls.insecure_skip_verify is False  # TLS, verified, by default
    assert "s3cret-token" not in repr(cfg)
    assert not config(target_system="jvm").in_jvm


def test_endpoint_becomes_a_service_url() -> None:
    assert config(target_system="jvm").service_url == "service:jmx:rmi:///jndi/rmi://127.0.0.1:17099/jmxrmi"
    url = "service:jmx:rmi:///jndi/rmi://h:1/jmxrmi"
    assert config(target_system="jvm", endpoint=url).service_url == url


def test_the_debezium_query_reads_every_context_once() -> None:
    query = build_query(compile_rules(config(target_system="debezium-mysql").all_rules()))
    lines = [line.split("\t") for line in query.splitlines()]
    patterns = [line[1] for line in lines]
    assert "debezium.mysql:type=connector-metrics,context=streaming,server=*" in patterns
    assert "debezium.mysql:type=connector-metrics,context=streaming,server=*,*" in patterns
    schema = next(line for line in lines if "schema-history" in line[1])
    assert "$Status" in schema  # the one string Debezium's preset needs
    requested = {part.lstrip("$") for line in lines for part in line[2:]}
    assert not requested & {"LastAppliedChange", "LastEvent", "CapturedTables.length"}  # never ship big strings
    assert "CapturedTables" in requested  # read for its length only
    mappings = sum(len(rule.mapping) for rule in load_preset("debezium-mysql"))
    assert sum(len(line) - 2 for line in lines) == 2 * mappings  # each attribute once per pattern


def build(rules: list[dict], reply: str, now: int = 1000, builder: MetricBuilder | None = None):
    compiled = compile_rules(config(rules=rules).rules)
    builder = builder or MetricBuilder(compiled)
    metrics, dropped = builder.build(parse_reply(reply), now)
    return {m.name: m for m in metrics}, dropped, builder


def test_counters_keep_their_start_time_until_the_value_goes_down() -> None:
    rules = [{"bean": "a:type=X,*", "type": "counter", "mapping": {"N": None}}]
    reply = "UP\nB\t0\ta:type=X\ttype=X\nN\tN\t{}\n"
    first, _, builder = build(rules, reply.format(5), now=1000)
    second, _, _ = build(rules, reply.format(9), now=2000, builder=builder)
    reset, _, _ = build(rules, reply.format(1), now=3000, builder=builder)
    starts = [m["N"].data.data_points[0].start_time_unix_nano for m in (first, second, reset)]
    assert starts == [1000, 1000, 3000]
    assert second["N"].data.is_monotonic and second["N"].data.data_points[0].value == 9


def test_wildcard_params_units_sentinels_and_escapes() -> None:
    rules = [
        {
            "beans": ["d:type=m,context=s,server=*", "d:type=m,context=s,server=*,*"],
            "prefix": "p.",
            "wildcardParams": True,
            "metricAttribute": {"plugin": "const(mysql)"},
            "mapping": {
                "Lag": {"unit": "s", "sourceUnit": "ms", "missingValue": -1},
                "Other": {"missingValue": -1},
                "Tab\\.le": {"keyAttribute": "table"},
            },
        }
    ]
    reply = (
        "UP\nB\t0\td:context=s,server=db1,task=0,type=m\tcontext=s\tserver=db1\ttask=0\ttype=m\n"
        "N\tLag\t1500\nN\tOther\t-1\nT\tTab.le\tsales.t\\tab\t4\n"
    )
    metrics, dropped, _ = build(rules, reply)
    lag = metrics["p.Lag"].data.data_points[0]
    assert lag.value == pytest.approx(1.5) and metrics["p.Lag"].unit == "s"
    assert dict(lag.attributes) == {"server": "db1", "task": "0", "plugin": "mysql"}
    assert "p.Other" not in metrics and not dropped
    table = metrics["p.Tab.le"].data.data_points[0]
    assert dict(table.attributes)["table"] == "sales.t\tab" and table.value == 4


def test_every_other_attribute_mapping_and_the_domain_expression() -> None:
    """`'*'`: every numeric value no mapping names is a gauge under its own name (tables per `key`); values
    it cannot read are not counted as dropped (no rule asked for them). `domain(prefix)` names the plugin."""
    rules = [
        {
            "bean": "debezium.*:type=m,*",
            "prefix": "p.",
            "wildcardParams": True,
            "metricAttribute": {"plugin": "domain(debezium.)", "whole": "domain()"},
            "mapping": {"Known": {"type": "counter"}, "*": {}},
        }
    ]
    query = build_query(compile_rules(config(rules=rules).rules))
    assert query.split("\t")[2:] == ["Known", "*"]  # the gateway reads the MBean's own attribute list
    reply = (
        "UP\nB\t0\tdebezium.sql_server:database=inv,task=0,type=m\tdatabase=inv\ttask=0\ttype=m\n"
        "N\tKnown\t5\nN\tExtra.item\t2.5\nT\tPerTable\tdbo.t\t3\nX\tLastEvent\tstring\n"
    )
    metrics, dropped, _ = build(rules, reply)
    assert set(metrics) == {"p.Known", "p.Extra.item", "p.PerTable"} and not dropped
    assert metrics["p.Known"].data.is_monotonic
    extra = metrics["p.Extra.item"]
    assert type(extra.data).__name__ == "Gauge" and extra.data.data_points[0].value == 2.5
    assert dict(extra.data.data_points[0].attributes) == {
        "plugin": "sql_server",
        "whole": "debezium.sql_server",
        "database": "inv",
        "task": "0",
    }
    assert dict(metrics["p.PerTable"].data.data_points[0].attributes)["key"] == "dbo.t"


def test_skipped_values_are_counted_only_when_a_rule_asked_for_them() -> None:
    rules = [{"bean": "a:type=X", "mapping": {"Nan": None, "Arr": None}}]
    reply = "UP\nB\t0\ta:type=X\ttype=X\nX\tNan\tnan\nX\tArr\tarray\nN\tArr.length\t3\nX\tUnasked\tstring\n"
    metrics, dropped, _ = build(rules, reply)
    assert metrics == {} and dropped == {"nan": 1, "array": 1}


def test_target_down_and_bad_query_replies() -> None:
    down = parse_reply("DOWN\tConnectException: Connection refused\n")
    assert not down.up and down.detail == "ConnectException: Connection refused"
    with pytest.raises(ReplyError):
        parse_reply("ERROR\tMalformedObjectNameException: bad\n")


def test_sample_config_is_valid_as_shipped() -> None:
    raw = yaml.safe_load(SAMPLE.read_text())
    receiver = raw["receivers"]["jmx/debezium"]
    assert receiver["endpoint"] == "${env:JMX_ENDPOINT:-localhost:7098}"
    result = subprocess.run(
        [sys.executable, "-m", "collector", "validate", "--config", str(SAMPLE)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_series_the_target_no_longer_has_are_forgotten_but_kept_while_it_is_down() -> None:
    rules = [{"bean": "a:type=X,*", "type": "counter", "keyAttribute": "table", "mapping": {"M": None}}]
    both = "UP\nB\t0\ta:type=X\ttype=X\nT\tM\tt1\t5\nT\tM\tt2\t6\n"
    _, _, builder = build(rules, both, now=1000)
    build(rules, "DOWN\tgone\n", now=2000, builder=builder)
    assert len(builder._starts) == 2
    after, _, _ = build(rules, both, now=3000, builder=builder)
    assert {p.start_time_unix_nano for p in after["M"].data.data_points} == {1000}
    build(rules, "UP\nB\t0\ta:type=X\ttype=X\nT\tM\tt1\t7\n", now=4000, builder=builder)
    assert len(builder._starts) == 1


def test_an_mbeans_plan_is_kept_while_it_holds_and_redone_when_what_it_read_changes() -> None:
    """Each MBean's attributes and series keys are worked out once and reused; a `beanattr` value that
    changes, or a `'*'` attribute that appears, makes a new plan; an MBean that is gone takes its plan along."""
    rules = [
        {
            "bean": "a:type=X,*",
            "type": "counter",
            "metricAttribute": {"mode": "beanattr(Mode)", "name": "param(name)"},
            "mapping": {"N": None, "*": {"type": "gauge"}},
        }
    ]
    bean = "UP\nB\t0\ta:name={0},type=X\tname={0}\ttype=X\nS\tMode\t{1}\nN\tN\t{2}\n{3}"
    first, _, builder = build(rules, bean.format("one", "ro", 5, ""), now=1000)
    again, _, _ = build(rules, bean.format("one", "ro", 7, ""), now=2000, builder=builder)
    (point,) = again["N"].data.data_points
    assert (dict(point.attributes), point.value, point.start_time_unix_nano) == ({"mode": "ro", "name": "one"}, 7, 1000)
    assert point.attributes is first["N"].data.data_points[0].attributes, "the plan's attributes, reused"
    changed, _, _ = build(rules, bean.format("one", "rw", 8, "N\tExtra\t2\n"), now=3000, builder=builder)
    (point,) = changed["N"].data.data_points
    assert (
        dict(point.attributes) == {"mode": "rw", "name": "one"} and point.start_time_unix_nano == 3000
    )  # a new series
    assert dict(changed["Extra"].data.data_points[0].attributes) == {"mode": "rw", "name": "one"}
    two = bean.format("one", "rw", 9, "") + bean.format("two", "rw", 1, "").removeprefix("UP\n")
    both, _, _ = build(rules, two, now=4000, builder=builder)
    assert [dict(p.attributes)["name"] for p in both["N"].data.data_points] == ["one", "two"]
    assert "Extra" not in both and len(builder._plans) == 2
    build(rules, bean.format("two", "rw", 2, ""), now=5000, builder=builder)
    assert len(builder._plans) == 1


def test_validate_counts_the_shipped_configs_custom_metrics_from_the_real_preset() -> None:
    """`collector validate` on the shipped config: the jmx receiver lists its preset's metric names, so the
    awsemf declarations' custom metrics per target are known: each selected name times its dimension sets."""
    import re
    import subprocess
    import sys

    import yaml

    from receivers.jmx.config import JmxConfig

    shipped = yaml.safe_load((SAMPLE.parents[3] / "otel-config.yaml").read_text())
    receiver = shipped["receivers"]["jmx/debezium"]
    assert receiver["target_system"] == "${env:DEBEZIUM_CONNECTOR:-debezium}"
    names = set(JmxConfig(endpoint="localhost:7098", target_system="debezium").known_metric_names())
    exact = {name: JmxConfig(endpoint="h:1", target_system=name).known_metric_names() for name in PRESETS}
    assert names == exact["debezium-mysql"] > exact["debezium-postgres"]  # the generic one types every name
    names.add("MilliSecondBehindSource")  # inserted by the shipped metricstransform/reference
    expected = sum(
        len(declaration["dimensions"])
        for name in names
        for declaration in shipped["exporters"]["awsemf"]["metric_declarations"]
        if any(re.search(selector, name) for selector in declaration["metric_name_selectors"])
    )
    result = subprocess.run(
        [sys.executable, "-m", "collector", "validate", "--config", str(SAMPLE.parents[3] / "otel-config.yaml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert f"awsemf: {expected} custom metrics per target" in result.stdout, result.stdout
    assert expected >= 9  # the reference metric, 4 streaming, 3 snapshot, schema-history Status
