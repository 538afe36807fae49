"""Stripe's own types as the judge of the recorded Stripe responses (issue #12).

The recordings of tests/integrations/stripe_recordings were written from Stripe's API reference,
not captured, so nothing else proves their shapes are Stripe's. The installed `stripe` SDK (the
version uv.lock pins, API version `stripe.api_version`) is generated from Stripe's OpenAPI spec:
its resource classes annotate every field of every object. `shape_errors` walks a response body
and names every field those annotations do not declare, every Literal value out of its set and
every scalar of the wrong JSON type."""

from __future__ import annotations

import ast
import importlib
import inspect
import sys
import types
from functools import cache
from typing import Any, ForwardRef, Literal, TypeVar, Union, get_args, get_origin

from stripe._error_object import ErrorObject
from stripe._list_object import ListObject
from stripe._object_classes import OBJECT_CLASSES
from stripe._search_result_object import SearchResultObject
from stripe._stripe_object import StripeObject, UntypedStripeObject

# The list containers are written by hand in the SDK, not generated: their annotations leave
# out what the SDK itself reads from them, so that is added here, not guessed: "object" (what
# the SDK picks the class by), SearchResultObject._get_url_for_search reading "url", and the
# empty page SearchResultObject._empty_search_result builds with "next_page": None.
READ_BY_SDK: dict[type, dict[str, Any]] = {
    ListObject: {"object": Literal["list"]},
    SearchResultObject: {"object": Literal["search_result"], "url": str,
                         "next_page": str | None},
}
SCALARS: dict[type, tuple[type, ...]] = {str: (str,), bool: (bool,), int: (int,),
                                         float: (int, float)}  # as JSON decodes them


def resource(name: str) -> type[StripeObject]:
    """The SDK class for a body's "object" value (the SDK's own name → class table)."""
    module, attribute = OBJECT_CLASSES[name]
    found: type[StripeObject] = getattr(importlib.import_module(module), attribute)
    return found


def shape_errors(body: dict[str, Any], where: str = "body") -> list[str]:
    """Every way `body` (a response body, or an event's data.object) departs from the SDK."""
    if "object" not in body and "error" in body:
        # an error response: what StripeError reads is the ErrorObject under "error"
        errors = [f"{where}.{key}: not a field of an error response" for key in body if
                  key != "error"]
        return errors + _object(body["error"], ErrorObject, f"{where}.error")
    if body.get("object") not in OBJECT_CLASSES:
        return [f"{where}.object: {body.get('object')!r} names no Stripe object"]
    return _object(body, resource(body["object"]), where)


def _fields(cls: type) -> dict[str, tuple[type, Any]]:
    """Each declared field and the class declaring it (whose module its string names are in);
    the "_" ones are the SDK's own state."""
    fields: dict[str, tuple[type, Any]] = {}
    for klass in reversed(cls.__mro__):
        fields.update((name, (klass, kind)) for name, kind in
                      vars(klass).get("__annotations__", {}).items())
    fields.update((name, (cls, kind)) for name, kind in READ_BY_SDK.get(cls, {}).items())
    return {name: field for name, field in fields.items() if not name.startswith("_")}


def _object(value: Any, cls: type, where: str) -> list[str]:
    if not isinstance(value, dict):
        return [f"{where}: {value!r} is not a {cls.__qualname__} object"]
    fields = _fields(cls)
    errors = []
    for key, item in value.items():
        if key not in fields:
            errors.append(f"{where}.{key}: not a field of {cls.__qualname__}")
            continue
        owner, kind = fields[key]
        errors += _value(item, kind, owner, f"{where}.{key}")
    return errors


def _value(value: Any, kind: Any, owner: type, where: str) -> list[str]:
    if isinstance(kind, ForwardRef):
        kind = _resolve(kind.__forward_arg__, owner)
    origin, arguments = get_origin(kind), get_args(kind)
    if origin in (Union, types.UnionType):
        return _union(value, arguments, owner, where)
    if origin is Literal:
        return [] if value in arguments else [f"{where}: {value!r} is not one of {arguments}"]
    if origin is list:
        if not isinstance(value, list):
            return [f"{where}: {value!r} is not a list"]
        return [error for index, item in enumerate(value)
                for error in _value(item, arguments[0], owner, f"{where}[{index}]")]
    if kind is Any or isinstance(kind, TypeVar) or origin in (dict, UntypedStripeObject):
        # free-form (metadata, a list's items, an event's data.object): typed if it says so
        if isinstance(value, dict) and value.get("object") is not None:
            return shape_errors(value, where)
        return []
    if isinstance(kind, type) and issubclass(kind, StripeObject):
        return _object(value, kind, where)
    if kind in SCALARS and (not isinstance(value, SCALARS[kind])
                            or (kind is not bool and isinstance(value, bool))):  # bool is an int
        return [f"{where}: {value!r} is not a {kind.__name__}"]
    return []


def _union(value: Any, choices: tuple[Any, ...], owner: type, where: str) -> list[str]:
    if value is None:
        return [] if type(None) in choices else [f"{where}: may not be null"]
    literals = [choice for choice in choices if get_origin(choice) is Literal]
    if literals and isinstance(value, str):
        # Union[Literal[...], str]: the str is the SDK's room for values Stripe adds later;
        # the Literal is what this API version documents, and what a recording must use
        allowed = tuple(option for literal in literals for option in get_args(literal))
        return [] if value in allowed else [f"{where}: {value!r} is not one of {allowed}"]
    attempts = [_value(value, choice, owner, where) for choice in choices
                if choice is not type(None)]
    if any(attempt == [] for attempt in attempts):
        return []
    return min(attempts, key=len)  # the nearest reading says most about what is wrong


def _resolve(name: str, owner: type) -> Any:
    # annotations name other resources as strings imported only under TYPE_CHECKING
    head, _, rest = name.partition(".")
    module = sys.modules[owner.__module__]
    if hasattr(module, head):
        found = getattr(module, head)
    else:
        source, attribute = _imports(owner.__module__)[head]
        found = getattr(importlib.import_module(source), attribute)
    for part in filter(None, rest.split(".")):
        found = getattr(found, part)
    return found


@cache
def _imports(module: str) -> dict[str, tuple[str, str]]:
    tree = ast.parse(inspect.getsource(sys.modules[module]))
    return {alias.asname or alias.name: (node.module, alias.name) for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module for alias in node.names}
