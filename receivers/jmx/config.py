"""Config of the `jmx` receiver: the Collector's jmxreceiver keys plus `rules` in the OpenTelemetry Java
instrumentation's jmx-metrics YAML format (so rule files written for it load unchanged)."""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from collector.component import ConfigModel
from collector.configfile import FileProblem, read_yaml_file
from collector.configtls import TLSClientConfig
from collector.configtypes import PositiveDuration
from collector.scraperhelper import ScraperConfig
from receivers.jmx.listen import ListenConfig

PRESETS_DIR = Path(__file__).parent / "presets"
LEGACY_PRESETS_DIR = PRESETS_DIR / "legacy"
# Every `target_system` the Collector's jmxreceiver accepts, plus `kafka-connect` of the jmx-scraper.
UPSTREAM_TARGET_SYSTEMS = (
    "activemq",
    "cassandra",
    "hadoop",
    "hbase",
    "jetty",
    "jvm",
    "kafka",
    "kafka-connect",
    "kafka-consumer",
    "kafka-producer",
    "solr",
    "tomcat",
    "wildfly",
)
TargetSource = Literal["auto", "instrumentation", "legacy"]
# Keys of the Collector's jmxreceiver that this design cannot have, and what to use instead.
_REFUSED_KEYS = {
    "jar_path": "no jmx-metrics/jmx-scraper jar runs here: the receiver brings its own gateway (`java` picks the "
    "launcher)",
    "additional_jars": "no jmx-metrics/jmx-scraper jar runs here, so there is no class path to extend",
    "otlp": "metrics enter the pipeline directly; there is no OTLP hop from a gatherer JVM to configure",
    "groovy_script": "Groovy scripts are not run: describe the MBeans as jmx-metrics rules (`rules` or `jmx_configs`)",
    "remote_profile": "SASL profiles are not supported: use username/password, with keystore/truststore for TLS",
    "realm": "SASL profiles are not supported: use username/password, with keystore/truststore for TLS",
}
LOG_LEVELS = ("trace", "debug", "info", "warn", "error", "off")
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
_EXPRESSION = re.compile(r"^(?:(lowercase)\((.*)\)|(param|beanattr|const|domain)\((.*)\))$", re.DOTALL)
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
    """`param(key)`, `beanattr(Attr)`, `const(value)`, `domain(prefix)` (this collector's: the ObjectName's
    domain without `prefix`), or `lowercase(...)` around one of them."""
    match = _EXPRESSION.match(text.strip())
    if not match:
        raise ValueError(
            f"{text!r} is not param(<key>), beanattr(<attribute>), const(<value>), domain(<prefix>) or lowercase(...)"
        )
    if match.group(1):
        check_expression(match.group(2))
    elif match.group(3) not in ("const", "domain") and not match.group(4).strip():
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
_RMI_HOST_PORT = re.compile(r"//(\[[0-9a-fA-F:.]+\]|[^/:\[\]]+):(\d+)(?:/[^/]*)?$")  # the last //host:port
ALL_OTHER_ATTRIBUTES = "*"
"""A mapping key (this collector's): every numeric attribute of the MBean no other mapping of the rule names."""


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
            if attribute == ALL_OTHER_ATTRIBUTES and (effective.type == "state" or effective.metric):
                raise ValueError(f"mapping '{ALL_OTHER_ATTRIBUTES}' (every other attribute) takes no `metric` or state")
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


class PresetBundle(ConfigModel):
    """Several presets in one file, so that they share YAML anchors (the Debezium connectors); the file's
    other top-level keys (`x-...`) only hold those anchors."""

    presets: dict[str, RuleFile]


