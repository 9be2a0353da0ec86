"""Config of the `jmx` receiver: the Collector's jmxreceiver keys plus `rules` in the OpenTelemetry Java
instrumentation's jmx-metrics YAML format (so rule files written for it load unchanged)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field, SecretStr, field_validator, model_validator

from collector.component import ConfigModel
from collector.configfile import read_yaml_file
from collector.configtls import TLSClientConfig
from collector.configtypes import PositiveDuration
from collector.scraperhelper import ScraperConfig
from receivers.jmx.listen import ListenConfig

PRESETS_DIR = Path(__file__).parent / "presets"
PY4J_SCHEME = "py4j://"
_REMOTE_JMX_KEYS = (
    "username",
    "password",
    "keystore_path",
    "keystore_password",
    "truststore_path",
    "truststore_password",
)

MetricType = Literal["gauge", "counter", "updowncounter", "state"]
_EXPRESSION = re.compile(r"^(?:(lowercase)\((.*)\)|(param|beanattr|const)\((.*)\))$", re.DOTALL)
_DEFAULT_STATE = "*"

# The conversions the jmx-metrics format documents (sourceUnit -> unit), plus the obvious inverses.
UNIT_FACTORS: dict[tuple[str, str], float] = {
    ("ms", "s"): 1e-3,
    ("us", "s"): 1e-6,
    ("ns", "s"): 1e-9,
    ("s", "ms"): 1e3,
    ("ns", "ms"): 1e-6,
}


def _lowercase_type(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def check_expression(text: str) -> str:
    """`param(key)`, `beanattr(Attr)`, `const(value)`, or `lowercase(...)` around one of them."""
    match = _EXPRESSION.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not param(<key>), beanattr(<attribute>), const(<value>) or lowercase(...)")
    if match.group(1):
        check_expression(match.group(2))
    elif match.group(3) != "const" and not match.group(4).strip():
        raise ValueError(f"{text!r}: the name inside {match.group(3)}() is empty")
    return text.strip()


StateMap = dict[str, str | list[str]]
"""A `state` metric's attribute: state name -> the MBean value(s) meaning it; `'*'` is the default."""


def _check_metric_attributes(attributes: dict[str, str | StateMap]) -> dict[str, str | StateMap]:
    for value in attributes.values():
        if isinstance(value, str):
            check_expression(value)
    return attributes


MetricAttributes = Annotated[
    dict[str, str | StateMap],
    AfterValidator(_check_metric_attributes),
    Field(description="Point attributes: param(<ObjectName key>), beanattr(<attribute>), const(<value>)."),
]


UP_METRIC = "jmx.up"


class Mapping(ConfigModel):
    """How one MBean attribute (`Attr`, `Attr.item` for CompositeData, `Attr.length` for arrays) becomes a
    metric. Keys as in jmx-metrics; `missingValue` and `keyAttribute` are this collector's additions."""

    metric: str | None = None
    type: Annotated[MetricType | None, BeforeValidator(_lowercase_type)] = None
    unit: str | None = None
    sourceUnit: str | None = None
    desc: str | None = None
    metricAttribute: MetricAttributes = Field(default_factory=dict)
    missingValue: float | None = Field(
        None, description="A value the source reports for 'not available' (Debezium's -1): no point is emitted."
    )
    keyAttribute: str | None = Field(
        None, description="Attribute naming the key of a TabularData / Map value (default `key`)."
    )


