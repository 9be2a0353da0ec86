"""`collector healthcheck`: probe the health_check extension a config enables, for container health checks.

A container's HEALTHCHECK (Docker, ECS) runs a command inside the container; hard-coding
`localhost:13133` there breaks as soon as a user moves the endpoint. This command reads the same config
files `collector run` reads, with the same environment (so `HEALTH_CHECK_ENDPOINT` applies), and probes
the endpoint and path of every `health_check` extension listed in `service.extensions` (over TLS when
the extension has `tls`). It reads only
that part of the config: it must stay cheap, as it runs every health-check interval.

Exit 0 when every probe answers 200 (the body is printed: Docker keeps it in `docker inspect`), else 1
with the reason (Docker reserves exit 2).
"""

from __future__ import annotations

import argparse
import ssl
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass

from pydantic import ValidationError

from collector.component import Command
from collector.config import ConfigError, expand_env, join_path, load_files
from collector.confignet import split_endpoint
from collector.configtls import TLSServerConfig
from extensions.health_check.config import HealthCheckConfig

TYPE = "health_check"
UNHEALTHY = 1
WILDCARDS = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}  # listen-everywhere: probe loopback


@dataclass(frozen=True)
class Target:
    url: str
    tls: TLSServerConfig | None = None


def probe_targets(paths: list[str]) -> list[Target]:
    """What to probe for every enabled health_check extension in the merged config files."""
    raw = load_files(list(paths))
    service = raw.get("service") or {}
    extensions = raw.get("extensions") or {}
    targets = []
    for component_id in service.get("extensions") or []:
        if str(component_id).split("/", 1)[0] != TYPE:
            continue
        section = expand_env(extensions.get(component_id) or {}, path=join_path("extensions", component_id))
        config = HealthCheckConfig.model_validate(section)
        host, port = split_endpoint(config.endpoint)
        host = WILDCARDS.get(host, host)
        scheme = "https" if config.tls else "http"
        targets.append(Target(f"{scheme}://{f'[{host}]' if ':' in host else host}:{port}{config.path}", config.tls))
    return targets


def tls_context(tls: TLSServerConfig) -> ssl.SSLContext:
    """Trust exactly the certificate the endpoint is configured to present (it is this collector's own
    listener, reached by address, so no host name to check); under mutual TLS, offer that same
    certificate as the client's, which works when the client CA signed it."""
    context = ssl.create_default_context(cafile=tls.cert_file)
    context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN  # a CA-signed leaf is trusted as it stands
    context.check_hostname = False
    if tls.client_ca_file:
        context.load_cert_chain(tls.cert_file, tls.key_file)
    return context


def probe(target: Target, timeout: float) -> tuple[bool, str]:
    url = target.url
    try:
        context = tls_context(target.tls) if target.tls else None
        with urllib.request.urlopen(url, timeout=timeout, context=context) as response:
            return response.status == 200, response.read(2048).decode(errors="replace")
    except urllib.error.HTTPError as exc:  # 503 carries the same JSON body: say why
        return False, f"{url}: HTTP {exc.code} {exc.read(2048).decode(errors='replace')}"
    except OSError as exc:  # refused, timed out, TLS failures (ssl.SSLError is an OSError)
        return False, f"{url}: {getattr(exc, 'reason', None) or exc}"


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        action="append",
        metavar="FILE",
        required=True,
        help="the config file(s) `collector run` was given, in the same order",
    )
    parser.add_argument("--timeout", type=float, default=4.0, help="seconds per probe (default 4)")


def _run(args: argparse.Namespace) -> int:
    try:
        targets = probe_targets(args.config)
    except ConfigError as exc:
        print(f"collector healthcheck: {exc}", file=sys.stderr)
        return UNHEALTHY
    except (ValidationError, ValueError) as exc:
        print(f"collector healthcheck: invalid health_check config: {exc}", file=sys.stderr)
        return UNHEALTHY
    if not targets:
        print(f"collector healthcheck: no {TYPE} extension in service.extensions of {args.config}", file=sys.stderr)
        return UNHEALTHY
    healthy = True
    for target in targets:
        ok, detail = probe(target, args.timeout)
        healthy &= ok
        print(detail, file=sys.stdout if ok else sys.stderr)
    return 0 if healthy else UNHEALTHY


command = Command(
    help="probe the health_check endpoint the config enables (exit 0 healthy, 1 not): a container HEALTHCHECK",
    add_arguments=_add_arguments,
    run=_run,
)
