"""The built-in templates compiled by the package step (D49) say exactly what their sources say, and are used only
while they were compiled from exactly those sources."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from jinja2 import ChoiceLoader, FileSystemLoader

from chalicelib.domain.policy import NOTIFICATION_KINDS
from chalicelib.web import templating
from chalicelib.web.templating import LOCALES, opt_out_text, render_email, render_sms

from .test_templates import WORST_CASE


@pytest.fixture
def compiled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    target = tmp_path / "_compiled"
    assert templating.compile_builtin(target) == len(templating.source_digests()) > 0
    monkeypatch.setattr(templating, "COMPILED_ROOT", target)
    templating.builtin_environment.cache_clear()
    yield target
    templating.builtin_environment.cache_clear()


def renders() -> list[tuple[str, str, str, str]]:
    out = []
    for locale in LOCALES:
        context = {**WORST_CASE, "opt_out": opt_out_text(locale), "locale": locale}
        for kind in NOTIFICATION_KINDS:
            email = render_email(kind, locale, context)
            out.append((render_sms(kind, locale, context).body, email.subject, email.text, email.html))
    return out


def test_compiled_templates_render_every_text_and_email_as_their_sources_do(compiled: Path) -> None:
    templating.builtin_environment.cache_clear()
    from_modules = renders()
    environment = templating.builtin_environment()
    assert isinstance(environment.loader, ChoiceLoader)
    for name in templating.source_digests():  # each one was loaded from its compiled module
        assert Path(environment.get_template(name).filename or "").parent == compiled, name
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(templating, "COMPILED_ROOT", compiled.parent / "absent")
        templating.builtin_environment.cache_clear()
        assert isinstance(templating.builtin_environment().loader, FileSystemLoader)
        from_sources = renders()
    assert from_modules == from_sources


def test_a_template_changed_after_compiling_is_served_from_its_source(
    compiled: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Someone edits a template in an unpacked package (or the checkout holds an old build): never a stale text."""
    templates = tmp_path / "templates"
    for path in templating.TEMPLATE_ROOT.rglob("*.j2"):
        copy = templates / path.relative_to(templating.TEMPLATE_ROOT)
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_bytes(path.read_bytes())
    monkeypatch.setattr(templating, "TEMPLATE_ROOT", templates)
    templating.builtin_environment.cache_clear()
    assert isinstance(templating.builtin_environment().loader, ChoiceLoader)  # same sources: the compiled ones
    layout = templates / "email" / "layout.txt.j2"
    layout.write_text(layout.read_text() + "\nEdited after the build.\n")
    templating.builtin_environment.cache_clear()
    assert isinstance(templating.builtin_environment().loader, FileSystemLoader)
    assert templating.builtin_environment().get_template("email/layout.txt.j2").filename == str(layout)
    context = {**WORST_CASE, "opt_out": opt_out_text("en"), "locale": "en"}
    assert "Edited after the build." in render_email("shipped", "en", context).text


def test_a_missing_or_unreadable_manifest_means_the_sources(compiled: Path) -> None:
    (compiled / templating.COMPILED_MANIFEST).write_text("{not json")
    templating.builtin_environment.cache_clear()
    assert isinstance(templating.builtin_environment().loader, FileSystemLoader)
    (compiled / templating.COMPILED_MANIFEST).unlink()
    templating.builtin_environment.cache_clear()
    assert isinstance(templating.builtin_environment().loader, FileSystemLoader)
