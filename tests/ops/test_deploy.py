"""deploy/: every manifest checked by the platform's own validator, and against the collector itself.

- Kubernetes: kubernetes-validate in strict mode (unknown keys rejected) against the newest schema it
  ships; the ConfigMap holds the shipped config verbatim and `collector validate` accepts what it mounts.
- ECS: botocore's ParamValidator against the `ecs` RegisterTaskDefinition input shape; the IAM policy's
  actions are exactly the AWS API calls the awsemf and awscloudwatch exporters make (read from their
  source and mapped to API names by botocore's service models), scoped to the shipped log group and
  namespace.
- docker compose: `docker compose config` or `docker-compose config`, where either is installed.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from pathlib import Path

import botocore.session
import kubernetes_validate
import pytest
import yaml
from botocore.validate import ParamValidator
from kubernetes_validate.utils import ValidationError as KubernetesValidationError

from tests.ops import docker
from tests.support import REPO

DEPLOY = REPO / "deploy"
SHIPPED_CONFIG = yaml.safe_load((REPO / "otel-config.yaml").read_text(encoding="utf-8"))
# exporter folder -> the botocore service its client talks to
EXPORTER_SERVICES = {"awsemf": "logs", "awscloudwatch": "cloudwatch"}
RSS_FIGURES_MIB = ("collector_rss_mib", "gateway_rss_mib")


def kubernetes_documents() -> list[dict]:
    text = (DEPLOY / "kubernetes" / "collector.yaml").read_text(encoding="utf-8")
    return [doc for doc in yaml.safe_load_all(text) if doc]


def by_kind(kind: str) -> dict:
    (found,) = [doc for doc in kubernetes_documents() if doc["kind"] == kind]
    return found


def test_kubernetes_manifests_pass_strict_validation():
    version = kubernetes_validate.latest_version()
    kinds = []
    for document in kubernetes_documents():
        kubernetes_validate.validate(document, version, strict=True)
        kinds.append(document["kind"])
    assert {"Deployment", "ConfigMap", "Service"} <= set(kinds)
    # The validator is strict: a misspelt key fails (so the pass above means something).
    broken = copy.deepcopy(by_kind("Deployment"))
    broken["spec"]["template"]["spec"]["containers"][0]["securityContext"]["readOnlyRootFileSystem"] = True
    with pytest.raises(KubernetesValidationError):
        kubernetes_validate.validate(broken, version, strict=True)


def test_kubernetes_pod_is_hardened_and_probed_on_health_check():
    pod = by_kind("Deployment")["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] == 10001
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True and security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    env = {item["name"]: item["value"] for item in container["env"]}
    health_port = int(env["HEALTH_CHECK_ENDPOINT"].rsplit(":", 1)[1])
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert ports["health"] == health_port
    health_path = SHIPPED_CONFIG["extensions"]["health_check"].get("path", "/")
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        assert container[probe]["httpGet"] == {"path": health_path, "port": "health"}, probe
    service_ports = {port["targetPort"] for port in by_kind("Service")["spec"]["ports"]}
    assert service_ports == {"health", "metrics"}
    # The drain on SIGTERM fits in the pod's grace period.
    assert pod["terminationGracePeriodSeconds"] > 30


def test_kubernetes_memory_is_sized_from_the_measured_rss():
    """Request above the measured collector + gateway RSS (docs/performance.md), limit above the request."""
    table = (REPO / "docs" / "performance.md").read_text(encoding="utf-8")
    measured = sum(float(re.search(rf"^\| {name} \| ([0-9.]+) \|", table, re.M).group(1)) for name in RSS_FIGURES_MIB)
    (container,) = by_kind("Deployment")["spec"]["template"]["spec"]["containers"]
    resources = container["resources"]
    request, limit = (int(resources[k]["memory"].removesuffix("Mi")) for k in ("requests", "limits"))
    assert measured < request <= limit, (measured, request, limit)
    # memory_limiter refuses data at limit_percentage of the container limit: that must still fit the RSS.
    assert limit * SHIPPED_CONFIG["processors"]["memory_limiter"]["limit_percentage"] / 100 > measured


def test_kubernetes_config_map_is_the_shipped_config_and_validates(tmp_path):
    data = by_kind("ConfigMap")["data"]
    assert data["otel-config.yaml"] == (REPO / "otel-config.yaml").read_text(encoding="utf-8")
    (container,) = by_kind("Deployment")["spec"]["template"]["spec"]["containers"]
    args = container["args"]
    assert args[0] == "run"
    configs = [args[i + 1] for i, arg in enumerate(args) if arg == "--config"]
    mount = next(m["mountPath"] for m in container["volumeMounts"] if m["name"] == "config")
    files = []
    for config in configs:
        assert config.startswith(mount + "/"), config
        files += ["--config", str(tmp_path / Path(config).name)]
        (tmp_path / Path(config).name).write_text(data[Path(config).name], encoding="utf-8")
    env = {item["name"]: item["value"] for item in container["env"]}
    result = subprocess.run(
        [sys.executable, "-m", "collector", "validate", *files], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr


def ecs_task_definition() -> dict:
    return json.loads((DEPLOY / "ecs" / "task-definition.json").read_text(encoding="utf-8"))


def test_ecs_task_definition_matches_register_task_definition():
    shape = botocore.session.get_session().get_service_model("ecs").operation_model("RegisterTaskDefinition")
    validator = ParamValidator()
    report = validator.validate(ecs_task_definition(), shape.input_shape)
    assert not report.has_errors(), report.generate_report()
    broken = ecs_task_definition()
    broken["containerDefinitions"][0]["healthCheck"]["interval"] = "30"
    assert validator.validate(broken, shape.input_shape).has_errors()


def test_ecs_container_is_hardened_and_logs_to_cloudwatch():
    task = ecs_task_definition()
    assert task["requiresCompatibilities"] == ["FARGATE"] and task["networkMode"] == "awsvpc"
    (container,) = task["containerDefinitions"]
    assert container["readonlyRootFilesystem"] is True and container["user"].split(":")[0] == "10001"
    assert container["linuxParameters"]["capabilities"]["drop"] == ["ALL"]
    assert {m["containerPath"] for m in container["mountPoints"]} == {"/tmp"}
    assert container["healthCheck"]["command"][:3] == ["CMD", "collector", "healthcheck"]
    assert container["stopTimeout"] > 30
    logs = container["logConfiguration"]
    assert logs["logDriver"] == "awslogs"
    assert logs["options"]["awslogs-group"] == SHIPPED_CONFIG["exporters"]["awsemf"]["log_group_name"]


def called_actions() -> dict[str, set[str]]:
    """`<service>:<Api>` for every `self.client.<method>(` the AWS exporters' code calls or passes on."""
    session = botocore.session.get_session()
    actions: dict[str, set[str]] = {}
    for folder, service in EXPORTER_SERVICES.items():
        client = session.create_client(
            service, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
        )
        mapping = client.meta.method_to_api_mapping
        for source in (REPO / "exporters" / folder).glob("*.py"):
            for method in re.findall(r"self\.client\.([a-z_]+)", source.read_text(encoding="utf-8")):
                if method in mapping:
                    actions.setdefault(service, set()).add(f"{service}:{mapping[method]}")
    return actions


