"""/debug/targetz in a real browser (Debian's chromium, headless) against the real Debezium test bed: the
connector with the lag JMX reports, a target whose server name is markup shown as text, nothing loaded
from outside loopback, the JSON the same as the page; and the README's screenshot, made the same way.

Set ZPAGES_SCREENSHOT=docs/zpages-targetz.png to refresh the committed screenshot from this run."""

from __future__ import annotations

import json
import os
import shutil
import struct
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.jmx import testbed
from tests.jmx.conftest import DebeziumBed
from tests.support import free_port, run_collector, wait_for, write_config
from tests.zpages import browser
from tests.zpages.data import assert_targetz_matches, data_value, parse_html

pytestmark = pytest.mark.integration

HOSTILE = "<img src=x onerror=alert(1)>"
HOSTILE_TAG = "<script>alert(2)</script>"
# A Debezium-shaped MBean whose server key and extra key (as `custom.metric.tags` adds) are markup: Debezium
# itself refuses such a topic.prefix, but an ObjectName value may hold it quoted, and any JVM can register it.
HOSTILE_BEAN = (
    f'debezium.mysql:type=connector-metrics,context=streaming,server="{HOSTILE}",team="{HOSTILE_TAG}"'
    "|MilliSecondsBehindSource,Connected"
)
STREAMING = "debezium.mysql:context=streaming,server=salesdb,type=connector-metrics"
SLOW = "1h"  # scraped once: what those targets show stays put while a test compares page and JSON


@dataclass
class Pages:
    base: str
    bed: DebeziumBed
    workdir: Path

    def url(self, page: str, fmt: str = "") -> str:
        return f"{self.base}/debug/{page}" + (f"?format={fmt}" if fmt else "")

    def json(self, page: str = "targetz") -> dict[str, Any]:
        with urllib.request.urlopen(self.url(page, "json"), timeout=10) as response:
            return json.load(response)

    def dom(self, page: str = "targetz", *args: str) -> str:
        return browser.dump_dom(self.url(page), self.workdir, *args)


def connector(data: dict[str, Any], server: str) -> dict[str, Any] | None:
    found = [c for t in data["targets"] for c in t["connectors"] if server in c["server"]]
    return found[0] if found else None


def scraped_connector(data: dict[str, Any], server: str) -> dict[str, Any]:
    """The connector of `server`, which the page has shown before."""
    found = connector(data, server)
    assert found is not None, f"no connector of {server} on the page"
    return found


@pytest.fixture(scope="module")
def pages(debezium: DebeziumBed, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pages]:
    workdir = tmp_path_factory.mktemp("zpages")
    port = free_port()
    receiver = {"target_system": "debezium-mysql", "initial_delay": "0s"}
    with testbed.edge_case_target("--beans", HOSTILE_BEAN) as hostile:
        config = {
            "receivers": {
                "jmx/debezium": {**receiver, "endpoint": debezium.target.endpoint, "collection_interval": "10s"},
                "jmx/hostile": {**receiver, "endpoint": hostile.endpoint, "collection_interval": SLOW},
                "jmx/stopped-worker": {**receiver, "endpoint": f"127.0.0.1:{free_port()}", "collection_interval": SLOW},
            },
            "exporters": {"file": {"path": str(workdir / "out.jsonl")}},
            "extensions": {"zpages": {"endpoint": f"127.0.0.1:{port}"}},
            "service": {
                "extensions": ["zpages"],
                "pipelines": {
                    "metrics": {
                        "receivers": ["jmx/debezium", "jmx/hostile", "jmx/stopped-worker"],
                        "exporters": ["file"],
                    }
                },
            },
        }
        with run_collector(write_config(workdir, config)) as collector:
            result = Pages(f"http://127.0.0.1:{port}", debezium, workdir)

            def scraped_all() -> bool:
                assert collector.process.poll() is None, collector.logs()
                try:
                    data = result.json()
                except OSError:  # not listening yet
                    return False
                return len([t for t in data["targets"] if t["last_scrape"]]) == 3 and bool(connector(data, HOSTILE))

            wait_for(scraped_all, 90, "zpages shows all three targets scraped", interval=1)
            yield result


def streaming_lag(bed: DebeziumBed) -> int:
    return int(testbed.jmx_dump(bed.target.service_url, STREAMING)[(STREAMING, "MilliSecondsBehindSource")])


