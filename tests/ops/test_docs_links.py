"""Every relative link in the project's Markdown points at a file that exists (docs drift otherwise)."""

import re

from tests.support import REPO

SKIPPED_DIRS = {".venv", ".git", "node_modules", ".pytest_cache"}


def test_relative_links_resolve():
    broken = []
    for page in REPO.rglob("*.md"):
        if SKIPPED_DIRS & set(page.relative_to(REPO).parts):
            continue
        for target in re.findall(r"\]\(([^)#\s]+)", page.read_text(encoding="utf-8")):
            if not target.startswith(("http://", "https://", "mailto:")) and not (page.parent / target).exists():
                broken.append(f"{page.relative_to(REPO)} -> {target}")
    assert not broken, "broken links:\n" + "\n".join(broken)
