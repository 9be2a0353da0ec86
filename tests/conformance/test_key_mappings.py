"""How the Collector's keys map onto what the Python libraries offer (unit level; the end-to-end effect is
in test_keys_take_effect.py)."""

from __future__ import annotations

from common.matching import MatchProperties
from exporters.otlp.config import OTLPGrpcConfig
from receivers.otlp.config import GRPCConfig


def test_grpc_server_keepalive_becomes_grpc_core_arguments():
    config = GRPCConfig.model_validate(
        {
            "keepalive": {
                "server_parameters": {
                    "max_connection_idle": "11s",
                    "max_connection_age": "12s",
                    "max_connection_age_grace": "13s",
                    "time": "30s",
                    "timeout": "5s",
                },
                "enforcement_policy": {"min_time": "10s", "permit_without_stream": True},
            }
        }
    )
    assert dict(config.keepalive_options()) == {
        "grpc.max_connection_idle_ms": 11_000,
        "grpc.max_connection_age_ms": 12_000,
        "grpc.max_connection_age_grace_ms": 13_000,
        "grpc.keepalive_time_ms": 30_000,
        "grpc.keepalive_timeout_ms": 5_000,
        "grpc.http2.min_ping_interval_without_data_ms": 10_000,
        "grpc.keepalive_permit_without_calls": 1,
    }
    assert GRPCConfig().keepalive_options() == []  # unset: gRPC's own defaults, as in the Collector


def test_grpc_client_options():
    config = OTLPGrpcConfig.model_validate(
        {
            "endpoint": "x:1",
            "keepalive": {"time": "20s", "timeout": "30s", "permit_without_stream": True},
            "authority": "pseudo-proxy.internal",
            "balancer_name": "round_robin",
            "tls": {"server_name_override": "collector.internal", "ca_file": "ca.pem"},
        }
    )
    assert dict(config.channel_options()) == {
        "grpc.lb_policy_name": "round_robin",
        "grpc.keepalive_time_ms": 20_000,
        "grpc.keepalive_timeout_ms": 30_000,
        "grpc.keepalive_permit_without_calls": 1,
        "grpc.default_authority": "pseudo-proxy.internal",
        "grpc.ssl_target_name_override": "collector.internal",
    }


def test_regexp_cache_settings():
    def selector(regexp):
        return MatchProperties.model_validate(
            {"match_type": "regexp", "metric_names": ["^a"], "regexp": regexp}
        ).selector()

    bounded = selector({"cacheenabled": True, "cachemaxnumentries": 2})
    for name in ("a1", "a2", "b1", "a3"):
        assert bounded.matches_name(name) == name.startswith("a")
    assert list(bounded._names) == ["b1", "a3"]  # the oldest entries went first
    unbounded = selector({"cacheenabled": True})
    for i in range(50):
        unbounded.matches_name(f"a{i}")
    assert len(unbounded._names) == 50
    uncached = selector({"cacheenabled": False})
    assert uncached.matches_name("a1") and not uncached._names
    full = selector({"fullmatchrequired": True})
    assert full.matches_name("a") and not full.matches_name("ab")
