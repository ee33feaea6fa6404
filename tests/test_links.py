"""Every relative link of the README and docs/ points to a file of the repository, and none
points outside it (the docs are read in a clone of the repository alone)."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_relative_links_resolve_inside_the_repository():
    broken = []
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text()):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue
            path = (page.parent / target.split("#")[0]).resolve()
            if not path.exists() or not path.is_relative_to(ROOT):
                broken.append(f"{page.name}: {target}")
    assert not broken, broken


def _anchor(heading: str) -> str:
    """GitHub's anchor of a markdown heading: lower case, punctuation dropped, spaces to -."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lstrip("#").strip().lower()).replace(" ", "-")


def test_links_to_a_section_name_one_that_exists():
    broken = []
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text()):
            path, _, anchor = target.partition("#")
            if re.match(r"[a-z]+:", target) or not anchor:
                continue
            linked = (page.parent / path).resolve() if path else page
            if linked.suffix != ".md":
                continue
            headings = {_anchor(line) for line in linked.read_text().splitlines()
                        if re.match(r"#{1,6} ", line)}
            if anchor not in headings:
                broken.append(f"{page.name}: {target}")
    assert not broken, broken
