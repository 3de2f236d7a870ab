"""The docs point at what exists: every relative Markdown link resolves, and the SQLSTATE registry
in docs/conventions.md lists exactly the business errors the SQL raises."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .conftest import REPO

DOCS = sorted(
    [REPO / "README.md", *(REPO / "docs").rglob("*.md"), *(REPO / d / "README.md" for d in ("functions", "views", "scripts"))]
)
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6} +(.+?) *$", re.MULTILINE)


def anchors(text: str) -> set[str]:
    """The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces to dashes."""
    seen: dict[str, int] = {}
    result = set()
    for heading in HEADING.findall(FENCE.sub("", text)):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        result.add(slug if n == 0 else f"{slug}-{n}")
    return result


def broken_links(page: Path) -> list[str]:
    text = page.read_text()
    broken = []
    for target in LINK.findall(FENCE.sub("", text)):
        if re.match(r"[a-z]+:", target):  # https:, mailto: - not ours to check
            continue
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.exists():
            broken.append(f"{target}: no such file")
        elif anchor and (dest.is_dir() or dest.suffix != ".md" or anchor not in anchors(dest.read_text())):
            broken.append(f"{target}: no heading #{anchor}")
    return broken


@pytest.mark.parametrize("page", DOCS, ids=[str(p.relative_to(REPO)) for p in DOCS])
def test_every_relative_link_resolves(page: Path) -> None:
    assert broken_links(page) == []


def test_a_broken_link_or_anchor_is_found(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# Other\n\n## Seeds: `bankdb seed`\n")
    page = tmp_path / "page.md"
    page.write_text(
        "[ok](other.md#seeds-bankdb-seed) [ok](#here) [web](https://example.com/x)\n\n# Here\n\n"
        "[gone](missing.md) [bad anchor](other.md#nowhere)\n\n```\n[in code](ignored.md)\n```\n"
    )
    assert broken_links(page) == ["missing.md: no such file", "other.md#nowhere: no heading #nowhere"]


def test_the_sqlstate_registry_lists_every_business_error_raised() -> None:
    sql = [p for d in ("functions", "security", "migrations") for p in (REPO / d).iterdir() if ".sql" in p.name]
    raised = {code for p in sql for code in re.findall(r"ERRCODE = '(BK[A-Z0-9]{3})'", p.read_text())}
    registry = (REPO / "docs" / "conventions.md").read_text().split("## SQLSTATEs", 1)[1]
    listed = set(re.findall(r"`(BK[A-Z0-9]{3})`", registry))
    assert raised and listed == raised
