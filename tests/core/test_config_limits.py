"""Hostile config files: every one ends in exit 2 with the path and line, within bounded time and memory.

Each case runs the real `collector validate` under an address-space limit (`prlimit --as`) and a time
limit: before these limits, an alias bomb took 116 s and 3.9 GB, `/dev/zero` was read until the OOM
killer came, a FIFO hung forever and deep nesting ended in a traceback. SIGHUP with such a file must
leave the running pipelines alone.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from collector.config import ConfigError, load
from collector.configfile import MAX_DEPTH, MAX_EXPANDED_NODES, FileProblem, parse_yaml
from tests.core.fakes import registry
from tests.support import read_points, run_collector, wait_for, write_config

ADDRESS_SPACE = 1536 * 1024 * 1024  # an unbounded probe could take the whole machine down
SECRET_LINE = "root:$6$saltsalt$0123456789abcdefghijSECRET:20228:0:99999:7:::"


def alias_bomb() -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, 10):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def hostile_files(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """name -> (path, what the error must say)."""
    cases: dict[str, tuple[Path, str]] = {}

    def write(name: str, data: bytes) -> Path:
        path = tmp_path / f"{name}.yaml"
        path.write_bytes(data)
        return path

    cases["alias bomb"] = (write("bomb", alias_bomb().encode()), "alias bomb")
    cases["huge"] = (write("huge", b"receivers: {}\n# " + b"x" * (5 * 1024 * 1024) + b"\n"), "byte limit")
    cases["deep flow"] = (write("deepflow", b"receivers: " + b"[" * 3000 + b"]" * 3000 + b"\n"), "nested deeper")
    block = "".join("  " * i + f"k{i}:\n" for i in range(300))
    cases["deep block"] = (write("deepblock", block.encode()), "nested deeper")
    cases["binary"] = (write("binary", b"receivers:\n  \x00\x01\x02\xff\xfe: 1\n"), "line 2")
    cases["latin-1"] = (write("latin1", b"# caf\xe9 au lait\nreceivers: {}\n"), "line 1, column 6: not valid UTF-8")
    cases["duplicate key"] = (
        write("dup", b"receivers: {}\nexporters: {}\nreceivers: {}\n"),
        "line 3, column 1: duplicate key 'receivers' (first at line 1)",
    )
    zero = tmp_path / "zero.yaml"
    zero.symlink_to("/dev/zero")
    cases["/dev/zero"] = (zero, "not a regular file (a character device)")
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    cases["FIFO"] = (fifo, "not a regular file (a FIFO)")
    shadow = tmp_path / "shadow"
    shadow.write_text(f"{SECRET_LINE}\ndaemon:*:20228:0:99999:7:::\n", encoding="utf-8")
    link = tmp_path / "shadow.yaml"
    link.symlink_to(shadow)
    cases["shadow"] = (link, "not a collector config")
    return cases


def validate_bounded(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "collector", "validate", *args]
    if shutil.which("prlimit"):
        command = ["prlimit", f"--as={ADDRESS_SPACE}", "--", *command]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def test_each_hostile_file_is_a_config_error_naming_path_and_line(tmp_path):
    assert shutil.which("prlimit"), "prlimit (util-linux) bounds these probes: without it one could eat the machine"
    cases = hostile_files(tmp_path)
    shadow, _ = cases.pop("shadow")
    # one run for all files: every file's problem is reported at once, each on its own line with its path
    result = validate_bounded(*(arg for path, _ in cases.values() for arg in ("--config", str(path))))
    assert result.returncode == 2, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert lines[0] == f"invalid configuration ({len(cases)} problems):"
    for name, (path, expected) in cases.items():
        assert any(line.strip().startswith(f"{path}: ") and expected in line for line in lines), (name, lines)
    assert max(len(line) for line in lines) < 300, "an error quotes at most a line, never the file"
    # a file that is YAML but no config (a mistaken symlink to /etc/shadow) is refused without its contents
    result = validate_bounded("--config", str(shadow))
    assert result.returncode == 2 and "not a collector config" in result.stderr
    assert "SECRET" not in result.stderr and "daemon" not in result.stderr


def test_size_limit_is_a_flag(tmp_path):
    config = {
        "receivers": {"push": {}},
        "exporters": {"debug": {}},
        "service": {"pipelines": {"metrics": {"receivers": ["push"], "exporters": ["debug"]}}},
    }
    path = write_config(tmp_path, config)
    size = path.stat().st_size
    refused = validate_bounded("--config", str(path), "--max-config-bytes", str(size - 1))
    assert refused.returncode == 2 and f"larger than the {size - 1} byte limit" in refused.stderr
    # at exactly its size the limit lets it through to validation (where `push` is not installed: exit 2 too,
    # but for that reason, not the size)
    passed = validate_bounded("--config", str(path), "--max-config-bytes", str(size))
    assert "byte limit" not in passed.stderr


def test_yaml_as_the_spec_has_it():
    # a redefined anchor replaces the earlier one for later aliases (three java-contrib rule files do this)
    assert parse_yaml("a: &x 1\nb: *x\nc: &x 2\nd: *x\n") == {"a": 1, "b": 1, "c": 2, "d": 2}
    # merge keys are not duplicates, and an explicit key overrides the merged one
    assert parse_yaml("base: &b {x: 1, y: 2}\nd:\n  <<: *b\n  x: 5\n")["d"] == {"x": 5, "y": 2}
    with pytest.raises(FileProblem, match=r"line 4, column 3: duplicate key 'x' \(first at line 2\)"):
        parse_yaml("top:\n  x: 1\n  y: 2\n  x: 3\n")


def test_limits_sit_just_past_legitimate_documents():
    nested = "v"
    for _ in range(MAX_DEPTH - 1):
        nested = f"[{nested}]"
    assert parse_yaml(nested) is not None  # MAX_DEPTH levels load
    with pytest.raises(FileProblem, match="nested deeper"):
        parse_yaml(f"[{nested}]")
    # aliases that expand to fewer values than the limit load, and share structure rather than copy it
    fan = "a: &a [" + ", ".join(["1"] * 900) + "]\nb: [" + ", ".join(["*a"] * 900) + "]\n"
    assert MAX_EXPANDED_NODES > 900 * 900 and len(parse_yaml(fan)["b"]) == 900


def test_unset_variable_is_one_more_error_among_the_others(tmp_path):
    raw = {
        "receivers": {"push": {"nope": 1}},
        "exporters": {"record": {"mode": "${env:UNSET_FOR_TEST}"}},
        "service": {"pipelines": {"metrics": {"receivers": ["push"], "exporters": ["record"]}}},
    }
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load([path], registry(), environ={})
    found = [str(problem) for problem in info.value.problems]
    assert "exporters.record.mode: environment variable UNSET_FOR_TEST is not set and has no default" in found
    assert any(problem.startswith("receivers.push.nope: unknown key 'nope'") for problem in found)
    # the unresolved value's own validation error would only repeat the first: reported once
    assert sum(problem.startswith("exporters.record.mode") for problem in found) == 1


def static_config(out: Path) -> dict[str, object]:
    return {
        "receivers": {
            "static": {"collection_interval": "50ms", "initial_delay": "0s", "metrics": [{"name": "lag", "value": 1}]}
        },
        "exporters": {"file": {"path": str(out)}},
        "service": {"pipelines": {"metrics": {"receivers": ["static"], "exporters": ["file"]}}},
    }


def test_sighup_with_hostile_files_keeps_the_running_pipelines(example_plugin, tmp_path):
    out = tmp_path / "out.jsonl"
    path = write_config(tmp_path, static_config(out))
    bad_files = {
        "undecodable": b"# caf\xe9\nreceivers: {}\n",
        "deep": b"receivers: " + b"[" * 3000 + b"]" * 3000 + b"\n",
        "duplicate keys": b"receivers: {}\nreceivers: {}\n",
        "bomb": alias_bomb().encode(),
    }
    with run_collector(path, python=example_plugin) as collector:
        wait_for(lambda: len(read_points(out)) >= 3, 20, "pipeline exporting")
        for refusals, (name, data) in enumerate(bad_files.items(), start=1):
            path.write_bytes(data)
            collector.process.send_signal(signal.SIGHUP)
            wait_for(lambda n=refusals: collector.logs().count("reload refused") >= n, 30, f"{name} refused")
            before = len(read_points(out))
            wait_for(lambda b=before: len(read_points(out)) >= b + 3, 20, f"still exporting after {name}")
            assert collector.process.poll() is None, name
        assert collector.stop() == 0
    assert "Traceback" not in collector.logs()
