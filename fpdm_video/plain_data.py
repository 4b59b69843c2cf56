"""Plain data (what YAML and JSON hold) into typed dataclasses, every field checked before anything uses it.

:func:`from_plain` builds a dataclass from nested dicts and lists. Every key is checked against the
dataclass's fields and every value against the field's annotation, and then against the rules of
the field and of its class, so that a config file either yields a whole, well-typed config or an
:class:`~fpdm_video.errors.InputError` that names the key by its dotted path
(``noise_schedule.num_train_timesteps must be ..., got -5``). It refuses:

- a key the dataclass does not have (with the nearest known key, for a typo) and a required key
  that is missing;
- a value of another type than its annotation: ``bool`` is not a number, an ``int`` is a ``float``
  (not the other way round), a float must be finite, a list stands for a tuple of the right length;
- a value that breaks its field's rule (``rules``: (class, field) -> (test, what it must be)) or its
  class's (``class_rules``: class -> [(test, what must hold)]), tested on the built value;
- a free-form value (a field typed ``Any``, such as the diffusers constructor arguments) nested
  deeper than :data:`MAX_DEPTH` or holding more than :data:`MAX_VALUES` values in all, counting
  every visit: YAML aliases can make a few lines stand for billions of values (an "alias bomb"),
  which would hang any code that walks them.

Unions with several types besides None (``int | tuple[int, int]``) keep the value as given once it
fits one of them; ``X | None`` builds X.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from fpdm_video.errors import InputError

T = TypeVar("T")
FieldRule = tuple[Callable[[Any], bool], str]  # (test of the built value, what the value must be, in words)
ClassRule = tuple[Callable[[Any], bool], str]  # (test of the built object, what must hold, in words)

MAX_DEPTH = 32  # nesting levels of a free-form value
MAX_VALUES = 100_000  # values in all the free-form values of one config, each visit counted


class _Mismatch(Exception):
    """A value does not have its annotation's type (turned into a message by the field that holds it)."""


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def describe(tp: Any) -> str:
    """An annotation in words: ``int`` -> "a whole number", ``tuple[float, float]`` -> "a list of 2 numbers"."""
    if tp is Any:
        return "any value"
    if dataclasses.is_dataclass(tp):
        return f"a mapping (the fields of {tp.__name__})"
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        words = [describe(a) for a in args if a is not type(None)]
        return " or ".join(words) + (" or null" if type(None) in args else "")
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return f"a list of {_plural(args[0])}"
        if len(set(args)) == 1:
            return f"a list of {len(args)} {_plural(args[0])}"
        return f"a list of {len(args)} values ({', '.join(describe(a) for a in args)})"
    if origin is list:
        return f"a list of {_plural(args[0]) if args else 'values'}"
    if origin is dict:
        return "a mapping"
    return {bool: "true or false", int: "a whole number", float: "a finite number", str: "a string"}.get(tp, getattr(tp, "__name__", str(tp)))


def _plural(tp: Any) -> str:
    return {int: "whole numbers", float: "numbers", str: "strings", bool: "true/false values"}.get(tp, f"values ({describe(tp)})")


def _yaml_float_hint(tp: Any, value: Any) -> str:
    """A hint for floats that YAML 1.1 reads as strings (``3e-4``: no dot, so not a float to it)."""
    wants_float = tp is float or float in typing.get_args(tp)
    if not (wants_float and isinstance(value, str)):
        return ""
    try:
        float(value)
    except ValueError:
        return ""
    return f" (YAML reads {value} as a string: write it with a dot, e.g. 1.0e-4)"


def _check_free(value: Any, where: str, depth: int, budget: list[int]) -> None:
    """Walk the free-form value at ``where``: refuse one nested too deep or too large (see the module docstring)."""
    stack = [(value, depth)]
    while stack:
        item, level = stack.pop()
        budget[0] += 1
        if budget[0] > MAX_VALUES:
            raise InputError(f"the config's free-form values count more than {MAX_VALUES} by {where} (YAML aliases that "
                             "repeat one another?); a config holds a few hundred")  # fmt: skip
        if level > MAX_DEPTH:
            raise InputError(f"{where} is nested more than {MAX_DEPTH} levels deep; a config is a few levels deep")
        if isinstance(item, Mapping):
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, Sequence) and not isinstance(item, (str, bytes)):
            stack.extend((v, level + 1) for v in item)


