"""`promtool check metrics`, the Prometheus project's own checker of the text exposition format, as a test
oracle (installed by scripts/install-test-servers.d/promtool.sh, found at $PROMTOOL_DIR/promtool)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

PROMTOOL = Path(os.environ.get("PROMTOOL_DIR", "/var/cache/collector-test-servers/promtool")) / "promtool"


def promtool_errors(text: str) -> str:
    """promtool's complaints that are errors, not lint advice on naming style (camelCase, units)."""
    if not PROMTOOL.exists():
        raise AssertionError(f"{PROMTOOL} missing: run scripts/install-test-servers.d/promtool.sh")
    result = subprocess.run(
        [str(PROMTOOL), "check", "metrics"], input=text, capture_output=True, text=True, timeout=60, check=False
    )
    if result.returncode == 0:
        return ""
    output = result.stdout + result.stderr
    if result.returncode != 3 or "error while linting" in output:  # 3: only lint advice
        return output
    return ""