class Rule(ConfigModel):
    """One jmx-metrics rule: MBeans (`bean` or `beans`), shared settings, and the attribute mappings."""

    bean: str | None = None
    beans: list[str] | None = None
    prefix: str = ""
    unit: str | None = None
    sourceUnit: str | None = None
    type: Annotated[MetricType | None, BeforeValidator(_lowercase_type)] = None
    metricAttribute: MetricAttributes = Field(default_factory=dict)
    missingValue: float | None = None
    keyAttribute: str | None = None
    wildcardParams: bool = Field(
        False, description="Every ObjectName key matched by a wildcard also becomes a point attribute."
    )
    mapping: dict[str, Mapping | None] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> Rule:
        if bool(self.bean) == bool(self.beans):
            raise ValueError("give exactly one of `bean` (one ObjectName pattern) or `beans` (a list)")
        for pattern in self.patterns:
            if ":" not in pattern or "\t" in pattern or "\n" in pattern:
                raise ValueError(f"{pattern!r} is not an ObjectName pattern like `domain:key=value,*`")
        for attribute, mapping in self.mapping.items():
            effective = mapping or Mapping()
            source, unit = effective.sourceUnit or self.sourceUnit, effective.unit or self.unit
            if source and source != unit and (source, unit) not in UNIT_FACTORS:
                known = ", ".join(f"{a}->{b}" for a, b in UNIT_FACTORS)
                raise ValueError(f"mapping {attribute}: no conversion from {source!r} to {unit!r} (known: {known})")
            if (effective.type or self.type) == "state":
                _check_state(attribute, {**self.metricAttribute, **effective.metricAttribute})
        return self

    @property
    def patterns(self) -> list[str]:
        return [self.bean] if self.bean else list(self.beans or [])


def _check_state(attribute: str, attributes: dict[str, str | StateMap]) -> None:
    states = [value for value in attributes.values() if isinstance(value, dict)]
    if len(states) != 1:
        raise ValueError(f"mapping {attribute}: a state metric needs exactly one metricAttribute state map")
    defaults = [name for name, values in states[0].items() if _DEFAULT_STATE in as_list(values)]
    if len(defaults) != 1:
        raise ValueError(f"mapping {attribute}: the state map needs exactly one '*' (the default state)")


def as_list(values: str | list[str]) -> list[str]:
    return [values] if isinstance(values, str) else list(values)


class RuleFile(ConfigModel):
    rules: list[Rule]


def load_preset(name: str) -> list[Rule]:
    return RuleFile.model_validate(read_yaml_file(PRESETS_DIR / f"{name}.yaml")).rules


def preset_names() -> list[str]:
    return sorted(p.stem for p in PRESETS_DIR.glob("*.yaml"))


class EndpointsConfig(ConfigModel):
    """Many in-JVM gateways (one per worker) for one receiver: from a file or a DNS name."""

    file: str = Field("", description="A file of `host:port` lines, one per worker (`#` comments).")
    dns: str = Field("", description="`name:port`: every A/AAAA record of the name is one worker.")
    refresh_interval: PositiveDuration = Field(30.0, description="How often the list is read again.")

    @model_validator(mode="after")
    def _one_source(self) -> EndpointsConfig:
        if bool(self.file) == bool(self.dns):
            raise ValueError("give exactly one of `file` or `dns`")
        if self.dns and not re.fullmatch(r"[^\s:/]+:\d+", self.dns):
            raise ValueError("dns: expected name:port")
        return self


