"""The Collector keys accepted by the conformance suite do what the Collector documents, against real
peers: two real collectors in a chain (the second one's OTLP receivers are the first one's backends), a
real health check and a real TLS scrape."""

from __future__ import annotations

import json
import time

import requests
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics

from collector.otlpjson import to_request
from collector.testing import Exemplar, gauge, histogram, histogram_point, metrics_data, number_point, sum_metric
from exporters.otlphttp.exporter import otlp_json
from tests.support import free_port, read_points, run_collector, send_otlp, wait_for, wait_listening, write_config
from tests.tlscerts import make_cert, make_key, write_pem

S = 1_000_000_000
T0 = time.time_ns() - 600 * S  # one start for every batch: the counters never reset


def batch(step: int):
    end = T0 + (step + 1) * 60 * S
    counts = (step + 1, step + 1)
    return metrics_data(
        sum_metric("kafka.requests", 10 * (step + 1), start=T0, time=end, unit="1"),
        histogram(
            "kafka.latency", histogram_point(counts, (1.0,), 5.0, start=T0, time=end, min=0.5, max=2.0), unit="ms"
        ),
        gauge("kafka.lag", 7, time=end, unit="1"),
        gauge("kafka.lag.total", 9, time=end, unit="1"),
    )


def test_a_chain_of_two_collectors_with_the_collectors_keys(tmp_path):
    """First: otlp receiver with gRPC keepalive -> batch (metadata_keys) -> filter (regexp cache,
    fullmatchrequired) -> cumulativetodelta (metric_types) -> otlphttp (encoding json, deflate,
    compression_params) and otlp (deflate, keepalive, authority, balancer_name, wait_for_ready).
    Second: otlp receiver (HTTP for JSON, gRPC) -> file, one file per path so each exporter is checked."""
    grpc_in, http_b, grpc_b = free_port(), free_port(), free_port()
    via_http, via_grpc = tmp_path / "via-http.jsonl", tmp_path / "via-grpc.jsonl"
    second = tmp_path / "second"
    second.mkdir()
    backend = write_config(
        second,
        {
            "receivers": {
                "otlp/http": {"protocols": {"http": {"endpoint": f"127.0.0.1:{http_b}"}}},
                "otlp/grpc": {"protocols": {"grpc": {"endpoint": f"127.0.0.1:{grpc_b}"}}},
            },
            "exporters": {"file/http": {"path": str(via_http)}, "file/grpc": {"path": str(via_grpc)}},
            "service": {
                "pipelines": {
                    "metrics/http": {"receivers": ["otlp/http"], "exporters": ["file/http"]},
                    "metrics/grpc": {"receivers": ["otlp/grpc"], "exporters": ["file/grpc"]},
                }
            },
        },
    )
    first = write_config(
        tmp_path,
        {
            "receivers": {
                "otlp": {
                    "protocols": {
                        "grpc": {
                            "endpoint": f"127.0.0.1:{grpc_in}",
                            "keepalive": {
                                "server_parameters": {"max_connection_idle": "11s", "time": "30s", "timeout": "5s"},
                                "enforcement_policy": {"min_time": "10s", "permit_without_stream": True},
                            },
                        }
                    }
                }
            },
            "processors": {
                "batch": {"timeout": "100ms", "metadata_keys": ["tenant"], "metadata_cardinality_limit": 10},
                "filter": {
                    "metrics": {
                        "exclude": {
                            "match_type": "regexp",
                            "metric_names": ["kafka\\.lag"],
                            "regexp": {"cacheenabled": True, "cachemaxnumentries": 2, "fullmatchrequired": True},
                        }
                    }
                },
                "cumulativetodelta": {"include": {"metric_types": ["sum"]}, "initial_value": "keep"},
            },
            "exporters": {
                "otlphttp": {
                    "endpoint": f"http://127.0.0.1:{http_b}",
                    "encoding": "json",
                    "compression": "deflate",
                    "compression_params": {"level": 1},
                    "retry_on_failure": {"initial_interval": "100ms"},
                },
                "otlp": {
                    "endpoint": f"127.0.0.1:{grpc_b}",
                    "tls": {"insecure": True},
                    "compression": "deflate",
                    "keepalive": {"time": "20s", "timeout": "10s", "permit_without_stream": True},
                    "authority": "collector.internal",
                    "balancer_name": "round_robin",
                    "wait_for_ready": True,
                    "retry_on_failure": {"initial_interval": "100ms"},
                },
            },
            "service": {
                "pipelines": {
                    "metrics": {
                        "receivers": ["otlp"],
                        "processors": ["batch", "filter", "cumulativetodelta"],
                        "exporters": ["otlphttp", "otlp"],
                    }
                }
            },
        },
    )
    with run_collector(backend) as second_process, run_collector(first) as first_process:
        wait_listening(second_process, http_b, grpc_b)
        wait_listening(first_process, grpc_in)
        send_otlp(grpc_in, *(batch(step) for step in range(3)))
        for out in (via_http, via_grpc):
            wait_for(
                lambda out=out: len([p for p in read_points(out) if p.name == "kafka.requests"]) == 3, 30, str(out)
            )
            points = read_points(out)
            names = {p.name for p in points}
            # fullmatchrequired: `kafka\.lag` drops kafka.lag only, not kafka.lag.total
            assert names == {"kafka.requests", "kafka.latency", "kafka.lag.total"}, names
            sums = [p for p in points if p.name == "kafka.requests"]
            assert [p.value for p in sums] == [10, 10, 10]  # delta: metric_types [sum] converts sums ...
            assert {p.temporality for p in sums} == {1}
            latency = [p for p in points if p.name == "kafka.latency"]
            assert {p.temporality for p in latency} == {2}  # ... and leaves histograms cumulative
        assert "error" not in first_process.logs().lower(), first_process.logs()