def load_rule_file(path: str | Path) -> list[Rule]:
    """A jmx-metrics rule file (`rules:`), as `jmx_configs` names them, read by the config's own YAML loader
    (limits, redefined anchors); errors name the file."""
    try:
        return RuleFile.model_validate(read_yaml_file(path)).rules
    except FileProblem as exc:
        raise ValueError(f"jmx_configs: {path}: {exc}") from None
    except ValidationError as exc:
        problems = "; ".join(
            ".".join(map(str, e["loc"])) + ": " + e["msg"].removeprefix("Value error, ") for e in exc.errors()
        )
        raise ValueError(f"jmx_configs: {path} is not a jmx-metrics rule file: {problems}") from None
    except ValueError as exc:
        raise ValueError(f"jmx_configs: {path} is not a jmx-metrics rule file: {exc}") from None


@functools.cache
def _presets(directory: Path) -> dict[str, list[Rule]]:
    """The presets of one directory: a file is one preset named after it (`rules:`) or a bundle (`presets:`)."""
    found: dict[str, list[Rule]] = {}
    for path in sorted(directory.glob("*.yaml")):
        document = read_yaml_file(path)
        if "presets" in document:
            bundle = PresetBundle.model_validate({"presets": document["presets"]})
            found.update({name: rule_file.rules for name, rule_file in bundle.presets.items()})
        else:
            found[path.stem] = RuleFile.model_validate(document).rules
    return found


def preset_names() -> list[str]:
    """Every bundled preset, whatever its source."""
    return sorted({*_presets(PRESETS_DIR), *_presets(LEGACY_PRESETS_DIR)})


def check_preset(name: str, source: str = "auto") -> None:
    """Raises ValueError saying why `name` cannot be read with `target_source: source`."""
    current, legacy = _presets(PRESETS_DIR), _presets(LEGACY_PRESETS_DIR)
    if name not in current and name not in legacy:
        if name in UPSTREAM_TARGET_SYSTEMS:
            raise ValueError(
                f"target system {name!r} is not bundled with this collector: give its rules with `jmx_configs` "
                "(a jmx-metrics rule file, such as the jmx-scraper's) or inline `rules`"
            )
        raise ValueError(f"unknown target system {name!r}; bundled: {', '.join(preset_names())}")
    upstream = name in UPSTREAM_TARGET_SYSTEMS  # this collector's own presets (Debezium) have one form for all
    if upstream and source == "instrumentation" and name not in current:
        raise ValueError(f"target system {name!r} has only legacy definitions: use target_source legacy or auto")
    if upstream and source == "legacy" and name not in legacy:
        raise ValueError(f"target system {name!r} has no legacy definitions: use target_source instrumentation or auto")


def load_preset(name: str, source: str = "auto") -> list[Rule]:
    """A preset's rules: `legacy` the Collector's jmx-metrics names, `instrumentation` the OpenTelemetry
    semantic-convention names, `auto` instrumentation where it exists, else legacy (as the jmx-scraper)."""
    check_preset(name, source)
    current, legacy = _presets(PRESETS_DIR), _presets(LEGACY_PRESETS_DIR)
    if (source == "legacy" and name in legacy) or name not in current:
        return legacy[name]
    return current[name]


class ShardConfig(ConfigModel):
    """This replica's share of the endpoints: each endpoint belongs to exactly one of `count` replicas, by
    rendezvous hashing, so changing `count` moves only the endpoints that must move."""

    count: int = Field(1, ge=1, description="How many replicas share the endpoints.")
    index: int = Field(0, ge=0, description="This replica, 0 .. count-1 (e.g. ${env:POD_INDEX}).")

    @model_validator(mode="after")
    def _index_in_range(self) -> ShardConfig:
        if self.index >= self.count:
            raise ValueError(f"index {self.index} is not below count {self.count}")
        return self


Protocol = Literal["rmi", "py4j"]


