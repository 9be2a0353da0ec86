"""`collector healthcheck`: probe the health_check extension a config enables, for container health checks.

A container's HEALTHCHECK (Docker, ECS) runs a command inside the container; hard-coding
`localhost:13133` there breaks as soon as a user moves the endpoint. This command reads the same config
files `collector run` reads, with the same environment (so `HEALTH_CHECK_ENDPOINT` applies), and probes
the endpoint and path of every `health_check` extension listed in `service.extensions`. It reads only
that part of the config: it must stay cheap, as it runs every health-check interval.

Exit 0 when every probe answers 200 (the body is printed: Docker keeps it in `docker inspect`), else 1
with the reason (Docker reserves exit 2).
"""

from __future__ import annotations

import argparse
import sys
import urllib.error
import urllib.request

from pydantic import ValidationError

from collector.component import Command
from collector.config import ConfigError, expand_env, join_path, load_files
from collector.confignet import split_endpoint
from extensions.health_check.extension import HealthCheckConfig

TYPE = "health_check"
UNHEALTHY = 1
WILDCARDS = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}  # listen-everywhere: probe loopback


def probe_urls(paths: list[str]) -> list[str]:
    """The URL of every enabled health_check extension in the merged config files."""
    raw = load_files(list(paths))
    service = raw.get("service") or {}
    extensions = raw.get("extensions") or {}
    urls = []
    for component_id in service.get("extensions") or []:
        if str(component_id).split("/", 1)[0] != TYPE:
            continue
        section = expand_env(extensions.get(component_id) or {}, path=join_path("extensions", component_id))
        config = HealthCheckConfig.model_validate(section)
        host, port = split_endpoint(config.endpoint)
        host = WILDCARDS.get(host, host)
        urls.append(f"http://{f'[{host}]' if ':' in host else host}:{port}{config.path}")
    return urls


def probe(url: str, timeout: float) -> tuple[bool, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status == 200, response.read(2048).decode(errors="replace")
    except urllib.error.HTTPError as exc:  # 503 carries the same JSON body: say why
        return False, f"{url}: HTTP {exc.code} {exc.read(2048).decode(errors='replace')}"
    except OSError as exc:
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
        urls = probe_urls(args.config)
    except ConfigError as exc:
        print(f"collector healthcheck: {exc}", file=sys.stderr)
        return UNHEALTHY
    except (ValidationError, ValueError) as exc:
        print(f"collector healthcheck: invalid health_check config: {exc}", file=sys.stderr)
        return UNHEALTHY
    if not urls:
        print(f"collector healthcheck: no {TYPE} extension in service.extensions of {args.config}", file=sys.stderr)
        return UNHEALTHY
    healthy = True
    for url in urls:
        ok, detail = probe(url, args.timeout)
        healthy &= ok
        print(detail, file=sys.stdout if ok else sys.stderr)
    return 0 if healthy else UNHEALTHY


command = Command(
    help="probe the health_check endpoint the config enables (exit 0 healthy, 1 not): a container HEALTHCHECK",
    add_arguments=_add_arguments,
    run=_run,
)