def test_health_check_response_body_and_pipeline_check(tmp_path):
    """check_collector_pipeline: more failed exports than exporter_failure_threshold within interval
    turns the answer to 503 (with response_body.unhealthy); a healthy answer carries response_body.healthy."""
    grpc_in, health, dead = free_port(), free_port(), free_port()
    config = write_config(
        tmp_path,
        {
            "extensions": {
                "health_check": {
                    "endpoint": f"127.0.0.1:{health}",
                    "path": "/healthz",
                    "response_body": {"healthy": "I'm OK", "unhealthy": "I'm not well"},
                    "check_collector_pipeline": {"enabled": True, "interval": "5m", "exporter_failure_threshold": 2},
                }
            },
            "receivers": {"otlp": {"protocols": {"grpc": {"endpoint": f"127.0.0.1:{grpc_in}"}}}},
            "exporters": {"otlphttp": {"endpoint": f"http://127.0.0.1:{dead}", "retry_on_failure": {"enabled": False}}},
            "service": {
                "extensions": ["health_check"],
                "pipelines": {"metrics": {"receivers": ["otlp"], "exporters": ["otlphttp"]}},
            },
        },
    )
    url = f"http://127.0.0.1:{health}/healthz"
    with run_collector(config) as process:
        wait_listening(process, grpc_in, health)
        answer = requests.get(url, timeout=5)
        assert (answer.status_code, answer.text) == (200, "I'm OK")
        send_otlp(grpc_in, batch(0))  # 4 points, all failing downstream

        def answer_503() -> tuple[int, str] | None:
            response = requests.get(url, timeout=5)  # a 503 Response is falsy: return its parts
            return (response.status_code, response.text) if response.status_code == 503 else None

        assert wait_for(answer_503, 30, "503 once exports failed") == (503, "I'm not well")


def test_prometheus_tls_with_ca_file_and_client_certificates(tmp_path):
    """`tls` with the Collector's server keys: ca_file accepted, client_ca_file requires a client
    certificate, max_version honoured; the scrape over TLS is valid OpenMetrics."""
    ca_key, server_key, client_key = make_key(), make_key(), make_key()
    ca = make_cert("test-ca", ca_key, "test-ca", ca_key, ca=True)
    files = {
        "ca": write_pem(tmp_path / "ca.pem", ca),
        "server": write_pem(
            tmp_path / "server.pem", make_cert("localhost", server_key, "test-ca", ca_key, False, True)
        ),
        "server_key": write_pem(tmp_path / "server-key.pem", key=server_key),
        "client": write_pem(tmp_path / "client.pem", make_cert("scraper", client_key, "test-ca", ca_key, False)),
        "client_key": write_pem(tmp_path / "client-key.pem", key=client_key),
    }
    grpc_in, prom = free_port(), free_port()
    tls = {
        "cert_file": str(files["server"]),
        "key_file": str(files["server_key"]),
        "ca_file": str(files["ca"]),
        "client_ca_file": str(files["ca"]),
        "min_version": "1.2",
        "max_version": "1.3",
    }
    config = write_config(
        tmp_path,
        {
            "receivers": {"otlp": {"protocols": {"grpc": {"endpoint": f"127.0.0.1:{grpc_in}"}}}},
            "exporters": {
                "prometheus": {
                    "endpoint": f"127.0.0.1:{prom}",
                    "tls": tls,
                    "enable_open_metrics": True,
                    "response_headers": {"X-Served-By": "collector"},
                }
            },
            "service": {"pipelines": {"metrics": {"receivers": ["otlp"], "exporters": ["prometheus"]}}},
        },
    )
    url = f"https://127.0.0.1:{prom}/metrics"
    with run_collector(config) as process:
        wait_listening(process, grpc_in, prom)
        send_otlp(grpc_in, batch(0))
        client = (str(files["client"]), str(files["client_key"]))
        accept = {"Accept": "application/openmetrics-text; version=1.0.0"}

        def scraped():
            response = requests.get(url, verify=str(files["ca"]), cert=client, headers=accept, timeout=5)
            return response if "kafka_requests" in response.text else None

        response = wait_for(scraped, 20, "scrape over TLS")
        assert response.headers["X-Served-By"] == "collector"
        families = {f.name: f for f in parse_openmetrics(response.text)}
        assert {s.name for s in families["kafka_requests"].samples} >= {"kafka_requests_total"}
        try:
            requests.get(url, verify=str(files["ca"]), timeout=5)  # no client certificate
        except requests.exceptions.SSLError:
            pass
        except requests.exceptions.ConnectionError:
            pass
        else:
            raise AssertionError("a scrape without a client certificate was answered")


def test_otlp_json_has_hex_ids():
    """encoding: json writes OTLP/JSON as the spec has it (trace and span ids in hex)."""
    exemplar = Exemplar({}, 1.0, 5, span_id=0xAB, trace_id=0xCD)
    data = metrics_data(sum_metric("m", number_point(3, start=1, time=2, exemplars=[exemplar])))
    body = json.loads(otlp_json(to_request(data)))
    (exemplar_json,) = body["resourceMetrics"][0]["scopeMetrics"][0]["metrics"][0]["sum"]["dataPoints"][0]["exemplars"]
    assert exemplar_json["traceId"] == f"{0xCD:032x}" and exemplar_json["spanId"] == f"{0xAB:016x}"
