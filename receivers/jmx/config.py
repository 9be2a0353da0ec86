"""Config of the `jmx` receiver: the Collector's jmxreceiver keys plus `rules` in the OpenTelemetry Java
instrumentation's jmx-metrics YAML format (so rule files written for it load unchanged)."""

from __future__ import annotations

import functools
import ipaddress
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    Field,
    PositiveInt,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from collector.component import ConfigModel, KnowsMetricNames
from collector.configfile import FileProblem, read_yaml_file
from collector.confignet import Endpoint, split_endpoint
from collector.configtls import TLSClientConfig, TLSServerConfig
from collector.configtypes import PositiveDuration
from collector.scraperhelper import ScraperConfig
from receivers.jmx.endpoint import PY4J_SCHEME, parse_entry
from receivers.jmx.rulemodels import PresetBundle, Rule, RuleFile
from receivers.jmx.rules import compile_rules

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
_REMOTE_JMX_KEYS = (
    "username",
    "password",
    "keystore_path",
    "keystore_password",
    "truststore_path",
    "truststore_password",
)

UP_METRIC = "jmx.up"
_RMI_HOST_PORT = re.compile(r"//(\[[0-9a-fA-F:.]+\]|[^/:\[\]]+):(\d+)(?:/[^/]*)?$")  # the last //host:port


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


MIN_TOKEN_BYTES = 32  # as the gateway demands of its own token
MAX_KEEPALIVE_S = 60.0  # the worker drops a connection silent for 90 s (GatewayDialer.IDLE_TIMEOUT_MS)


class ListenConfig(ConfigModel):
    """Where dialing gateways connect, and whom they must prove to be."""

    endpoint: Endpoint = Field("127.0.0.1:25334", description="Listen address (host:port; `0.0.0.0:25334` for all).")
    auth_tokens: list[SecretStr] = Field(
        min_length=1,
        description="Accepted worker tokens (32+ bytes each; several for a rotation). Write ${env:VAR}; never logged.",
    )
    tls: TLSServerConfig | None = Field(None, description="The listener's certificate and key (workers verify it).")
    insecure: bool = Field(False, description="Plaintext beyond loopback: only on a network you trust.")
    max_connections: PositiveInt = Field(256, description="Connections at once, handshaking ones included.")
    handshake_timeout: PositiveDuration = Field(10.0, description="Limit of TLS plus the worker's hello.")
    keepalive: PositiveDuration = Field(
        15.0, description=f"Ping an idle worker this often (at most {MAX_KEEPALIVE_S:.0f}s); a gone one is dropped."
    )

    @model_validator(mode="after")
    def _secure_by_default(self) -> ListenConfig:
        for index, token in enumerate(self.auth_tokens):
            if len(token.get_secret_value().encode()) < MIN_TOKEN_BYTES:
                raise ValueError(
                    f"auth_tokens[{index}]: shorter than {MIN_TOKEN_BYTES} bytes (make one: openssl rand -base64 32)"
                )
        if self.tls is not None and self.insecure:
            raise ValueError("give tls or insecure: true, not both")
        if self.tls is None and not self.insecure and not _loopback(split_endpoint(self.endpoint)[0]):
            raise ValueError(
                f"endpoint {self.endpoint} is beyond loopback: give tls (cert_file, key_file), "
                "or insecure: true on a network you trust"
            )
        if self.keepalive > MAX_KEEPALIVE_S:
            raise ValueError(f"keepalive: at most {MAX_KEEPALIVE_S:.0f}s (workers drop a connection silent for 90s)")
        return self


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # "" (every interface) or a name


class JmxConfig(ScraperConfig, KnowsMetricNames):
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
