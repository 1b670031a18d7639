"""Carrier and aggregator webhook adapters: one module per source, each with `verify` and `parse`."""

from __future__ import annotations

from types import ModuleType

from . import aftership, easypost, native, shippo

ADAPTERS: dict[str, ModuleType] = {module.SOURCE: module for module in (native, easypost, aftership, shippo)}
SOURCES: tuple[str, ...] = tuple(ADAPTERS)


def adapter_for(source: str) -> ModuleType | None:
    return ADAPTERS.get(source)