def test_page_shows_the_connector_with_the_lag_jmx_reports(pages: Pages) -> None:
    pages.bed.db.sql("INSERT INTO sales.customers (name) VALUES ('zpages')")
    jmx_lag = (
        wait_for(lambda: (lag := streaming_lag(pages.bed)) >= 0 and lag + 1, 60, "Debezium lag after an insert") - 1
    )
    wait_for(lambda: (connector(pages.json(), "salesdb") or {}).get("lag_ms") == jmx_lag, 60, "lag scraped")
    assert streaming_lag(pages.bed) == jmx_lag, "no event since: the lag JMX reports stays put"

    root = parse_html(pages.dom())
    rows = {r.find_all("strong", "server")[0].all_text(): r for r in root.find_all("tr", "connector")}
    cells = [c for c in rows["salesdb"].children if c.tag == "td"]
    assert data_value(cells[1]) == jmx_lag
    assert cells[2].find_all("svg") and cells[2].find_all("polyline"), "the lag sparkline"
    values = testbed.jmx_dump(pages.bed.target.service_url, "debezium.mysql:server=salesdb,*")
    assert cells[4].all_text() == {"true": "yes", "false": "no"}[values[(STREAMING, "Connected")]]
    snapshot = "debezium.mysql:context=snapshot,server=salesdb,type=connector-metrics"
    assert values[(snapshot, "SnapshotCompleted")] == "true" and cells[5].all_text().startswith("completed")
    schema = "debezium.mysql:context=schema-history,server=salesdb,type=connector-metrics"
    assert cells[6].all_text() == values[(schema, "Status")].lower()


def test_a_server_name_that_is_markup_shows_as_text(pages: Pages) -> None:
    dom = pages.dom()
    root = parse_html(dom)
    assert not root.find_all("img") and not root.find_all("script"), "the target's markup became an element"
    servers = [s.all_text() for s in root.find_all("strong", "server")]
    hostile = [s for s in servers if HOSTILE in s]
    assert hostile and hostile[0] == scraped_connector(pages.json(), HOSTILE)["server"]
    assert "&lt;img src=x onerror=alert(1)&gt;" in dom
    assert any(HOSTILE_TAG in tag.all_text() for tag in root.find_all("span", "tag"))


def test_the_page_loads_nothing_from_outside_loopback(pages: Pages) -> None:
    net_log = pages.workdir / "net-log.json"
    dom = pages.dom("targetz", f"--log-net-log={net_log}")
    requested = browser.page_requests(net_log, pages.url("targetz"))
    assert pages.url("targetz") in requested
    assert all(url.startswith(pages.base + "/") or url.startswith("data:") for url in requested), requested
    root = parse_html(dom)
    references = [v for e in root.find_all("a") + root.find_all("link") for k, v in e.attrs.items() if k == "href"]
    assert references and all(r.startswith("/debug/") or r in ("?format=json", "data:,") for r in references)
    with urllib.request.urlopen(pages.url("targetz"), timeout=10) as response:
        policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy and "http" not in policy


def test_the_json_matches_the_page(pages: Pages) -> None:
    """Fetched around the browser's load; compared when nothing was scraped in between (retried)."""
    for _ in range(8):
        before = pages.json()
        root = parse_html(pages.dom())
        after = pages.json()
        if before["targets"] == after["targets"]:
            break
    else:
        pytest.fail("every try overlapped a scrape")
    assert [t["receiver"] for t in before["targets"]] == ["jmx/stopped-worker", "jmx/debezium", "jmx/hostile"]
    assert before["targets"][0]["up"] is False and before["targets"][0]["errors"] == {"unreachable": 1}
    assert_targetz_matches(root, before)


def test_other_pages_render_in_the_browser(pages: Pages) -> None:
    service = parse_html(pages.dom("servicez"))
    assert "jmx/debezium" in service.find_all("pre")[0].all_text()
    pipelines = parse_html(pages.dom("pipelinez")).all_text()
    assert "jmx/stopped-worker" in pipelines and "degraded" in pipelines and "0 / 1000" in pipelines
    assert "127.0.0.1" in parse_html(pages.dom("extensionz")).find_all("pre")[0].all_text()


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def test_screenshot(pages: Pages) -> None:
    """The README's picture: the page drawn by chromium (written to $ZPAGES_SCREENSHOT when set)."""
    readings = len(scraped_connector(pages.json(), "salesdb")["lag_history"])
    pages.bed.db.sql("INSERT INTO sales.orders (customer, total) VALUES (2, 9.99)")  # some movement to draw
    wait_for(lambda: len(scraped_connector(pages.json(), "salesdb")["lag_history"]) > readings, 30, "one more scrape")
    shot = pages.workdir / "targetz.png"
    browser.screenshot(pages.url("targetz"), shot, pages.workdir)
    assert png_size(shot) == (1280, 760)
    assert 10_000 < shot.stat().st_size < 200_000
    if os.environ.get("ZPAGES_SCREENSHOT"):
        shutil.copyfile(shot, os.environ["ZPAGES_SCREENSHOT"])
