"""The declared contracts: an exporter's factory chooses its sending, a factory must make a component of
its kind, and `collector validate` asks cost hooks only of config models that declare them."""

from collections.abc import Collection

import pytest

from collector.component import (
    ComponentError,
    ConfigModel,
    DescribesCost,
    ExporterFactory,
    Extension,
    Factory,
    Kind,
    KnowsMetricNames,
    MapsMetricNames,
    ProcessorFactory,
    ReceiverFactory,
)
from collector.config import ConfigError, validate
from collector.costhints import cost_lines
from collector.exporterhelper import QueueConfig, SendingConfig, sending_from_config
from collector.pipeline import Service
from collector.registry import Registry
from tests.core.fakes import PushConfig, PushReceiver, RecordConfig, RecordExporter, SuffixProcessor, registry

FIXED = SendingConfig(timeout="7s", sending_queue=QueueConfig(enabled=False))


def config(components: Registry, exporter: str, settings: dict[str, object] | None = None, **sections: object):
    raw = {
        "receivers": {"push": {}},
        "exporters": {exporter: settings or {}},
        "service": {"pipelines": {"metrics": {"receivers": ["push"], "exporters": [exporter]}}},
        **sections,
    }
    return validate(raw, components)


def built(components: Registry, exporter: str, settings: dict[str, object] | None = None) -> Service:
    service = Service(config(components, exporter, settings))
    service.build()
    return service


def with_factories(*factories: Factory) -> Registry:
    components = registry()
    for factory in factories:
        components.add(factory)
    return components


def test_the_exporter_factory_chooses_the_sending_not_the_users_keys():
    components = with_factories(ExporterFactory("fixed", RecordConfig, RecordExporter, sending=lambda _: FIXED))
    service = built(components, "fixed", {"timeout": "1s"})
    assert service.graph.senders["fixed"].config is FIXED


def test_sending_from_config_gives_users_the_sending_keys():
    components = with_factories(ExporterFactory("keyed", RecordConfig, RecordExporter, sending=sending_from_config))
    service = built(components, "keyed", {"timeout": "1s", "sending_queue": {"num_consumers": 2}})
    sending = service.graph.senders["keyed"].config
    assert (sending.timeout, sending.sending_queue.num_consumers) == (1.0, 2)


def test_an_exporter_factory_without_sending_gets_the_defaults_whatever_its_config():
    components = with_factories(ExporterFactory("plain", RecordConfig, RecordExporter))
    service = built(components, "plain", {"timeout": "1s"})
    assert service.graph.senders["plain"].config == SendingConfig()


def test_queue_storage_is_checked_where_the_factory_takes_it_from_the_config():
    components = with_factories(ExporterFactory("keyed", RecordConfig, RecordExporter, sending=sending_from_config))
    with pytest.raises(ConfigError) as raised:
        config(components, "keyed", {"sending_queue": {"storage": "file_storage"}})
    assert [p.path for p in raised.value.problems] == ["exporters.keyed.sending_queue.storage"]
    ignoring = with_factories(ExporterFactory("fixed", RecordConfig, RecordExporter, sending=lambda _: FIXED))
    assert config(ignoring, "fixed", {"sending_queue": {"storage": "file_storage"}})  # never used: no problem


class Idle(Extension[RecordConfig]):
    """Created as `create(settings, config)`, as an exporter is, but an extension."""


def test_a_factory_must_make_a_component_of_its_kind():
    components = with_factories(Factory("liar", Kind.EXPORTER, RecordConfig, Idle))
    with pytest.raises(ComponentError, match=r"exporters\.liar: its factory made Idle, which is not a subclass of Exp"):
        built(components, "liar")


class NamedConfig(PushConfig, KnowsMetricNames):
    def known_metric_names(self) -> Collection[str]:
        return ["a", "b"]


class PrefixConfig(ConfigModel, MapsMetricNames):
    prefix: str = "p_"

    def map_metric_names(self, names: frozenset[str]) -> frozenset[str]:
        return frozenset(self.prefix + name for name in names)


class BilledConfig(RecordConfig, DescribesCost):
    def describe_cost(self, metric_names: frozenset[str] | None) -> str:
        return "unknown" if metric_names is None else ",".join(sorted(metric_names))


def test_cost_hooks_are_asked_of_the_config_models_that_declare_them():
    components = with_factories(
        ReceiverFactory("named", NamedConfig, PushReceiver),
        ProcessorFactory("prefix", PrefixConfig, SuffixProcessor),
        ExporterFactory("billed", BilledConfig, RecordExporter),
    )
    pipeline = {"receivers": ["named"], "processors": ["prefix"], "exporters": ["billed", "record"]}
    raw = {
        "receivers": {"named": {}, "push": {}},
        "processors": {"prefix": {}},
        "exporters": {"billed": {}, "record": {}},
        "service": {"pipelines": {"metrics": pipeline}},
    }
    assert cost_lines(validate(raw, components)) == ["billed: p_a,p_b"]  # record declares no cost hook
    pipeline["receivers"] = ["named", "push"]  # push's config does not know its names
    assert cost_lines(validate(raw, components)) == ["billed: unknown"]