class EndpointsConfig(ConfigModel):
    """Many targets for one receiver: a static list, a file or a DNS name; RMI JMX ports or in-JVM gateways."""

    list_: list[str] = Field(
        default_factory=list,
        alias="list",
        description="`host:port` entries (or a full service:jmx:... URL, or py4j://host:port).",
    )
    file: str = Field("", description="A file of endpoints, one a line (`#` comments), re-read every refresh.")
    dns: str = Field("", description="`name:port`: every A/AAAA record of the name is one target.")
    protocol: Protocol = Field(
        "py4j", description="What a bare host:port is: `rmi` (a JMX port) or `py4j` (an in-JVM gateway)."
    )
    shard: ShardConfig = Field(default_factory=ShardConfig)
    refresh_interval: PositiveDuration = Field(30.0, description="How often the file or DNS name is read again.")

    @model_validator(mode="after")
    def _one_source(self) -> EndpointsConfig:
        if [bool(self.list_), bool(self.file), bool(self.dns)].count(True) != 1:
            raise ValueError("give exactly one of `list`, `file` or `dns`")
        if self.dns and not re.fullmatch(r"[^\s:/]+:\d+", self.dns):
            raise ValueError("dns: expected name:port")
        from receivers.jmx.discovery import parse_entry  # discovery imports this module

        for entry in self.list_:
            parse_entry(entry, self.protocol)  # a ValueError names the entry
        return self

    def protocols(self) -> set[str]:
        """The protocols its targets can speak (a file's or DNS name's entries are known only when read)."""
        explicit = {_entry_protocol(entry) for entry in self.list_}
        bare = not self.list_ or None in explicit
        return {p for p in explicit if p} | ({self.protocol} if bare else set())


def _entry_protocol(entry: str) -> str | None:
    """`rmi` for a service URL, `py4j` for py4j://, None for a bare host:port."""
    if entry.startswith("service:jmx:"):
        return "rmi"
    return "py4j" if entry.startswith(PY4J_SCHEME) else None


