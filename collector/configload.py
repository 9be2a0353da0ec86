"""From config files to one raw mapping: read each file (within `collector.configfile`'s limits), deep-merge
them in order and expand `${env:VAR}` references, reporting every problem at once."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from collector.configerrors import ConfigError, Problem, join_path
from collector.configfile import DEFAULT_MAX_BYTES, FileProblem, read_yaml_file

_REFERENCE = re.compile(r"\$\$|\$\{([^}]*)\}")
_VARIABLE = re.compile(r"^(?:env:)?([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$", re.DOTALL)


def load_files(paths: Sequence[str | Path], max_bytes: int = DEFAULT_MAX_BYTES) -> dict[str, Any]:
    """Read and deep-merge the YAML files in order (later wins; lists are replaced, as in the Collector).

    Each file is read within the limits of `collector.configfile` (regular file, size, depth, aliasing);
    the problems of every file are reported together.
    """
    merged: dict[str, Any] = {}
    problems: list[Problem] = []
    for path in paths:
        try:
            document = read_yaml_file(path, max_bytes)
        except FileProblem as exc:
            problems.append(Problem(str(path), str(exc)))
            continue
        if document is None:
            continue
        if not isinstance(document, dict):
            problems.append(Problem(str(path), "the config must be a mapping at the top level"))
            continue
        merged = deep_merge(merged, document)
    if problems:
        raise ConfigError(problems)
    return merged


def deep_merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    result = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(result.get(key), Mapping):
            result[key] = deep_merge(result[key], value)
        else:
            result[key] = value
    return result


def expand_env(node: Any, environ: Mapping[str, str] | None = None, path: str = "") -> Any:
    """Expand `${env:VAR}`, `${env:VAR:-default}`, `${VAR}` and `$$` in every string value.

    Values stay strings: the component's model converts `"8080"` to an int where it wants one. That keeps
    a password of digits a string. Every unset variable is reported, not only the first.
    """
    result, problems = expand_env_collecting(node, environ, path)
    if problems:
        raise ConfigError(problems)
    return result


def expand_env_collecting(
    node: Any, environ: Mapping[str, str] | None = None, path: str = ""
) -> tuple[Any, list[Problem]]:
    """As `expand_env`, but returns the problems beside the result (unresolved references left as written),
    so that validation can still report every other problem of the file in the same run."""
    problems: list[Problem] = []
    result = _expand(node, os.environ if environ is None else environ, path, problems)
    return result, problems


def _expand(node: Any, environ: Mapping[str, str], path: str, problems: list[Problem]) -> Any:
    if isinstance(node, dict):
        return {key: _expand(value, environ, join_path(path, key), problems) for key, value in node.items()}
    if isinstance(node, list):
        return [_expand(value, environ, f"{path}[{i}]", problems) for i, value in enumerate(node)]
    if not isinstance(node, str):
        return node

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        reference = match.group(1)
        variable = _VARIABLE.match(reference)
        if not variable:
            problems.append(
                Problem(path, f"unsupported reference ${{{reference}}}: use ${{env:NAME}} or ${{env:NAME:-default}}")
            )
            return match.group(0)
        name, default = variable.group(1), variable.group(2)
        if name in environ:
            return environ[name]
        if default is not None:
            return default
        problems.append(Problem(path, f"environment variable {name} is not set and has no default"))
        return match.group(0)

    return _REFERENCE.sub(replace, node)
