"""The template language of message texts: a small, sandboxed subset of Jinja.

A text may print its template's documented variables (``{{ ref }}``), use a few filters
(``{{ department|upper }}``, ``{{ reason|default('-') }}``) and choose with ``{% if %}``. Nothing else:
no attribute or item access (``{{ ref.__class__ }}``), no calls, loops, assignments, arithmetic or
includes, and no name beyond the template's variables. The rules are checked on the parsed template before
it is compiled (Jinja folds constants while compiling, so ``'x' * 10**9`` would be evaluated then), the
sandbox refuses the same operations again at run time, and the output is cut off at a cap.

The old ``str.format`` syntax (``{ref}``) is converted (``{{ ref }}``) when it has no format specification,
conversion or attribute access. Every channel sends plain text (email is text/plain), so nothing is
HTML-escaped; an HTML channel would need an autoescaping environment of its own.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any, NoReturn

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, nodes
from jinja2.exceptions import SecurityError
from jinja2.filters import do_capitalize, do_default, do_lower, do_title, do_trim, do_truncate, do_upper
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment

# Caps on what an administrator's text may be and become: a body is an SMS or a short email, a subject
# fits the messages table's subject column.
MAX_SOURCE = 2000
MAX_BODY = 4000
MAX_SUBJECT = 200
# Parsing, compiling and rendering recurse per level of nesting; real texts nest a few levels.
MAX_DEPTH = 24

FILTERS = {
    "capitalize": do_capitalize,
    "default": do_default,
    "d": do_default,
    "lower": do_lower,
    "title": do_title,
    "trim": do_trim,
    "truncate": do_truncate,
    "upper": do_upper,
}
# Tests that only compare (``divisibleby`` is ``value % n``: %-formatting when the value is an owner's text).
TESTS = (
    "defined",
    "undefined",
    "none",
    "string",
    "number",
    "true",
    "false",
    "eq",
    "equalto",
    "==",
    "ne",
    "!=",
    "in",
    "lower",
    "upper",
)

# The node types a message text may contain; anything else is refused with a name the manager recognises.
_ALLOWED = (
    nodes.Template,
    nodes.Output,
    nodes.TemplateData,
    nodes.Const,
    nodes.Name,
    nodes.If,
    nodes.CondExpr,
    nodes.And,
    nodes.Or,
    nodes.Not,
    nodes.Compare,
    nodes.Operand,
    nodes.Concat,
    nodes.Filter,
    nodes.Test,
    nodes.Keyword,
)
_REFUSED: dict[type[nodes.Node], str] = {
    nodes.Getattr: "attribute access",
    nodes.Getitem: "item access",
    nodes.Slice: "item access",
    nodes.Call: "calls",
    nodes.For: "loops ({% for %})",
    nodes.Assign: "{% set %}",
    nodes.AssignBlock: "{% set %}",
    nodes.Macro: "macros",
    nodes.CallBlock: "{% call %}",
    nodes.FilterBlock: "{% filter %} blocks",
    nodes.With: "{% with %}",
    nodes.Include: "{% include %}",
    nodes.Import: "{% import %}",
    nodes.FromImport: "{% import %}",
    nodes.Extends: "{% extends %}",
    nodes.Block: "{% block %}",
    nodes.List: "lists",
    nodes.Tuple: "tuples",
    nodes.Dict: "dicts",
    nodes.BinExpr: "arithmetic",
    nodes.UnaryExpr: "arithmetic",
}


class TemplateProblem(ValueError):
    """Why a text cannot be used: ``kind`` is syntax, unknown_variable, not_allowed, too_long or render."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


class _MessageEnvironment(SandboxedEnvironment):
    """Refuses at run time what the parse check refuses, in case a text ever reaches it unchecked."""

    intercepted_binops = frozenset(SandboxedEnvironment.default_binop_table)
    intercepted_unops = frozenset(SandboxedEnvironment.default_unop_table)

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> NoReturn:
        raise SecurityError(f"arithmetic ({operator}) is not allowed")

    def call_unop(self, context: Context, operator: str, arg: Any) -> NoReturn:
        raise SecurityError(f"arithmetic ({operator}) is not allowed")

    def getattr(self, obj: Any, attribute: str) -> NoReturn:
        raise SecurityError(f"attribute access (.{attribute}) is not allowed")

    def getitem(self, obj: Any, argument: Any) -> NoReturn:
        raise SecurityError("item access is not allowed")

    def call(self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> NoReturn:
        raise SecurityError("calls are not allowed")


_ENV = _MessageEnvironment(
    undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True, auto_reload=False, cache_size=0
)
_ENV.globals.clear()  # no range(), lipsum(), dict(), cycler(), namespace()
_ENV.filters = dict(FILTERS)
_ENV.tests = {name: _ENV.tests[name] for name in TESTS}


def _describe(node: nodes.Node) -> str:
    for kind, label in _REFUSED.items():
        if isinstance(node, kind):
            if isinstance(node, nodes.Getattr):
                return f"{label} (.{node.attr})"
            if isinstance(node, nodes.BinExpr | nodes.UnaryExpr):
                return f"{label} ({node.operator})"
            return label
    return type(node).__name__


def _refuse(message: str, line: int | None) -> NoReturn:
    raise TemplateProblem("not_allowed", f"not allowed: {message} (line {line})")


def _depth(tree: nodes.Node) -> int:
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in node.iter_child_nodes())
    return deepest


