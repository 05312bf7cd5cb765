"""The part of RQL (FIQL-style filters) that the Extensiv 3PL Warehouse Manager API takes in ``rql=``.

Supported: ``;`` (and), ``,`` (or, binding looser than ``;``), the operators ``==``, ``!=``, ``=in=``,
``=out=``, ``=gt=``, ``=ge=``, ``=lt=``, ``=le=``, ``*`` wildcards in ``==``/``!=`` values, and quoted values.
Selectors are dotted paths (``readOnly.orderId``) matched case-insensitively, as are string values (the
real service compares through a case-insensitive database collation: an assumption). Anything else is a
syntax error, reported as ``RqlError`` so the sandbox can answer 400 as the real API does for a bad filter.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

_CLAUSE = re.compile(r"\s*(?P<selector>[A-Za-z_][\w.]*)\s*(?P<op>==|!=|=[a-z]+=)\s*(?P<value>.+?)\s*")
_OPERATORS = ("==", "!=", "=in=", "=out=", "=gt=", "=ge=", "=lt=", "=le=")

Predicate = Callable[[dict[str, Any]], bool]


class RqlError(ValueError):
    """The filter is not valid RQL, or names a field the resource cannot be filtered on."""


def compile_rql(expression: str | None, allowed: Iterable[str]) -> Predicate:
    """A predicate over records for ``expression``; an empty or missing expression matches everything."""
    if not expression or not expression.strip():
        return lambda record: True
    allowed_lower = {name.lower() for name in allowed}
    groups = []
    for or_term in _split(expression, ","):
        clauses = [_compile_clause(text, allowed_lower) for text in _split(or_term, ";")]
        groups.append(clauses)
    return lambda record: any(all(clause(record) for clause in group) for group in groups)


def _split(text: str, separator: str) -> list[str]:
    """Split at top level only: separators inside parentheses or quotes belong to a value."""
    parts, depth, quote, current = [], 0, "", []
    for char in text:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                raise RqlError(f"unbalanced parenthesis in {text!r}")
        elif char == separator and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    if quote or depth:
        raise RqlError(f"unterminated quote or parenthesis in {text!r}")
    parts.append("".join(current))
    if any(not part.strip() for part in parts):
        raise RqlError(f"empty clause in {text!r}")
    return parts


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def _compile_clause(text: str, allowed: set[str]) -> Predicate:
    match = _CLAUSE.fullmatch(text)
    if match is None:
        raise RqlError(f"cannot parse clause {text!r}")
    selector, op, raw = match["selector"], match["op"], match["value"]
    if op not in _OPERATORS:
        raise RqlError(f"unsupported operator {op!r}")
    if selector.lower() not in allowed:
        raise RqlError(f"cannot filter on {selector!r}")
    if op in ("=in=", "=out="):
        if not (raw.startswith("(") and raw.endswith(")")):
            raise RqlError(f"{op} needs a parenthesised list in {text!r}")
        values = [_unquote(v.strip()) for v in _split(raw[1:-1], ",")]
        inside = op == "=in="
        return lambda record: any(_equal(_lookup(record, selector), v) for v in values) == inside
    if "(" in raw or ")" in raw:
        raise RqlError(f"parentheses are not allowed in {text!r}")
    value = _unquote(raw)
    if op == "==":
        return lambda record: _equal(_lookup(record, selector), value)
    if op == "!=":
        return lambda record: not _equal(_lookup(record, selector), value)
    compare = {"=gt=": lambda c: c > 0, "=ge=": lambda c: c >= 0, "=lt=": lambda c: c < 0, "=le=": lambda c: c <= 0}
    wanted = compare[op]
    return lambda record: (c := _compare(_lookup(record, selector), value)) is not None and wanted(c)


def _lookup(record: dict[str, Any], selector: str) -> Any:
    current: Any = record
    for part in selector.split("."):
        if not isinstance(current, dict):
            return None
        lowered = {key.lower(): key for key in current}
        key = lowered.get(part.lower())
        if key is None:
            return None
        current = current[key]
    return current


def _equal(actual: Any, wanted: str) -> bool:
    if actual is None:
        return wanted.lower() == "null"
    if isinstance(actual, bool):
        return str(actual).lower() == wanted.lower()
    if isinstance(actual, int | float):
        try:
            return float(actual) == float(wanted)
        except ValueError:
            return False
    text = str(actual).lower()
    if "*" in wanted:
        return fnmatch.fnmatchcase(text, wanted.lower())
    return text == wanted.lower()


def _compare(actual: Any, wanted: str) -> int | None:
    """-1/0/1 comparing a record value with a filter value; None when they cannot be compared."""
    if actual is None or isinstance(actual, bool):
        return None
    if isinstance(actual, int | float):
        try:
            other: Any = float(wanted)
        except ValueError:
            return None
        mine: Any = float(actual)
    else:
        mine, other = _as_datetime(str(actual)), _as_datetime(wanted)
        if mine is None or other is None:
            mine, other = str(actual).lower(), wanted.lower()
    return (mine > other) - (mine < other)


def _as_datetime(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    # Naive timestamps (the way Extensiv writes them) are taken as UTC, so both kinds compare.
    return parsed if parsed.tzinfo is None else parsed.astimezone(UTC).replace(tzinfo=None)
