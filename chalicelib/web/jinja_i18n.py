"""`{% trans %}` and `_()` in our Jinja2 environments, in the locale of the render that calls them.

One environment serves every locale (one template cache): the gettext callables read the render's `locale` variable
and look the message up in that locale's catalog (i18n.py), so a French shopper's text, email or retailer template
speaks French. Jinja2's `install_gettext_translations` binds one catalog per environment, which would mean one
environment and one compiled copy of every template per locale.
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, pass_context
from jinja2.runtime import Context

from .i18n import translations

#: The names the i18n extension puts in a template's globals: a retailer template may call them (not variables).
GETTEXT_NAMES = frozenset({"_", "gettext", "ngettext", "pgettext", "npgettext"})


def _locale(context: Context) -> Any:
    return context.get("locale")


@pass_context
def _gettext(context: Context, message: str) -> str:
    return translations(_locale(context)).gettext(message)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, count: int) -> str:
    return translations(_locale(context)).ngettext(singular, plural, count)


@pass_context
def _pgettext(context: Context, message_context: str, message: str) -> str:
    return translations(_locale(context)).pgettext(message_context, message)


@pass_context
def _npgettext(context: Context, message_context: str, singular: str, plural: str, count: int) -> str:
    return translations(_locale(context)).npgettext(message_context, singular, plural, count)


def install(environment: Environment, *, newstyle: bool) -> None:
    """Give an environment built with `extensions=["jinja2.ext.i18n"]` the shopper's catalogs.

    `newstyle` (built-in templates) formats `%(name)s` inside gettext and escapes for HTML; old style (the retailer
    sandbox) leaves the `%` to the template, where the sandbox's operator checks apply to it like to any other.
    """
    environment.install_gettext_callables(  # type: ignore[attr-defined]  # added by the i18n extension
        gettext=_gettext, ngettext=_ngettext, newstyle=newstyle, pgettext=_pgettext, npgettext=_npgettext
    )
    environment.globals["_"] = environment.globals["gettext"]