def test_iam_policy_grants_exactly_what_the_exporters_call():
    policy = json.loads((DEPLOY / "ecs" / "task-role-policy.json").read_text(encoding="utf-8"))
    assert policy["Version"] == "2012-10-17"
    granted: dict[str, set[str]] = {}
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        for action in statement["Action"]:
            assert "*" not in action, action
            granted.setdefault(action.split(":")[0], set()).add(action)
    calls = called_actions()
    assert calls.keys() == set(EXPORTER_SERVICES.values()), calls
    assert granted == calls

    logs, metrics = (
        next(s for s in policy["Statement"] if s["Action"][0].startswith(p)) for p in ("logs:", "cloudwatch:")
    )
    group = SHIPPED_CONFIG["exporters"]["awsemf"]["log_group_name"]
    assert sorted(logs["Resource"]) == sorted(
        [f"arn:aws:logs:*:*:log-group:{group}", f"arn:aws:logs:*:*:log-group:{group}:log-stream:*"]
    )
    namespace = re.sub(r"\$\{env:[A-Z_]+:-(.*)\}", r"\1", SHIPPED_CONFIG["exporters"]["awsemf"]["namespace"])
    assert metrics["Condition"] == {"StringEquals": {"cloudwatch:namespace": namespace}}


def test_docker_compose_file_is_valid_and_runs_the_demo_pair():
    command = docker.compose_command()
    if command is None:
        pytest.skip(docker.NO_COMPOSE)
    result = subprocess.run(
        [*command, "-f", str(DEPLOY / "docker-compose.yaml"), "config"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    assert set(services) == {"demo", "collector"}
    assert services["demo"]["command"][:2] == ["demo", "--target-only"]
    assert services["collector"]["environment"]["JMX_ENDPOINT"].startswith("demo:")
    for service in services.values():
        assert service["read_only"] is True and service["cap_drop"] == ["ALL"] and service["user"].startswith("10001")
