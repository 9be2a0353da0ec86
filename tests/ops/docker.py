"""A Docker engine and the collector's image for the container tests, built for real.

No image registry is reachable where the tests run, so the Dockerfile's default base
(python:3.11-slim-bookworm) cannot be pulled: a stand-in with the same shape is built from Debian packages
(debootstrap bookworm: Python 3.11, venv, CA certificates, /usr/local/bin/python3) and `docker import`ed
under a tag naming its recipe. It is built once per machine; the image build on top reuses Docker's layer
cache, so a second run costs seconds.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.support import REPO, terminate

INSTALLER = "scripts/install-test-servers.d/docker.sh"
ENGINE_START_TIMEOUT_S = 60
IMAGE = "jmx-otel-collector:test"
NO_COMPOSE = f"neither `docker compose` nor `docker-compose` is installed: run {INSTALLER}"
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
# The stand-in base: what python:3.11-slim-bookworm offers a Dockerfile (python3 3.11 on /usr/local/bin,
# venv, apt sources for bookworm), plus this machine's CA bundle so pip and apt in the build trust whatever
# TLS the network in between presents.
STANDIN_SUITE = "bookworm"
STANDIN_PACKAGES = ("python3", "python3-venv", "ca-certificates")
STANDIN_MIRROR = "http://deb.debian.org/debian"
STANDIN_ENV = (
    f"PIP_CERT={CA_BUNDLE}",
    f"SSL_CERT_FILE={CA_BUNDLE}",
    f"REQUESTS_CA_BUNDLE={CA_BUNDLE}",
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG=C.UTF-8",
)


class EngineUnavailable(RuntimeError):
    """No Docker engine runs and none could be started here: the reason, for a loud skip."""


def docker(*args: str, timeout: float = 120, check: bool = True, **kwargs: object) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, **kwargs)  # type: ignore[call-overload]
    if check and result.returncode != 0:
        raise RuntimeError(f"docker {' '.join(args[:3])} ... failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return result


def engine_running() -> bool:
    if not shutil.which("docker"):
        return False
    return subprocess.run(["docker", "info"], capture_output=True, timeout=30).returncode == 0


@dataclass
class Engine:
    """The engine the tests use; `process` is set when the tests started dockerd themselves."""

    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    def stop(self) -> None:
        terminate(self.process)


def start_engine(log_dir: Path) -> Engine:
    """The running engine, or dockerd started as root with its log in `log_dir`; EngineUnavailable if neither."""
    if engine_running():
        return Engine()
    dockerd = shutil.which("dockerd") or ("/usr/sbin/dockerd" if Path("/usr/sbin/dockerd").exists() else None)
    if not shutil.which("docker") or not dockerd:
        raise EngineUnavailable(f"no docker CLI or dockerd on this machine: run {INSTALLER}")
    if os.geteuid() != 0:
        raise EngineUnavailable("dockerd is installed but not running, and only root can start it")
    log_path = log_dir / "dockerd.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen([dockerd], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    engine = Engine(process, log_path)
    deadline = time.monotonic() + ENGINE_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if engine_running():
            return engine
        if process.poll() is not None:
            break
        time.sleep(0.5)
    engine.stop()
    tail = log_path.read_text(errors="replace")[-2000:]
    raise EngineUnavailable(f"dockerd did not come up within {ENGINE_START_TIMEOUT_S}s; its log ends:\n{tail}")


def standin_tag() -> str:
    """The stand-in's tag: a digest of its recipe (this file's constants and the CA bundle it copies in)."""
    recipe = "\n".join([STANDIN_SUITE, STANDIN_MIRROR, *STANDIN_PACKAGES, *STANDIN_ENV, "minbase", "links-v1"])
    digest = hashlib.sha256(recipe.encode() + CA_BUNDLE.read_bytes()).hexdigest()[:12]
    return f"jmx-otel-collector-standin:{STANDIN_SUITE}-{digest}"


def standin_base_image() -> str:
    """The stand-in base image's tag, built (debootstrap + docker import) only when missing."""
    tag = standin_tag()
    if docker("image", "inspect", tag, check=False).returncode == 0:
        return tag
    debootstrap = shutil.which("debootstrap") or "/usr/sbin/debootstrap"
    if not Path(debootstrap).exists():
        raise RuntimeError(f"debootstrap not found: run {INSTALLER}")
    with tempfile.TemporaryDirectory(prefix="standin-", dir="/var/tmp") as scratch:
        root = Path(scratch) / "root"
        include = f"--include={','.join(STANDIN_PACKAGES)}"
        result = subprocess.run(
            [debootstrap, "--variant=minbase", include, STANDIN_SUITE, str(root), STANDIN_MIRROR],
            capture_output=True,
            text=True,
            timeout=1200,
        )
        if result.returncode != 0:
            raise RuntimeError(f"debootstrap failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
        for name in ("python3", "python"):
            link = root / "usr/local/bin" / name
            link.unlink(missing_ok=True)
            link.symlink_to("/usr/bin/python3")
        shutil.copyfile(CA_BUNDLE, root / str(CA_BUNDLE).lstrip("/"))
        shutil.rmtree(root / "var/cache/apt/archives", ignore_errors=True)
        (root / "var/cache/apt/archives/partial").mkdir(parents=True)
        changes = [arg for env in STANDIN_ENV for arg in ("--change", f"ENV {env}")]
        tar = subprocess.Popen(["tar", "-C", str(root), "--numeric-owner", "-c", "."], stdout=subprocess.PIPE)
        docker("import", *changes, "-", tag, stdin=tar.stdout, timeout=600)
        tar.wait(60)
    return tag


def build_image(base: str, tag: str = IMAGE) -> str:
    """`docker build` of the repository's Dockerfile on `base`, with the host's network (apt and pip)."""
    docker("build", "--network", "host", "--build-arg", f"BASE_IMAGE={base}", "-t", tag, str(REPO), timeout=1800)
    return tag


def image_size(tag: str) -> int:
    return int(docker("image", "inspect", "--format", "{{.Size}}", tag).stdout.strip())


def compose_command() -> list[str] | None:
    """`docker compose` (the CLI plugin) or Debian's `docker-compose`, whichever is installed."""
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    standalone = shutil.which("docker-compose")
    return [standalone] if standalone else None
