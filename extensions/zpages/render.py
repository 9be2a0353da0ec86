"""Server-rendered HTML for the pages: no script, no external asset, one inline stylesheet allowed by its
hash in the Content-Security-Policy. Every string that reaches the page goes through `esc` (a target's
MBean names, server names, tags and messages are data, never markup); numbers go out as numbers.

Each page is drawn from the same dict `?format=json` returns, so the two cannot disagree. Machine-readable
values sit in `<data value>` and `<time datetime>` elements beside their human form.
"""

from __future__ import annotations

import base64
import hashlib
import html
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import yaml

from extensions.zpages.connectors import SPARK_COLUMNS

PAGES = (
    ("servicez", "Service"),
    ("pipelinez", "Pipelines"),
    ("extensionz", "Extensions"),
    ("targetz", "Targets"),
)
SPARK_W, SPARK_H = SPARK_COLUMNS, 24

STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1b1f24;background:#f6f7f9}
header{background:#1f2a37;color:#fff;padding:.5rem 1rem;display:flex;gap:1.5rem;align-items:baseline;flex-wrap:wrap}
header a{color:#cfe3ff;text-decoration:none;margin-right:1rem}header a.here{color:#fff;font-weight:600}
header .meta{margin-left:auto;color:#aab6c4;font-size:12px}
main{padding:1rem}h1{font-size:18px;margin:.2rem 0 1rem}h2{font-size:15px;margin:1.2rem 0 .4rem}
table{border-collapse:collapse;background:#fff;width:100%;margin-bottom:1rem}
th,td{border-bottom:1px solid #e3e6ea;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#eef1f4;font-weight:600;font-size:12px;color:#4a5563}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.ok,.up,.yes{color:#137333;font-weight:600}.down,.fatal,.no{color:#b3261e;font-weight:600}
.degraded,.warn{color:#9a5b00;font-weight:600}.muted,.unknown{color:#6b7785}
tr.connectors>td{background:#fafbfc;padding:.2rem .5rem .6rem 2rem}
tr.connectors table{margin:0}svg.spark{color:#1a73e8;vertical-align:middle}
pre{background:#fff;border:1px solid #e3e6ea;padding:.6rem;overflow:auto;font-size:12px}
.tag{display:inline-block;background:#eef1f4;border-radius:3px;padding:0 .3rem;margin:0 .2rem .1rem 0;font-size:12px}
"""
STYLE_HASH = "sha256-" + base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
CSP = (
    f"default-src 'none'; style-src '{STYLE_HASH}'; img-src data:; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def page(name: str, title: str, refresh_s: float, generated_at: float, body: str) -> str:
    nav = "".join(f'<a href="/debug/{key}"{" class=here" if key == name else ""}>{label}</a>' for key, label in PAGES)
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="refresh" content="{int(refresh_s)}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">'
        f"<title>{esc(title)} · zpages</title><style>{STYLE}</style></head><body>"
        f'<header><strong>jmx-otel-collector</strong><nav>{nav}</nav><span class="meta">{when(generated_at)}'
        f' · refreshes every {int(refresh_s)} s · <a href="?format=json">JSON</a></span></header>'
        f"<main><h1>{esc(title)}</h1>{body}</main></body></html>"
    )


# Values -----------------------------------------------------------------------------------------------
def when(at: float | None) -> str:
    """A time as `<time datetime>` (UTC ISO) showing HH:MM:SS UTC."""
    if at is None:
        return '<span class="muted">never</span>'
    iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at))
    return f'<time datetime="{iso}">{time.strftime("%H:%M:%S", time.gmtime(at))} UTC</time>'


def ago(at: float | None, now: float) -> str:
    return "" if at is None else f' <span class="muted">({duration(now - at)} ago)</span>'


def duration(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.0f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours < 48 else f"{hours // 24}d{hours % 24:02d}h"


def number(value: float | None, text: str | None = None) -> str:
    """A number as `<data value>` with its human form; `—` when unknown."""
    if value is None:
        return '<span class="muted">—</span>'
    shown = text if text is not None else (f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}")
    return f'<data value="{value}">{esc(shown)}</data>'


def millis(ms: float | None) -> str:
    if ms is None:
        return number(None)
    return number(ms, f"{ms:,.0f} ms" if ms < 10_000 else duration(ms / 1000))


def flag(value: bool | None, yes: str = "yes", no: str = "no") -> str:
    if value is None:
        return '<span class="unknown">unknown</span>'
    return f'<span class="{"yes" if value else "no"}">{yes if value else no}</span>'


def status(text: str, detail: str = "") -> str:
    word = esc(text)
    shown = f'<span class="{word}">{word}</span>'
    return f'{shown}<br><span class="muted">{esc(detail)}</span>' if detail else shown


def tags(attributes: Mapping[str, Any], skip: Iterable[str] = ()) -> str:
    hidden = set(skip)
    return "".join(f'<span class="tag">{esc(k)}={esc(v)}</span>' for k, v in attributes.items() if k not in hidden)


def config_block(config: Mapping[str, Any]) -> str:
    return f"<pre>{esc(yaml.safe_dump(dict(config), sort_keys=False, default_flow_style=False).strip() or '{}')}</pre>"


def sparkline(points: Sequence[Sequence[float]], now: float, window_s: float) -> str:
    """The series over [now - window, now] as an inline SVG polyline, one point per pixel column at most
    (the highest reading in each column, so a spike is never averaged away)."""
    if not points:
        return '<span class="muted">no data</span>'
    start = now - window_s
    columns: dict[int, float] = {}
    for at, value in points:
        column = min(SPARK_W - 1, max(0, int((at - start) / window_s * (SPARK_W - 1))))
        columns[column] = max(value, columns.get(column, value))
    top = max(columns.values()) or 1.0
    xy = [(x, round(SPARK_H - 1 - (v / top) * (SPARK_H - 2), 1)) for x, v in sorted(columns.items())]
    coords = " ".join(f"{x},{y}" for x, y in xy)
    label = f"lag over the last {duration(window_s)}: max {top:,.0f} ms"
    return (
        f'<svg class="spark" width="{SPARK_W}" height="{SPARK_H}" viewBox="0 0 {SPARK_W} {SPARK_H}" role="img" '
        f'aria-label="{esc(label)}"><title>{esc(label)}</title>'
        f'<line x1="0" y1="{SPARK_H - 0.5}" x2="{SPARK_W}" y2="{SPARK_H - 0.5}" stroke="#d5dae0"/>'  # the hour
        f'<polyline fill="none" stroke="currentColor" stroke-width="1.5" points="{coords}"/>'
        f'<circle cx="{xy[-1][0]}" cy="{xy[-1][1]}" r="2" fill="currentColor"/></svg>'  # now, even alone
    )


def table(headers: Sequence[str], rows: Iterable[str], empty: str) -> str:
    body = "".join(rows)
    if not body:
        return f'<p class="muted">{esc(empty)}</p>'
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


# Pages ------------------------------------------------------------------------------------------------
def servicez(data: Mapping[str, Any]) -> str:
    facts = [
        ("version", esc(data["version"])),
        ("state", status(data["state"])),
        ("started", when(data["started_at"])),
        ("uptime", number(data["uptime_s"], duration(data["uptime_s"]))),
        ("pipelines", esc(", ".join(data["pipelines"]) or "—")),
        ("extensions", esc(", ".join(data["extensions"]) or "—")),
    ]
    rows = (f"<tr><th>{label}</th><td>{value}</td></tr>" for label, value in facts)
    return (
        f"<table><tbody>{''.join(rows)}</tbody></table>"
        "<h2>Configuration (credentials redacted)</h2>"
        f"{config_block(data['config'])}"
    )


def _component_row(c: Mapping[str, Any], queue: bool) -> str:
    fill = ""
    if queue:
        capacity = c.get("queue_capacity")
        fill = (
            "<td class=num>"
            + (number(c["queue_fill"], f"{c['queue_size']} / {capacity} ({c['queue_fill']:.0%})") if capacity else "—")
            + "</td>"
        )
    return f"<tr><td>{esc(c['id'])}</td><td>{status(c['status'], c.get('detail', ''))}</td>{fill}</tr>"


def pipelinez(data: Mapping[str, Any]) -> str:
    parts = []
    for pipeline in data["pipelines"]:
        parts.append(f"<h2>pipeline {esc(pipeline['id'])}</h2>")
        for kind in ("receivers", "processors", "exporters"):
            queue = kind == "exporters"
            headers = ["component", "status", *(["queue fill"] if queue else [])]
            rows = (_component_row(c, queue) for c in pipeline[kind])
            parts.append(f"<h3>{kind}</h3>" + table(headers, rows, f"no {kind}"))
    return "".join(parts) or '<p class="muted">no pipelines</p>'


def extensionz(data: Mapping[str, Any]) -> str:
    rows = (
        f"<tr><td>{esc(e['id'])}</td><td>{esc(e['stability'])}</td><td>{status(e['status'], e.get('detail', ''))}"
        f"</td><td>{config_block(e['config'])}</td></tr>"
        for e in data["extensions"]
    )
    return table(["extension", "stability", "status", "configuration (credentials redacted)"], rows, "no extensions")


def _connector_row(c: Mapping[str, Any], now: float, window_s: float) -> str:
    snapshot, rate = c["snapshot"], c["events_per_s"]
    total, remaining = snapshot["tables_total"], snapshot["tables_remaining"]
    progress = f" ({total - remaining}/{total} tables)" if total is not None and remaining is not None else ""
    return (
        f'<tr class="connector"><td><strong class="server">{esc(c["server"])}</strong> '
        f"{tags(c['attributes'], skip=('server',))}</td>"
        f'<td class="num lag">{millis(c["lag_ms"])}</td>'
        f"<td>{sparkline(c['lag_sparkline'], now, window_s)}</td>"
        f'<td class="num">{number(rate, None if rate is None else f"{rate:,.1f}/s")}</td>'
        f'<td class="connected">{flag(c["connected"])}</td>'
        f'<td class="snapshot">{esc(snapshot["state"])}{esc(progress)}</td>'
        f'<td class="schema-history">{esc(c["schema_history"] or "unknown")}</td></tr>'
    )


def _target_rows(t: Mapping[str, Any], now: float, window_s: float) -> str:
    if t["up"] is None:
        state = '<span class="muted">pushed</span>' if not t["scraped"] else '<span class="unknown">unknown</span>'
    else:
        state = f'<span class="{"up" if t["up"] else "down"}">{"up" if t["up"] else "down"}</span>'
        state += f" since {when(t['since'])}{ago(t['since'], now)}"
        if t["detail"]:
            state += f'<br><span class="muted">{esc(t["detail"])}</span>'
    errors = "".join(f'<span class="tag">{esc(k)}: {number(v)}</span>' for k, v in sorted(t["errors"].items()))
    row = (
        f'<tr class="target"><td><span class="muted">{esc(t["receiver"])}</span><br>'
        f'<strong class="name">{esc(t["name"])}</strong> {tags(t["resource"])}</td>'
        f'<td class="state">{state}</td><td>{when(t["last_scrape"])}{ago(t["last_scrape"], now)}</td>'
        f'<td class="num">{millis(t["last_duration_ms"])}</td><td class="num">{number(t["points"])}</td>'
        f"<td>{errors or '<span class=muted>none</span>'}</td></tr>"
    )
    if not t["connectors"]:
        return row
    headers = [
        "connector",
        "lag",
        f"lag, last {duration(window_s)}",
        "events",
        "connected",
        "snapshot",
        "schema history",
    ]
    inner = table(headers, (_connector_row(c, now, window_s) for c in t["connectors"]), "")
    return row + f'<tr class="connectors"><td colspan="6">{inner}</td></tr>'


def targetz(data: Mapping[str, Any]) -> str:
    now, window_s = data["generated_at"], data["history_s"]
    headers = ["target", "state", "last scrape", "duration", "points", "errors"]
    return table(headers, (_target_rows(t, now, window_s) for t in data["targets"]), "no scrape targets yet")
