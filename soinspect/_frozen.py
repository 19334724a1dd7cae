"""``@frozen``: ``@dataclass(frozen=True)``, with one method compiled per class instead of six.

Every fact, check and report of soinspect is a frozen dataclass, 59 classes made at every start. On CPython
3.11, ``dataclasses`` compiles each generated method (``__init__``, ``__repr__``, ``__eq__``, ``__hash__``,
``__setattr__``, ``__delattr__``) in an ``exec`` of its own, and asks ``inspect`` for the signature of a class
with no docstring: 45-48 ms of a 70-80 ms import, most of a cold ``soinspect FILE``'s own time (issue 13);
with :func:`frozen`, 16-19 ms. :func:`frozen` lets ``dataclasses`` process the fields (defaults, ``field()``,
``__match_args__``, ``fields()``, ``replace()``, ``asdict()`` all as usual), compiles ``__init__`` alone (its
parameters are the fields), and gives the other five methods as closures over the field names, with the
meaning ``dataclass(frozen=True)`` gives them (CPython's ``dataclasses.py``): the same ``__init__`` signature
and annotations, the same ``repr``, equality and hash over the same fields, and ``FrozenInstanceError`` on
assignment or deletion (``tests/test_frozen.py`` compares the two). One difference, on purpose: the generated
``__init__`` stores the fields in the instance ``__dict__`` (what ``object.__setattr__`` does for a class like
these, with no descriptor or slot for a field) instead of calling ``object.__setattr__`` once per field, about
three times as fast (a file's audit makes about 200 of these objects).

Only what soinspect uses is supported: no ``__post_init__``, ``InitVar``, ``kw_only``, ``__slots__`` or
inheritance between dataclasses; :func:`frozen` refuses a class that has any of them.
"""

from __future__ import annotations

import dataclasses
import inspect
import operator
import reprlib
from collections.abc import Callable
from typing import Any, TypeVar, dataclass_transform

_T = TypeVar("_T")


class _Factory:
    """The default of a parameter whose field has a ``default_factory`` (as ``dataclasses``' sentinel)."""

    def __repr__(self) -> str:
        return "<factory>"


_FACTORY = _Factory()


@dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field,))
def frozen(cls: type[_T]) -> type[_T]:
    """``@dataclass(frozen=True)`` for *cls* (see the module docstring)."""
    had_doc = bool(cls.__dict__.get("__doc__"))
    annotations = [str(t) for t in inspect.get_annotations(cls).values()]
    if (
        hasattr(cls, "__post_init__")
        or "__slots__" in cls.__dict__
        or any("InitVar" in t for t in annotations)
        or any(dataclasses.is_dataclass(base) for base in cls.__mro__[1:])
    ):
        raise TypeError(f"@frozen does not support {cls.__qualname__}: __post_init__, __slots__, InitVar or a base")
    if not had_doc:
        cls.__doc__ = "(made below)"  # dataclasses would ask inspect for a signature it cannot have yet
    cls = dataclasses.dataclass(cls, init=False, repr=False, eq=False, frozen=False)
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]  # a dataclass now
    if any(f.kw_only is True for f in fields):
        raise TypeError(f"@frozen does not support {cls.__qualname__}: kw_only fields")
    params = _add_init(cls, fields)
    _add_the_rest(cls, fields)
    if not had_doc:  # what dataclasses writes for a class with no docstring: its signature (not asked of inspect)
        cls.__doc__ = f"{cls.__name__}({', '.join(params)})"
    return cls


def _add_init(cls: type, fields: tuple[dataclasses.Field[Any], ...]) -> list[str]:
    """``__init__``, the one method compiled (its parameters are the fields); its parameters as
    ``inspect.signature`` prints them."""
    ns: dict[str, Any] = {"__factory": _FACTORY}
    params: list[str] = []
    shown: list[str] = []
    body: list[str] = []
    for f in fields:
        if not f.init:
            continue
        if f.default is not dataclasses.MISSING:
            ns[f"__dflt_{f.name}"] = f.default
            params.append(f"{f.name}=__dflt_{f.name}")
            shown.append(f"{f.name}: {f.type!r} = {f.default!r}")
            body.append(f"__d[{f.name!r}] = {f.name}")
        elif f.default_factory is not dataclasses.MISSING:
            ns[f"__fact_{f.name}"] = f.default_factory
            params.append(f"{f.name}=__factory")
            shown.append(f"{f.name}: {f.type!r} = <factory>")
            body.append(f"__d[{f.name!r}] = __fact_{f.name}() if {f.name} is __factory else {f.name}")
        else:
            params.append(f.name)
            shown.append(f"{f.name}: {f.type!r}")
            body.append(f"__d[{f.name!r}] = {f.name}")
    for f in fields:  # init=False fields: their default, as dataclasses sets them
        if not f.init and f.default is not dataclasses.MISSING:
            ns[f"__dflt_{f.name}"] = f.default
            body.append(f"__d[{f.name!r}] = __dflt_{f.name}")
        elif not f.init and f.default_factory is not dataclasses.MISSING:
            ns[f"__fact_{f.name}"] = f.default_factory
            body.append(f"__d[{f.name!r}] = __fact_{f.name}()")
    source = f"def __init__(self, {', '.join(params)}):\n    __d = self.__dict__\n    {'; '.join(body) or 'pass'}\n"
    exec(source, ns)  # the class's own field names and defaults only: nothing from outside soinspect
    init = ns["__init__"]
    init.__annotations__ = {f.name: f.type for f in fields if f.init} | {"return": None}
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    cls.__init__ = init  # type: ignore[misc]
    return shown


def _add_the_rest(cls: Any, fields: tuple[dataclasses.Field[Any], ...]) -> None:
    """``__repr__``, ``__eq__``, ``__hash__``, ``__setattr__`` and ``__delattr__``: closures over the
    class's field names (nothing compiled), with the meaning of the methods dataclasses generates."""
    names = frozenset(f.name for f in fields)
    shown = tuple(f.name for f in fields if f.repr)
    compared = _values(tuple(f.name for f in fields if f.compare))
    hashed = _values(tuple(f.name for f in fields if (f.compare if f.hash is None else f.hash)))

    def __repr__(self: Any) -> str:
        return f"{self.__class__.__qualname__}({', '.join(f'{n}={getattr(self, n)!r}' for n in shown)})"

    def __eq__(self: Any, other: object) -> bool:
        if other.__class__ is self.__class__:
            return compared(self) == compared(other)
        return NotImplemented

    def __hash__(self: Any) -> int:
        return hash(hashed(self))

    def __setattr__(self: Any, name: str, value: object) -> None:
        if type(self) is cls or name in names:
            raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")
        super(cls, self).__setattr__(name, value)

    def __delattr__(self: Any, name: str) -> None:
        if type(self) is cls or name in names:
            raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")
        super(cls, self).__delattr__(name)

    methods: dict[str, Any] = {
        "__repr__": reprlib.recursive_repr()(__repr__),
        "__eq__": __eq__,
        "__hash__": __hash__,
        "__setattr__": __setattr__,
        "__delattr__": __delattr__,
    }
    for name, method in methods.items():
        method.__qualname__ = f"{cls.__qualname__}.{name}"
        setattr(cls, name, method)


def _values(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """The tuple of an object's *names* attributes, as dataclasses compares and hashes it (in C)."""
    if len(names) > 1:
        return operator.attrgetter(*names)  # a tuple of them
    if names:
        one = operator.attrgetter(names[0])
        return lambda obj: (one(obj),)
    return lambda obj: ()
