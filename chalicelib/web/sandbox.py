"""A Jinja sandbox for retailer templates that is bounded in time, size and depth (D31).

Jinja's own sandbox stops attribute escapes but not exhaustion: `range(10**9)`, `'a' * 10**9`, a recursive macro or a
100000 x 100000 loop still take the server down. Here every loop step, call, filter and sized operator is counted
against one render's budget, sizes are checked *before* anything large is built, other templates cannot be loaded,
and the output is streamed and cut at a fixed size. A template over a limit raises TemplateLimitError, which names
the limit; callers turn it into a 400 (preview, save) or a fallback to the built-in template (delivery).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from functools import lru_cache, wraps
from typing import Any

from jinja2 import BaseLoader, StrictUndefined, Template, nodes
from jinja2.exceptions import SecurityError
from jinja2.filters import FILTERS
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.visitor import NodeTransformer
from msgspec import Struct, field

from . import jinja_i18n

MAX_RANGE = 1_000  # items one range() may yield
MAX_STEPS = 20_000  # loop iterations + calls + filter applications per render
MAX_DEPTH = 8  # nested calls (macros calling macros)
MAX_VALUE_CHARS = 10_000  # any one string or list a template builds
MAX_OUTPUT_CHARS = 20_000  # what one render may produce
MAX_SECONDS = 0.2  # wall clock per render
MAX_POWER_BITS = 64  # integers `**` may build

#: The tags that pull in other templates; a retailer template is self-contained.
FORBIDDEN_TAGS: dict[type[nodes.Node], str] = {
    nodes.Extends: "extends",
    nodes.Include: "include",
    nodes.Import: "import",
    nodes.FromImport: "from ... import",
}
SAFE_FILTERS = frozenset(
    {"abs", "capitalize", "count", "d", "default", "e", "escape", "first", "float", "int", "join", "last", "length"}
    | {"lower", "replace", "round", "string", "striptags", "title", "trim", "truncate", "upper", "urlencode"}
    | {"wordcount"}
)
#: String methods a template may call (the sandbox already refuses private attributes); `format` and friends build
#: output from a width the template chooses, so they are not on the list.
STR_METHODS = frozenset(
    {"capitalize", "center", "count", "endswith", "find", "isalpha", "isdigit", "islower", "isupper", "ljust"}
    | {"lower", "lstrip", "partition", "removeprefix", "removesuffix", "replace", "rjust", "rsplit", "rstrip"}
    | {"split", "splitlines", "startswith", "strip", "title", "upper", "zfill"}
)
#: A `%` conversion's flags, width and precision, after its mapping key if any (`%(name)999s` has a width too).
_FORMAT_NUMBER = re.compile(r"%(?:\([^)]*\))?([^a-zA-Z%(]*)")


class TemplateLimitError(SecurityError):
    """A retailer template went over one of the render limits (the message names which)."""


class _Budget(Struct):
    deadline: float
    steps: int = 0
    depth: int = 0
    output: list[str] = field(default_factory=list)

    def step(self) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise TemplateLimitError(f"template does more than {MAX_STEPS} steps (loop iterations and calls)")
        if time.perf_counter() > self.deadline:
            raise TemplateLimitError(f"template takes longer than {MAX_SECONDS * 1000:.0f} ms to render")


_budget: ContextVar[_Budget | None] = ContextVar("template_budget", default=None)


def _step() -> None:
    budget = _budget.get()
    if budget is not None:
        budget.step()


def _check_size(value: Any, what: str = "a value") -> Any:
    if isinstance(value, str | list | tuple | bytes) and len(value) > MAX_VALUE_CHARS:
        raise TemplateLimitError(f"template builds {what} longer than {MAX_VALUE_CHARS} characters")
    return value


def _check_ints(values: Iterable[Any]) -> None:
    for value in values:
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_VALUE_CHARS:
            raise TemplateLimitError(f"template passes {value} where at most {MAX_VALUE_CHARS} is allowed")


def _replacement_size(text: Any, old: Any, new: Any, count: Any = -1) -> None:
    if isinstance(text, str) and isinstance(old, str) and isinstance(new, str):
        hits = len(text) + 1 if old == "" else text.count(old)
        if isinstance(count, int) and count >= 0:
            hits = min(hits, count)
        if len(text) + hits * (len(new) - len(old)) > MAX_VALUE_CHARS:
            raise TemplateLimitError(f"template builds a value longer than {MAX_VALUE_CHARS} characters (replace)")


def safe_range(*args: int) -> range:
    span = range(*args)  # a range object is O(1) whatever its length: refused before anything iterates it
    if len(span) > MAX_RANGE:
        raise TemplateLimitError(f"range() yields {len(span)} items; at most {MAX_RANGE} are allowed")
    return span


def _iterate(values: Any) -> Iterator[Any]:
    """Every `{% for %}` loops through here, so empty nested loops still count against the budget."""
    for value in values:
        _step()
        yield value


def _concat(*parts: Any) -> str:
    """`~` joins strings; the total is checked before it is built."""
    texts = [str(part) for part in parts]
    if sum(map(len, texts)) > MAX_VALUE_CHARS:
        raise TemplateLimitError(f"template builds a value longer than {MAX_VALUE_CHARS} characters (~)")
    return "".join(texts)


def _guarded_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(function)  # keeps jinja_pass_arg, so environment/context-taking filters still receive them
    def guarded(*args: Any, **kwargs: Any) -> Any:
        _step()
        _check_ints([*args, *kwargs.values()])
        if name == "replace":
            plain = [a for a in args if isinstance(a, str | int)]  # without the eval context Jinja passes first
            _replacement_size(*plain[:4])
        return _check_size(function(*args, **kwargs), f"a value ({name})")

    return guarded


class _Instrument(NodeTransformer):
    """Route loops and `~` through the budgeted helpers above (the compiled code has no other hook for them)."""

    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.generic_visit(node)
        node.iter = nodes.Call(nodes.Name("__pl_iterate", "load"), [node.iter], [], None, None, lineno=node.lineno)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        return nodes.Call(nodes.Name("__pl_concat", "load"), node.nodes, [], None, None, lineno=node.lineno)


class _RefusingLoader(BaseLoader):
    def get_source(self, environment: Any, template: str) -> Any:
        raise TemplateLimitError("templates cannot include, extend or import other templates")


class LimitedSandbox(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**", "+", "%", "//"})

    def __init__(self) -> None:
        super().__init__(
            undefined=StrictUndefined, autoescape=False, loader=_RefusingLoader(), extensions=["jinja2.ext.i18n"]
        )
        self.globals = {"range": safe_range, "__pl_iterate": _iterate, "__pl_concat": _concat}
        # `{% trans %}` and `_()` read the shopper's catalog; old style, so a translation's `%` goes through
        # call_binop's width check like any `%` the template writes.
        jinja_i18n.install(self, newstyle=False)
        self.filters = {name: _guarded_filter(name, FILTERS[name]) for name in SAFE_FILTERS}

    def wrap_str_format(self, value: Any) -> None:
        """`str.format` and `format_map` are refused (is_safe_attribute), not wrapped: a width builds any size."""
        return None

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if isinstance(obj, str) and attr not in STR_METHODS:
            return False
        return super().is_safe_attribute(obj, attr, value)

    def call_binop(self, context: Any, operator_: str, left: Any, right: Any) -> Any:
        _step()
        if operator_ == "*":
            sized, times = (left, right) if isinstance(right, int) else (right, left)
            repeated = isinstance(sized, str | list | tuple) and isinstance(times, int)
            if repeated and len(sized) * max(times, 0) > MAX_VALUE_CHARS:
                raise TemplateLimitError(
                    f"template repeats a value to {len(sized) * times} characters; at most {MAX_VALUE_CHARS}"
                )
        elif operator_ == "**":
            integers = isinstance(left, int) and isinstance(right, int) and right > 0
            if integers and max(abs(left).bit_length(), 1) * right > MAX_POWER_BITS:
                raise TemplateLimitError(f"template computes a power larger than 2**{MAX_POWER_BITS}")
        elif operator_ == "+":
            sized_both = isinstance(left, str | list | tuple) and isinstance(right, str | list | tuple)
            if sized_both and len(left) + len(right) > MAX_VALUE_CHARS:
                raise TemplateLimitError(f"template builds a value longer than {MAX_VALUE_CHARS} characters (+)")
        elif operator_ == "%" and isinstance(left, str):
            for spec in _FORMAT_NUMBER.findall(left):
                if "*" in spec or any(int(n) > MAX_VALUE_CHARS for n in re.findall(r"\d+", spec)):
                    raise TemplateLimitError(f"template formats with a width over {MAX_VALUE_CHARS}")
        return _check_size(super().call_binop(context, operator_, left, right))

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        budget = _budget.get()
        if budget is not None:
            budget.step()
            budget.depth += 1
        try:
            if budget is not None and budget.depth > MAX_DEPTH:
                raise TemplateLimitError(f"template calls nest more than {MAX_DEPTH} deep (a recursive macro?)")
            if __obj not in (_iterate, _concat, safe_range):
                _check_ints([*args, *kwargs.values()])
            if getattr(__obj, "__name__", "") == "replace" and isinstance(getattr(__obj, "__self__", None), str):
                _replacement_size(__obj.__self__, *args[:3])
            return _check_size(super().call(__context, __obj, *args, **kwargs))
        finally:
            if budget is not None:
                budget.depth -= 1


_ENVIRONMENT = LimitedSandbox()


def environment() -> LimitedSandbox:
    return _ENVIRONMENT


def forbidden_tag(parsed: nodes.Template) -> str | None:
    for node_type, tag in FORBIDDEN_TAGS.items():
        if parsed.find(node_type) is not None:
            return tag
    return None


@lru_cache(maxsize=256)
def compile_limited(source: str) -> Template:
    """Parse, refuse other-template tags, instrument loops and `~`, compile (cached per source text)."""
    parsed = _ENVIRONMENT.parse(source)
    tag = forbidden_tag(parsed)
    if tag:
        raise TemplateLimitError(f"{{% {tag} %}} is not allowed: a template cannot use other templates")
    instrumented = _Instrument().visit(parsed)
    return _ENVIRONMENT.from_string(instrumented)


def render_limited(source: str, context: dict[str, Any]) -> str:
    """Render within the limits: raises TemplateLimitError naming the first one crossed."""
    template = compile_limited(source)
    budget = _Budget(deadline=time.perf_counter() + MAX_SECONDS)
    token = _budget.set(budget)
    try:
        size = 0
        for chunk in template.generate(context):
            size += len(chunk)
            if size > MAX_OUTPUT_CHARS:
                raise TemplateLimitError(f"template renders more than {MAX_OUTPUT_CHARS} characters")
            budget.output.append(chunk)
        return "".join(budget.output)
    except RecursionError as exc:
        raise TemplateLimitError(f"template calls nest more than {MAX_DEPTH} deep (a recursive macro?)") from exc
    finally:
        _budget.reset(token)


__all__ = ["TemplateLimitError", "compile_limited", "environment", "forbidden_tag", "render_limited"]
