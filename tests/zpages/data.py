"""Debezium-shaped batches as the jmx receiver emits them (metric names of the debezium-mysql preset),
and an HTML reader for assertions: the page parsed by a real HTML parser, as a browser would."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from collector.testing import Metric, MetricsData, gauge, metrics_data, number_point, sum_metric


def debezium_batch(
    server: str,
    at: float,
    lag_ms: float | None = None,
    events: float | None = None,
    connected: bool | None = None,
    snapshot: str | None = None,
    tables: tuple[int, int] | None = None,
    schema_history: str | None = None,
    resource: dict[str, Any] | None = None,
    **tags: str,
) -> MetricsData:
    """One scrape of one connector: only the metrics given (None leaves a metric out)."""
    attributes = {"server": server, "plugin": "mysql", **tags}
    now = int(at * 1e9)

    def level(name: str, value: float) -> Metric:
        return gauge(name, value, attributes=attributes, time=now, unit="1")

    metrics = []
    if lag_ms is not None:
        metrics.append(level("debezium.streaming.MilliSecondsBehindSource", lag_ms))
    if events is not None:
        events_seen = number_point(events, attributes, start=1, time=now)
        metrics.append(sum_metric("debezium.streaming.TotalNumberOfEventsSeen", events_seen, unit="{event}"))
    if connected is not None:
        metrics.append(level("debezium.streaming.Connected", int(connected)))
    if snapshot is not None:
        for state in ("Running", "Paused", "Completed", "Aborted", "Skipped"):
            metrics.append(level(f"debezium.snapshot.Snapshot{state}", int(state.lower() == snapshot)))
    if tables is not None:
        metrics.append(level("debezium.snapshot.TotalTableCount", tables[0]))
        metrics.append(level("debezium.snapshot.RemainingTableCount", tables[1]))
    if schema_history is not None:
        states = [
            number_point(int(s == schema_history), {**attributes, "state": s}, time=now)
            for s in ("running", "recovering", "stopped", "unknown")
        ]
        metrics.append(gauge("debezium.schema_history.Status", *states, unit="1"))
    return metrics_data(*metrics, resource=resource, scope="test")


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    text: str = ""
    children: list[Element] = field(default_factory=list)

    def find_all(self, tag: str, cls: str | None = None) -> list[Element]:
        found = []
        for child in self.children:
            if child.tag == tag and (cls is None or cls in child.attrs.get("class", "").split()):
                found.append(child)
            found.extend(child.find_all(tag, cls))
        return found

    def all_text(self) -> str:
        return self.text + "".join(c.all_text() for c in self.children)


VOID = {"meta", "link", "br", "img", "input", "hr", "area", "base", "col", "embed", "source", "track", "wbr"}


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#root", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(element)
        if tag not in VOID:
            self.stack.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Element(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        # text after a child element is kept in order as a text child, so all_text reads as displayed
        self.stack[-1].children.append(Element("#text", {}, data))


def parse_html(text: str) -> Element:
    builder = _Builder()
    builder.feed(text)
    builder.close()
    return builder.root


def data_value(cell: Element) -> float | None:
    """The `<data value>` inside a cell, or None when the cell shows `—`."""
    found = cell.find_all("data")
    return float(found[0].attrs["value"]) if found else None


def assert_targetz_matches(root: Element, data: dict[str, Any]) -> None:
    """Every target and connector in the JSON is on the page, in order, with the same values."""
    rows = root.find_all("tr", "target")
    assert [r.find_all("strong", "name")[0].all_text() for r in rows] == [t["name"] for t in data["targets"]]
    for row, target in zip(rows, data["targets"], strict=True):
        cells = [c for c in row.children if c.tag == "td"]
        assert data_value(cells[4]) == target["points"]
        assert data_value(cells[3]) == target["last_duration_ms"]
        state = cells[1].all_text()
        assert (
            state.split()[0]
            == {True: "up", False: "down", None: "pushed" if not target["scraped"] else "unknown"}[target["up"]]
        )
    connectors = root.find_all("tr", "connector")
    expected = [c for t in data["targets"] for c in t["connectors"]]
    assert [c.find_all("strong", "server")[0].all_text() for c in connectors] == [c["server"] for c in expected]
    for row, connector in zip(connectors, expected, strict=True):
        cells = [c for c in row.children if c.tag == "td"]
        assert data_value(cells[1]) == connector["lag_ms"]
        assert data_value(cells[3]) == connector["events_per_s"]
        shown = {True: "yes", False: "no", None: "unknown"}[connector["connected"]]
        assert cells[4].all_text() == shown
        assert cells[5].all_text().startswith(connector["snapshot"]["state"])
        assert cells[6].all_text() == (connector["schema_history"] or "unknown")