def _build(tp: Any, value: Any, where: str, ctx: dict) -> Any:
    """``value`` as type ``tp``; raises :class:`_Mismatch` when it has another type (InputError for what is inside)."""
    if tp is Any:
        _check_free(value, where, 0, ctx["budget"])
        return value
    if dataclasses.is_dataclass(tp):
        return _build_dataclass(tp, value, where, ctx)
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        options = [a for a in args if a is not type(None)]
        for option in options:
            try:
                built = _build(option, value, where, ctx)
            except _Mismatch:
                continue
            return built if len(options) == 1 else value
        raise _Mismatch
    if tp is type(None):
        if value is None:
            return None
        raise _Mismatch
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise _Mismatch
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise _Mismatch
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            return value
        raise _Mismatch
    if tp is str:
        if isinstance(value, str):
            return value
        raise _Mismatch
    if origin in (tuple, list):
        if not isinstance(value, (list, tuple)):
            raise _Mismatch
        if origin is list or (len(args) == 2 and args[1] is Ellipsis):
            item = args[0] if args else Any
            items = [_build(item, v, f"{where}[{i}]", ctx) for i, v in enumerate(value)]
        else:
            if len(value) != len(args):
                raise _Mismatch
            items = [_build(a, v, f"{where}[{i}]", ctx) for i, (a, v) in enumerate(zip(args, value))]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        if not isinstance(value, dict):
            raise _Mismatch
        key_type, item_type = args if args else (Any, Any)
        if key_type is str and not all(isinstance(k, str) for k in value):
            bad = next(k for k in value if not isinstance(k, str))
            raise InputError(f"{where}: key {_shown(bad)} must be a string (quote it in YAML)")
        return {k: _build(item_type, v, f"{where}.{k}", ctx) for k, v in value.items()}
    if tp in (dict, list, tuple):  # bare annotations: the container's kind only
        if isinstance(value, tp) or (tp is tuple and isinstance(value, list)):
            _check_free(value, where, 0, ctx["budget"])
            return tuple(value) if tp is tuple else value
        raise _Mismatch
    return value  # an annotation this module does not check (none of the project's configs has one)


def _build_dataclass(cls: type, value: Any, where: str, ctx: dict) -> Any:
    at = f"{where}: " if where else ""
    if not isinstance(value, dict):
        raise InputError(f"{where or cls.__name__} must be a mapping (the fields of {cls.__name__}), got {_shown(value)}")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    hints = typing.get_type_hints(cls)
    unknown = [k for k in value if k not in fields]
    if unknown:
        near = difflib.get_close_matches(str(unknown[0]), list(fields), n=1)
        hint = f" (did you mean {near[0]!r}?)" if near else ""
        raise InputError(f"{at}unknown key(s) {[str(k) for k in unknown]} for {cls.__name__}{hint}; known: {sorted(fields)}")
    missing = [n for n, f in fields.items() if n not in value and f.default is dataclasses.MISSING
               and f.default_factory is dataclasses.MISSING]  # fmt: skip
    if missing:
        raise InputError(f"{at}missing key(s) {missing} for {cls.__name__}")
    kwargs = {}
    for key, item in value.items():
        path = f"{where}.{key}" if where else key
        rule = ctx["rules"].get((cls, key))
        try:
            built = _build(hints[key], item, path, ctx)
        except _Mismatch:
            what = rule[1] if rule else describe(hints[key])
            raise InputError(f"{path} must be {what}, got {_shown(item)}{_yaml_float_hint(hints[key], item)}") from None
        if rule is not None and not rule[0](built):
            raise InputError(f"{path} must be {rule[1]}, got {_shown(item)}")
        kwargs[key] = built
    obj = cls(**kwargs)
    for test, what in ctx["class_rules"].get(cls, ()):
        if not test(obj):
            raise InputError(f"{at}{what}")
    return obj


def from_plain(cls: type[T], data: Any, *, rules: Mapping[tuple[type, str], FieldRule] | None = None,
               class_rules: Mapping[type, Sequence[ClassRule]] | None = None, where: str = "") -> T:  # fmt: skip
    """Build dataclass ``cls`` from plain ``data``, every key and value checked (see the module docstring).

    ``where`` is the dotted path of ``data`` in a larger document, for the messages ("" at the top).
    """
    ctx = {"rules": dict(rules or {}), "class_rules": dict(class_rules or {}), "budget": [0]}
    return _build_dataclass(cls, data, where, ctx)


def rule_problem(obj: Any, rules: Mapping[tuple[type, str], FieldRule]) -> str | None:
    """The first field of the built dataclass ``obj`` that breaks its rule, in words (``style must be ...``), or None."""
    for f in dataclasses.fields(obj):
        rule = rules.get((type(obj), f.name))
        if rule is None:
            continue
        value = getattr(obj, f.name)
        try:
            ok = rule[0](value)
        except (TypeError, ValueError):  # a value of another type, set in code
            ok = False
        if not ok:
            return f"{f.name} must be {rule[1]}, got {_shown(value)}"
    return None
