"""Debian's chromium, headless, as the zpages browser tests drive it (installed by
scripts/install-test-servers.d/chromium.sh). Each run gets a fresh profile; its network log tells which
requests the page itself made (the browser's own background requests are told apart by their network
isolation key: a page's requests carry its site as the top-frame site)."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

INSTALLER = "scripts/install-test-servers.d/chromium.sh"
FLAGS = (
    "--headless",
    "--no-sandbox",  # as root, chromium refuses to start with its sandbox
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
    "--hide-scrollbars",
)


def chromium() -> str:
    found = shutil.which("chromium")
    if not found:
        raise RuntimeError(f"chromium not found: run {INSTALLER}")
    return found


def run(url: str, workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tempfile.mkdtemp(prefix="chromium-profile-", dir=workdir)
    result = subprocess.run(
        [chromium(), *FLAGS, f"--user-data-dir={profile}", *args, url],
        capture_output=True,
        text=True,
        timeout=120,
    )
    shutil.rmtree(profile, ignore_errors=True)
    if result.returncode != 0:
        raise RuntimeError(f"chromium failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return result


def dump_dom(url: str, workdir: Path, *args: str) -> str:
    """The page as the browser parsed and rendered it, serialized back to HTML."""
    return run(url, workdir, *args, "--dump-dom").stdout


def screenshot(url: str, path: Path, workdir: Path, size: tuple[int, int] = (1280, 760)) -> None:
    run(url, workdir, f"--screenshot={path}", f"--window-size={size[0]},{size[1]}")


def page_requests(net_log: Path, page_url: str) -> list[str]:
    """Every URL the page's browsing context requested (navigation and subresources), from a net log
    written with `--log-net-log`."""
    log = json.loads(net_log.read_text())
    start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    parts = urlsplit(page_url)
    site = f"{parts.scheme}://{parts.hostname}"
    urls = []
    for event in log["events"]:
        params = event.get("params") or {}
        if event["type"] == start_job and "url" in params:
            top_frame_site = str(params.get("network_isolation_key", "")).split(" ")[0]
            if top_frame_site == site or params["url"] == page_url:
                urls.append(params["url"])
    return urls
