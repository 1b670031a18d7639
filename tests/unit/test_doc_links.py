"""The newcomer's documents point at things that exist: relative links (and their #anchors) in README.md and docs/*.md,
and every `file.py:function` docs/architecture.md names."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
CODE = re.compile(r"`([^`]+)`")
#: `path/to/file.py` or `file.py:function`, as architecture.md writes them (paths may be relative to chalicelib/).
CODE_REFERENCE = re.compile(r"^((?:[\w.-]+/)*[\w-]+\.py)(?::(\w+))?$")


def anchors(markdown: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"```.*?```", "", markdown.read_text(), flags=re.S)
    headings = re.findall(r"^#{1,6}\s+(.+?)\s*$", text, flags=re.M)
    return {re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-") for heading in headings}


def relative_links(markdown: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", markdown.read_text(), flags=re.S)
    return [target for target in LINK.findall(text) if not re.match(r"^[a-z][a-z0-9+.-]*:", target)]


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_relative_link_points_to_an_existing_file_and_heading(document: Path) -> None:
    broken = []
    for target in relative_links(document):
        path_part, _, anchor = target.partition("#")
        resolved = (document.parent / path_part).resolve() if path_part else document
        if not resolved.exists():
            broken.append(f"{target}: no such file")
        elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
            broken.append(f"{target}: no heading #{anchor} in {resolved.relative_to(ROOT)}")
    assert not broken, broken


def test_the_link_checker_finds_links_and_anchors() -> None:
    readme_links = relative_links(ROOT / "README.md")
    assert "docs/architecture.md" in readme_links and "docs/api.md" in readme_links
    assert "notifications" in anchors(ROOT / "docs" / "api.md")
    assert "one-webhook-from-the-route-to-the-provider-call" in anchors(ROOT / "docs" / "architecture.md")


def _candidates(reference: str) -> list[Path]:
    direct = [ROOT / reference, ROOT / "chalicelib" / reference]
    found = [path for path in direct if path.is_file()]
    if found or "/" in reference:
        return found
    # A bare file name, written after its package was named nearby.
    return sorted(path for folder in ("chalicelib", "infra", "bench") for path in (ROOT / folder).rglob(reference))


def _defines(path: Path, name: str) -> bool:
    """A function or class anywhere in the module, or a module-level name (a constant such as a registry)."""
    tree = ast.parse(path.read_text())
    if any(
        isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and node.name == name
        for node in ast.walk(tree)
    ):
        return True
    targets = [node.target for node in tree.body if isinstance(node, ast.AnnAssign)]
    targets += [target for node in tree.body if isinstance(node, ast.Assign) for target in node.targets]
    return any(isinstance(target, ast.Name) and target.id == name for target in targets)


def test_every_module_and_function_the_architecture_map_names_exists() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text()
    references = {match for span in CODE.findall(text) for match in [CODE_REFERENCE.match(span.strip())] if match}
    assert len(references) > 30  # the map and the webhook trace name files and functions throughout
    missing = []
    for match in references:
        file_name, function = match.group(1), match.group(2)
        paths = _candidates(file_name)
        if not paths:
            missing.append(file_name)
        elif function and not any(_defines(path, function) for path in paths):
            missing.append(f"{file_name}:{function}")
    assert not missing, sorted(missing)