class JmxConfig(ScraperConfig):
    """One receiver reads one JVM (`endpoint`) or many (`endpoints`)."""

    endpoint: str = Field(
        "",
        description="host:port, a full service:jmx:rmi:///jndi/rmi://host:port/jmxrmi URL, or py4j://host:port "
        "(the in-JVM gateway: Java agent or connector wrapper).",
    )
    endpoints: EndpointsConfig | None = Field(
        None, description="Instead of `endpoint`: many targets (RMI ports or in-JVM gateways), maybe sharded."
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
    target_system: str = Field(
        "", description="Comma list of presets (debezium, debezium-mysql, debezium-postgres, jvm, kafka ...)."
    )
    target_source: TargetSource = Field(
        "auto",
        description="Which definitions of a target system: legacy (the Collector's jmx-metrics names), "
        "instrumentation (semantic conventions), auto (instrumentation where it exists, else legacy).",
    )
    jmx_configs: str = Field("", description="Comma list of jmx-metrics rule files, read beside `rules`.")
    rules: list[Rule] = Field(default_factory=list)
    username: str = ""
    password: SecretStr = SecretStr("")
    password_file: str = Field("", description="A file holding the JMX password (instead of `password`).")
    log_level: str = Field("", description="Level of this receiver's own log lines: trace ... error, off.")
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

    _file_rules: list[Rule] = PrivateAttr(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _refuse_gatherer_keys(cls, data: Any) -> Any:
        """The Collector's keys this design cannot have: refused with the reason, not as unknown keys."""
        if isinstance(data, dict):
            for key in (k for k in _REFUSED_KEYS if k in data):
                raise ValueError(f"{key}: {_REFUSED_KEYS[key]}")
        return data

    @model_validator(mode="before")
    @classmethod
    def _read_password_file(cls, data: Any) -> Any:
        """`password_file` is read once, at load: a missing or unreadable file is a config error."""
        if not isinstance(data, dict) or not data.get("password_file"):
            return data
        if data.get("password"):
            raise ValueError("give `password` or `password_file`, not both")
        try:
            password = Path(data["password_file"]).read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as exc:
            raise ValueError(f"password_file: cannot read {data['password_file']}: {exc.strerror}") from None
        return {**data, "password": password}

    @field_validator("log_level")
    @classmethod
    def _known_log_level(cls, value: str) -> str:
        if value and value.lower() not in LOG_LEVELS:
            raise ValueError(f"log_level must be one of {', '.join(LOG_LEVELS)}")
        return value.lower()

    @model_validator(mode="after")
    def _presets_and_rule_files(self) -> JmxConfig:
        for name in self.preset_list:
            check_preset(name, self.target_source)
        self._file_rules = [rule for path in self.jmx_config_paths for rule in load_rule_file(path)]
        return self

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
        if not self.preset_list and not self.rules and not self.jmx_configs.strip():
            raise ValueError("give `target_system` (a preset), `jmx_configs` or `rules`")
        return self

    @model_validator(mode="after")
    def _keys_of_the_transport(self) -> JmxConfig:
        if [bool(self.endpoint), self.endpoints is not None, self.listen is not None].count(True) != 1:
            raise ValueError("give exactly one of `endpoint` or `endpoints` (or `listen`)")
        if self.listen is not None and (self.auth_token.get_secret_value() or "tls" in self.model_fields_set):
            raise ValueError("with `listen`, the tokens and TLS are listen.auth_tokens and listen.tls")
        protocols = self.protocols()
        if "rmi" not in protocols:
            remote_only = [k for k in _REMOTE_JMX_KEYS if getattr(self, k) not in ("", SecretStr(""))]
            if remote_only:
                raise ValueError(f"{', '.join(remote_only)}: JMX remote settings, unused with a py4j:// endpoint")
        if "py4j" not in protocols and (self.auth_token.get_secret_value() or "tls" in self.model_fields_set):
            raise ValueError("auth_token and tls are for a py4j:// endpoint (the in-JVM gateway)")
        return self

    def protocols(self) -> set[str]:
        """`rmi` (read through our gateway JVM) and/or `py4j` (the target serves the gateway itself)."""
        if self.listen is not None:
            return {"py4j"}  # dialed in: every worker serves the gateway over its own connection
        if self.endpoints is not None:
            return self.endpoints.protocols()
        return {"py4j" if self.endpoint.startswith(PY4J_SCHEME) else "rmi"}

    @property
    def in_jvm(self) -> bool:
        """Every target serves the gateway itself (agent or connector wrapper): no gateway JVM of ours."""
        return "rmi" not in self.protocols()

    @property
    def py4j_address(self) -> tuple[str, int]:
        host, _, port = self.endpoint.removeprefix(PY4J_SCHEME).rpartition(":")
        return host.strip("[]"), int(port)

    @property
    def preset_list(self) -> list[str]:
        return [n.strip().lower() for n in self.target_system.split(",") if n.strip()]  # as the jmxreceiver

    @property
    def jmx_config_paths(self) -> list[str]:
        return [p.strip() for p in self.jmx_configs.split(",") if p.strip()]

    def target_identity(self) -> dict[str, str | int]:
        """`server.address` and `server.port` of the one `endpoint` (resource attributes, as with `endpoints`)."""
        if self.in_jvm:
            host, port = self.py4j_address
        else:
            match = _RMI_HOST_PORT.search(self.service_url)
            if not match:
                return {}  # a service URL without host:port (a local or custom protocol)
            host, port = match.group(1).strip("[]"), int(match.group(2))
        return {"server.address": host, "server.port": port}

    @property
    def service_url(self) -> str:
        if self.endpoint.startswith("service:jmx:"):
            return self.endpoint
        return f"service:jmx:rmi:///jndi/rmi://{self.endpoint}/jmxrmi"

    def preset_rules(self) -> list[tuple[str, list[Rule]]]:
        """Each preset's rules, by preset name."""
        return [(name, load_preset(name, self.target_source)) for name in self.preset_list]

    def all_rules(self) -> list[Rule]:
        """Preset rules first, then those of the `jmx_configs` files, then the inline ones."""
        return [rule for _, rules in self.preset_rules() for rule in rules] + self._file_rules + list(self.rules)

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
