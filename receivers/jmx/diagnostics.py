"""First-run diagnostics: a preset whose ObjectName patterns match no MBean on a reachable target is said
once (which preset, which patterns, how many MBeans the target has in their domains), and once more when
it matches again; never per scrape."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from receivers.jmx.rules import CompiledRule, Reply, ReplyError, parse_reply


@dataclass(frozen=True)
class PresetPatterns:
    """The rule groups of one preset (as `compile_rules` numbered them) and their ObjectName patterns."""

    name: str
    groups: frozenset[str]
    patterns: tuple[str, ...]

    @property
    def domains(self) -> list[str]:
        return sorted({pattern.partition(":")[0] for pattern in self.patterns})


def preset_patterns(presets: list[tuple[str, int]], rules: list[CompiledRule]) -> list[PresetPatterns]:
    """`presets`: (name, number of rules) in the order their rules lead `rules`."""
    found, start = [], 0
    for name, count in presets:
        own = rules[start : start + count]
        patterns = tuple(dict.fromkeys(p for rule in own for p in rule.patterns))
        found.append(PresetPatterns(name, frozenset(rule.group for rule in own), patterns))
        start += count
    return found


def domain_query(preset: PresetPatterns) -> str:
    """Names only (no attribute is read) of every MBean in the domains the preset's patterns name, and in
    their sibling domains (`debezium*` beside `debezium.postgres`: the connector the target does have)."""
    families = sorted({domain.split(".")[0].rstrip("*?") + "*" for domain in preset.domains})
    return "\n".join(f"d\t{family}:*" for family in families)


def describe(preset: PresetPatterns, reply: Reply) -> str:
    counts = Counter(bean.name.partition(":")[0] for bean in reply.beans)
    own = sum(n for domain, n in counts.items() if any(_domain_matches(p, domain) for p in preset.domains))
    where = ", ".join(preset.domains)
    text = f"the target has {own} MBean{'s' if own != 1 else ''} in {where}"
    others = {d: n for d, n in counts.items() if not any(_domain_matches(p, d) for p in preset.domains)}
    if others:
        text += "; nearby: " + ", ".join(f"{d} ({n})" for d, n in sorted(others.items()))
    return text


def _domain_matches(pattern: str, domain: str) -> bool:
    return fnmatchcase(domain, pattern)  # ObjectName domain patterns are `*` and `?` globs


@dataclass
class PresetDiagnostics:
    """Per target: which presets were last seen matching nothing."""

    presets: list[PresetPatterns]
    logger: logging.LoggerAdapter
    unmatched: dict[str, set[str]] = field(default_factory=dict)  # target -> preset names said to match nothing

    def pending(self, target: str, reply: Reply) -> list[PresetPatterns]:
        """Presets that match nothing in this (up) reply and were not reported yet; logs those that match
        again after a report."""
        if not reply.up:
            return []
        seen = {group for bean in reply.beans for group in bean.groups}
        said = self.unmatched.setdefault(target, set())
        new = []
        for preset in self.presets:
            matched = bool(preset.groups & seen)
            if matched and preset.name in said:
                said.discard(preset.name)
                self.logger.info("preset %s matches MBeans now", preset.name, extra={"endpoint": target})
            elif not matched and preset.name not in said:
                new.append(preset)
        return new

    def report(self, target: str, preset: PresetPatterns, domains_reply_text: str | None) -> None:
        """Says once that `preset` matches nothing; `domains_reply_text` is the gateway's answer to
        `domain_query(preset)` (None when it could not be asked)."""
        self.unmatched.setdefault(target, set()).add(preset.name)
        detail = "MBean count unavailable"
        try:
            reply = parse_reply(domains_reply_text) if domains_reply_text is not None else None
        except ReplyError:
            reply = None
        if reply is not None and reply.up:
            detail = describe(preset, reply)
        self.logger.warning(
            "preset %s: no MBean matches %s; %s",
            preset.name,
            " or ".join(preset.patterns),
            detail,
            extra={"endpoint": target},
        )


_LEVELS = {"trace": logging.DEBUG, "debug": logging.DEBUG, "info": logging.INFO, "warn": logging.WARNING,
           "error": logging.ERROR, "off": logging.CRITICAL + 1}  # fmt: skip


class LevelLogger(logging.LoggerAdapter):
    """`log_level`: this receiver's own threshold over the component logger it wraps (shared by every
    receiver, so its level cannot be set); per-call `extra` is passed through unchanged."""

    def __init__(self, inner: logging.LoggerAdapter, level: str) -> None:
        super().__init__(inner, {})
        self.threshold = _LEVELS[level]

    def isEnabledFor(self, level: int) -> bool:
        return level >= self.threshold and self.logger.isEnabledFor(level)

    def process(self, msg: Any, kwargs: MutableMapping[str, Any]) -> tuple[Any, MutableMapping[str, Any]]:
        return msg, kwargs