def check(source: str, variables: Iterable[str], *, key: str = "the template") -> nodes.Template:
    """The parsed template, when it uses only what a message text may use."""
    if len(source) > MAX_SOURCE:
        raise TemplateProblem("too_long", f"the text is longer than {MAX_SOURCE} characters")
    try:
        tree = _ENV.parse(source)
    except TemplateSyntaxError as exc:
        raise TemplateProblem("syntax", f"syntax error on line {exc.lineno}: {exc.message}") from None
    except RecursionError:
        raise TemplateProblem("syntax", f"the text is nested more than {MAX_DEPTH} levels deep") from None
    if _depth(tree) > MAX_DEPTH:
        raise TemplateProblem("syntax", f"the text is nested more than {MAX_DEPTH} levels deep")
    allowed = set(variables)
    unknown: set[str] = set()
    for node in (tree, *tree.find_all(nodes.Node)):
        if not isinstance(node, _ALLOWED):
            _refuse(_describe(node), node.lineno)
        if isinstance(node, nodes.Name) and node.name not in allowed:
            unknown.add(node.name)
        if isinstance(node, nodes.Filter) and node.name not in FILTERS:
            _refuse(f"the filter {node.name} (allowed: {', '.join(sorted(FILTERS))})", node.lineno)
        if isinstance(node, nodes.Test) and node.name not in TESTS:
            _refuse(f"the test {node.name} (allowed: {', '.join(TESTS)})", node.lineno)
    if unknown:
        raise TemplateProblem(
            "unknown_variable", f"unknown variables {', '.join(sorted(unknown))}; {key} has {', '.join(variables)}"
        )
    return tree


@lru_cache(maxsize=512)
def _compiled(source: str, variables: tuple[str, ...]) -> Any:
    tree = check(source, variables)
    try:
        return _ENV.from_string(tree)
    except TemplateSyntaxError as exc:  # the compiler's own checks (TemplateAssertionError)
        raise TemplateProblem("syntax", f"syntax error on line {exc.lineno}: {exc.message}") from None
    except (SyntaxError, RecursionError):  # Python's limits on the generated code
        raise TemplateProblem("syntax", f"the text is nested more than {MAX_DEPTH} levels deep") from None


def render(source: str, variables: tuple[str, ...], values: Mapping[str, Any], *, limit: int | None) -> str:
    """``source`` rendered with ``values`` (only the documented ``variables``, as text; a documented variable
    the event did not carry is empty); no longer than ``limit`` characters when a limit is given."""
    template = _compiled(source, variables)
    context = {name: "" if values.get(name) is None else str(values[name]) for name in variables}
    size = 0
    chunks = []
    try:
        for chunk in template.generate(context):
            size += len(chunk)
            if limit is not None and size > limit:
                raise TemplateProblem("too_long", f"the text renders longer than {limit} characters")
            chunks.append(chunk)
    except TemplateProblem:
        raise
    except TemplateError as exc:  # SecurityError and UndefinedError are TemplateErrors
        raise TemplateProblem("render", f"cannot render: {exc.message or exc}") from None
    except Exception as exc:  # a filter's own complaint (wrong arguments, an assertion): the text's fault
        raise TemplateProblem("render", f"cannot render: {type(exc).__name__}: {exc}") from None
    return "".join(chunks)


def is_jinja(text: str) -> bool:
    return any(mark in text for mark in ("{{", "{%", "{#"))


def from_format(text: str) -> str:
    """The ``str.format`` text ``text`` in this template language: ``{ref}`` becomes ``{{ ref }}``."""
    parts = []
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise TemplateProblem("syntax", f"syntax error: {exc}") from None
    for literal, field, spec, conversion in parsed:
        parts.append(literal.replace("{", "{{ '{' }}"))  # a literal brace ({{ in format syntax) stays one
        if field is None:
            continue
        written = "{" + field + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
        if not field.isidentifier():
            raise TemplateProblem("not_allowed", f"not allowed: attribute or item access in {written}")
        if spec or conversion:
            raise TemplateProblem("not_allowed", f"not allowed: a format specification or conversion in {written}")
        parts.append("{{ " + field + " }}")
    return "".join(parts)


def normalise(text: str) -> str:
    """A text as written by an administrator, in this template language (the old ``{ref}`` is accepted)."""
    return text if is_jinja(text) else from_format(text)