class JmxConfig(ScraperConfig):
    """One receiver instance scrapes one JVM; several targets are several `jmx/<name>` entries."""

    endpoint: str = Field(
        "",
        description="host:port, a full service:jmx:rmi:///jndi/rmi://host:port/jmxrmi URL, or py4j://host:port "
        "(the in-JVM gateway: Java agent or connector wrapper).",
    )
    endpoints: EndpointsConfig | None = Field(
        None, description="Instead of `endpoint`: the in-JVM gateways of a worker group (py4j, one per worker)."
    )
    listen: ListenConfig | None = Field(
        None,
        description="Instead of `endpoint`: in-JVM gateways dial in here (`collector.gateway.connect`); "
        "each connected worker is a target.",
    )
    auth_token: SecretStr = Field(
        SecretStr(""), description="py4j:// only: the in-JVM gateway's token; write it as ${env:VAR}. Never logged."
    )
    tls: TLSClientConfig = Field(
        default_factory=TLSClientConfig,
        description="py4j:// only: TLS to the in-JVM gateway (on by default; `insecure: true` for plaintext).",
    )
    target_system: str = Field("", description="Comma list of presets: " + ", ".join(preset_names()) + ".")
    rules: list[Rule] = Field(default_factory=list)
    username: str = ""
    password: SecretStr = SecretStr("")
    keystore_path: str = ""
    keystore_password: SecretStr = SecretStr("")
    keystore_type: str = ""
    truststore_path: str = ""
    truststore_password: SecretStr = SecretStr("")
    truststore_type: str = ""
    resource_attributes: dict[str, str] = Field(default_factory=dict)
    jvm_options: list[str] = Field(
        default_factory=lambda: ["-Xmx64m"], description="Options for the gateway JVM (not the target)."
    )
    java: str = Field("java", description="The java launcher of the gateway JVM.")

    @field_validator("target_system")
    @classmethod
    def _known_presets(cls, value: str) -> str:
        known = preset_names()
        for name in (n.strip() for n in value.split(",")):
            if name and name not in known:
                raise ValueError(f"unknown target system {name!r}; known: {', '.join(known)}")
        return value

    @field_validator("endpoint")
    @classmethod
    def _endpoint_shape(cls, value: str) -> str:
        if not value:
            return value  # `endpoints` instead; checked below
        host_port = r"[^\s:/]+:\d+|\[[0-9a-fA-F:]+\]:\d+"
        if value.startswith("service:jmx:") or re.fullmatch(host_port, value.removeprefix(PY4J_SCHEME)):
            return value
        raise ValueError("expected host:port, a service:jmx:rmi:///jndi/rmi://host:port/jmxrmi URL or py4j://host:port")

    @model_validator(mode="after")
    def _something_to_read(self) -> JmxConfig:
        if not self.preset_list and not self.rules:
            raise ValueError("give `target_system` (a preset) or `rules`, or both")
        return self

    @model_validator(mode="after")
    def _keys_of_the_transport(self) -> JmxConfig:
        if [bool(self.endpoint), self.endpoints is not None, self.listen is not None].count(True) != 1:
            raise ValueError("give exactly one of `endpoint` or `endpoints` (or `listen`)")
        if self.listen is not None and (self.auth_token.get_secret_value() or "tls" in self.model_fields_set):
            raise ValueError("with `listen`, the tokens and TLS are listen.auth_tokens and listen.tls")
        if self.in_jvm:
            remote_only = [k for k in _REMOTE_JMX_KEYS if getattr(self, k) not in ("", SecretStr(""))]
            if remote_only:
                raise ValueError(f"{', '.join(remote_only)}: JMX remote settings, unused with a py4j:// endpoint")
        elif self.auth_token.get_secret_value() or "tls" in self.model_fields_set:
            raise ValueError("auth_token and tls are for a py4j:// endpoint (the in-JVM gateway)")
        return self

    @property
    def in_jvm(self) -> bool:
        """The target serves the gateway itself (agent or connector wrapper): no gateway JVM of ours."""
        return self.endpoint.startswith(PY4J_SCHEME) or self.endpoints is not None or self.listen is not None

    @property
    def py4j_address(self) -> tuple[str, int]:
        host, _, port = self.endpoint.removeprefix(PY4J_SCHEME).rpartition(":")
        return host.strip("[]"), int(port)

    @property
    def preset_list(self) -> list[str]:
        return [n.strip() for n in self.target_system.split(",") if n.strip()]

    @property
    def service_url(self) -> str:
        if self.endpoint.startswith("service:jmx:"):
            return self.endpoint
        return f"service:jmx:rmi:///jndi/rmi://{self.endpoint}/jmxrmi"

    def all_rules(self) -> list[Rule]:
        """Preset rules first, then the user's own."""
        return [rule for name in self.preset_list for rule in load_preset(name)] + list(self.rules)

    def known_metric_names(self) -> frozenset[str]:
        """Every metric name the rules can emit (the `collector validate` cost hook, docs/plugins.md)."""
        from receivers.jmx.rules import compile_rules  # rules imports this module

        names = {mapping.metric for rule in compile_rules(self.all_rules()) for mapping in rule.mappings}
        return frozenset({*names, UP_METRIC})

    def system_properties(self) -> dict[str, str]:
        """TLS settings for the gateway JVM, as the JDK's JMX client reads them."""
        props: dict[str, str] = {}
        for key, value in (
            ("javax.net.ssl.keyStore", self.keystore_path),
            ("javax.net.ssl.keyStorePassword", self.keystore_password.get_secret_value()),
            ("javax.net.ssl.keyStoreType", self.keystore_type),
            ("javax.net.ssl.trustStore", self.truststore_path),
            ("javax.net.ssl.trustStorePassword", self.truststore_password.get_secret_value()),
            ("javax.net.ssl.trustStoreType", self.truststore_type),
        ):
            if value:
                props[key] = value
        return props
