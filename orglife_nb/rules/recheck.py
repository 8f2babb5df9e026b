"""Checks again after a save, running only the rules the change can affect (the forms' live hints).

A rule's findings depend on the frames it reads. ``reads(rule)`` finds them in its code: every frame (table) and
every meeting column named in the rule's function or in anything it reaches (the package's functions, the
context's properties, module constants), followed transitively. That over-approximates (a name that only looks
like a column counts), never under: ``tests/test_recheck.py`` checks it against the tables each rule is seen to
read, and the re-check against a full run after edits of every table and meeting column.

``Rechecker.run(frames)`` compares the frames with the last ones it checked: unchanged rules keep their findings,
the others run again, and ``engine.finish`` words them as a full run would: the same frame, row for row.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import inspect
import re
import threading
import types

import pandas as pd

from .context import Context, Scope
from .engine import check_one, finish, make_context, select_rules
from .registry import Rule

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _tables() -> frozenset[str]:
    from ..frames import Frames

    return frozenset(f.name for f in dataclasses.fields(Frames))


def _meeting_columns() -> frozenset[str]:
    from ..models import Meeting

    return frozenset(Meeting.model_fields)


def _constant(value, depth: int = 0) -> tuple[set[str], list]:
    """The names inside a constant (a string, a collection, a dataclass such as a step of ``STEPS``) and the
    functions of ours it holds (a step's deadline function)."""
    if isinstance(value, str):
        return set(_NAME.findall(value)), []
    if depth > 4:
        return set(), []
    if isinstance(value, dict):
        items = list(value) + list(value.values())
    elif isinstance(value, (tuple, list, set, frozenset)):
        items = list(value)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        items = [getattr(value, f.name) for f in dataclasses.fields(value)]
    elif _functions(value):
        return set(), [value]
    else:
        return set(), []
    names, functions = set(), []
    for item in items:
        more, found = _constant(item, depth + 1)
        names |= more
        functions += found
    return names, functions


def _ours(obj) -> bool:
    return (getattr(obj, "__module__", None) or "").startswith("orglife_nb.")


def _functions(member) -> list[types.FunctionType]:
    """The functions of ours behind a function, property, cached_property or partial."""
    if isinstance(member, property):
        member = member.fget
    elif isinstance(member, functools.cached_property):
        member = member.func
    elif isinstance(member, (staticmethod, classmethod)):
        member = member.__func__
    elif isinstance(member, functools.partial):
        member = member.func
    return [member] if inspect.isfunction(member) and _ours(member) else []


def _names(check) -> set[str]:
    """Every name reachable from ``check``: attribute and global names, names inside string constants. Each
    function's code is read with its own module's globals (a context property calling a helper of context.py)."""
    seen_codes: set[types.CodeType] = set()
    names: set[str] = set()
    # the context's members, reached as ``ctx.held`` or ``scope.meetings``: any of them may be read by attribute
    members: dict[str, list[types.FunctionType]] = {}
    for cls in (Scope, Context):
        for name, member in vars(cls).items():
            members.setdefault(name, []).extend(_functions(member))

    def follow(functions) -> None:
        pending.extend((f.__code__, f.__globals__) for f in functions)

    pending: list[tuple[types.CodeType, dict]] = [(check.__code__, check.__globals__)]
    while pending:
        code, globals_ = pending.pop()
        if code in seen_codes:
            continue
        seen_codes.add(code)
        for const in code.co_consts:
            if isinstance(const, types.CodeType):  # a lambda, comprehension or nested function
                pending.append((const, globals_))
            else:
                names |= _constant(const)[0]
        for name in code.co_names:
            names.add(name)
            follow(members.get(name, ()))
            value = globals_.get(name)
            if isinstance(value, types.ModuleType) and value.__name__.startswith("orglife_nb."):
                for attribute in code.co_names:  # module.function: any of the code's names may be one
                    follow(_functions(getattr(value, attribute, None)))
            elif isinstance(value, type) and _ours(value):
                for member in vars(value).values():
                    follow(_functions(member))
            else:
                more, functions = _constant(value)  # a function (or property, partial) is its own one function
                names |= more
                for function in functions:
                    follow(_functions(function))
    return names


@functools.cache
def reads(rule: Rule) -> tuple[frozenset[str], frozenset[str]]:
    """(tables, meeting columns) ``rule`` may read."""
    names = _names(rule.check)
    return frozenset(names & _tables()), frozenset(names & _meeting_columns())


def _changes(old, new) -> tuple[set[str], set[str]]:
    """(tables that differ, meeting columns that differ) between two frames; when the meetings' rows themselves
    differ (added, removed, reordered), every meeting column counts as changed."""
    tables = {name for name in _tables() if not getattr(old, name).equals(getattr(new, name))}
    if "meetings" not in tables:
        return tables, set()
    before, after = old.meetings, new.meetings
    if list(before.columns) != list(after.columns) or not before.meeting_id.equals(after.meeting_id):
        return tables, set(_meeting_columns())
    return tables, {c for c in before.columns if not before[c].equals(after[c])}


def affected(rules: list[Rule], tables: set[str], columns: set[str]) -> list[Rule]:
    """The rules a change of ``tables`` (of meetings: of ``columns``) can affect."""
    out = []
    for rule in rules:
        read_tables, read_columns = reads(rule)
        if (tables - {"meetings"}) & read_tables or ("meetings" in tables and columns & read_columns):
            out.append(rule)
    return out


class Rechecker:
    """The findings of one set of frames after another (the same branch, the same profile and day): a change
    runs only the rules it can affect."""

    def __init__(self, profile=None, as_of: dt.date | None = None) -> None:
        self.profile, self.as_of = profile, as_of
        self._frames, self._as_of = None, None
        self._lock = threading.Lock()
        self._parts: dict[str, pd.DataFrame] = {}
        self.last_run: list[str] = []  # the ids of the rules the last ``run`` ran (for tests and benchmarks)

    def run(self, frames, ctx: Context | None = None) -> tuple[Context, pd.DataFrame]:
        """The context of ``frames`` (``ctx`` when given: made of them, with this profile and day) and their
        findings (what ``run_checks(frames, profile, as_of)`` returns). One run at a time: a save's refresh and a
        page's first one may come from two threads."""
        with self._lock:
            return self._run(frames, ctx or make_context(frames, self.profile, self.as_of))

    def _run(self, frames, ctx: Context) -> tuple[Context, pd.DataFrame]:
        rules = select_rules()
        same_day = self._frames is not None and self._as_of == ctx.as_of  # as_of None: today, which moves on
        if same_day and _comparable(self._frames, frames):
            chosen = affected(rules, *_changes(self._frames, frames))
        else:
            chosen = rules
        parts = dict(self._parts)
        for rule in chosen:
            parts.pop(rule.id, None)
            out = check_one(ctx, rule)
            if out is not None:
                parts[rule.id] = out
        self._frames, self._as_of, self._parts = frames, ctx.as_of, parts
        self.last_run = [r.id for r in chosen]
        return ctx, finish(ctx, [parts[r.id] for r in rules if r.id in parts])


def _comparable(old, new) -> bool:
    """The same tables with the same columns (a different branch's frames compare too: its rows all differ)."""
    return all(list(getattr(old, n).columns) == list(getattr(new, n).columns) for n in _tables())
