"""``soinspect._frozen.frozen`` behaves as ``dataclasses.dataclass(frozen=True)`` does, for every feature
soinspect's classes use: the same class body decorated both ways gives the same signature, documentation,
repr, equality, hash, errors on assignment and deletion, ``replace``, ``asdict``, pickling and
``__match_args__``; and every soinspect dataclass made with it is frozen."""

from __future__ import annotations

import copy
import dataclasses
import importlib
import inspect
import pickle
import pkgutil
from collections.abc import Callable
from typing import Any

import pytest

import soinspect
from soinspect._frozen import frozen


def _make(decorate: Callable[[type], type]) -> dict[str, type]:
    class Plain:
        a: int
        b: str

    class Defaults:
        """Has a docstring."""

        a: int
        b: tuple[str, ...] = ()
        c: dict[str, int] = dataclasses.field(default_factory=dict)
        d: bytes = dataclasses.field(default=b"", repr=False, compare=False)
        e: int | None = dataclasses.field(default=None, hash=False)

    class Hidden:
        x: int
        y: object = dataclasses.field(default=None, compare=False, repr=False)

        @property
        def double(self) -> int:
            return 2 * self.x

    class Empty:
        pass

    return {c.__name__: decorate(c) for c in (Plain, Defaults, Hidden, Empty)}


_MINE = _make(frozen)
_THEIRS = _make(dataclasses.dataclass(frozen=True))

_ARGS: dict[str, list[tuple[tuple[Any, ...], dict[str, Any]]]] = {
    "Plain": [((1, "x"), {}), ((), {"a": 2, "b": "y"}), ((1, "x"), {})],
    "Defaults": [((1,), {}), ((1, ("p",)), {"c": {"k": 1}, "d": b"z", "e": 3}), ((1,), {"e": 4}), ((1,), {"d": b"q"})],
    "Hidden": [((1,), {}), ((1,), {"y": [1]}), ((2,), {"y": "s"})],
    "Empty": [((), {})],
}


def _assigner(attr: str) -> Callable[[object], object]:
    return lambda obj: setattr(obj, attr, 0)


def _deleter(attr: str) -> Callable[[object], object]:
    return lambda obj: delattr(obj, attr)


def _errors(obj: object, do: Callable[[object], object]) -> str:
    try:
        do(obj)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return "no error"


@pytest.mark.parametrize("name", sorted(_ARGS))
def test_frozen_is_dataclass_frozen(name: str) -> None:
    mine, theirs = _MINE[name], _THEIRS[name]
    assert str(inspect.signature(mine)) == str(inspect.signature(theirs))
    assert mine.__doc__ == theirs.__doc__
    assert getattr(mine, "__match_args__") == getattr(theirs, "__match_args__")  # noqa: B009
    assert [(f.name, f.default, f.repr, f.compare, f.hash) for f in dataclasses.fields(mine)] == [
        (f.name, f.default, f.repr, f.compare, f.hash) for f in dataclasses.fields(theirs)
    ]
    made = [(mine(*a, **k), theirs(*a, **k)) for a, k in _ARGS[name]]
    for m, t in made:
        assert repr(m) == repr(t)
        assert dataclasses.asdict(m) == dataclasses.asdict(t)
        assert copy.deepcopy(m) == m and m == m
        for attr in ("a", "x", "new"):
            assign, delete = _assigner(attr), _deleter(attr)
            assert _errors(m, assign) == _errors(t, assign)
            assert _errors(m, delete) == _errors(t, delete)
        if dataclasses.fields(m):
            first = dataclasses.fields(m)[0].name
            assert dataclasses.asdict(dataclasses.replace(m, **{first: 9})) == dataclasses.asdict(
                dataclasses.replace(t, **{first: 9})
            )
    for i, (m1, t1) in enumerate(made):
        hashable = _errors(t1, hash) == "no error"
        assert _errors(m1, hash) == _errors(t1, hash)
        if hashable:
            assert hash(m1) == hash(t1)
        for m2, t2 in made[i:]:
            assert (m1 == m2) == (t1 == t2)
            assert (m1 != m2) == (t1 != t2)
            if hashable and t1 == t2:
                assert hash(m1) == hash(m2)
        assert (m1 == object()) is False


def test_frozen_objects_pickle() -> None:
    from soinspect.elf.structs import Section
    from soinspect.verdict.report import Check

    for obj in (Section("a", 1, 2, 3, 4, 5, 6), Check("x.y", "pass", "m", {"k": 1})):
        back = pickle.loads(pickle.dumps(obj, pickle.HIGHEST_PROTOCOL))
        assert back == obj and repr(back) == repr(obj)


def test_frozen_refuses_what_it_does_not_model() -> None:
    class Base:
        a: int

    with pytest.raises(TypeError, match="a base"):
        frozen(type("Child", (dataclasses.dataclass(Base),), {"__annotations__": {"b": int}}))

    class Post:
        a: int

        def __post_init__(self) -> None:
            pass

    with pytest.raises(TypeError, match="__post_init__"):
        frozen(Post)

    class Slots:
        __slots__ = ("a",)
        a: int

    with pytest.raises(TypeError, match="__slots__"):
        frozen(Slots)

    class Init:
        a: dataclasses.InitVar[int]

    with pytest.raises(TypeError, match="InitVar"):
        frozen(Init)


def test_every_soinspect_dataclass_that_says_frozen_is() -> None:
    """No soinspect dataclass made with @frozen can be assigned to (the checks and facts are values)."""
    seen = 0
    for info in pkgutil.walk_packages(soinspect.__path__, "soinspect."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            ours = isinstance(value, type) and value.__module__ == info.name and dataclasses.is_dataclass(value)
            if ours and value.__setattr__.__qualname__ == f"{value.__qualname__}.__setattr__":
                seen += 1
                assert value.__init__.__qualname__ == f"{value.__qualname__}.__init__"
                fields = dataclasses.fields(value)
                if fields:
                    with pytest.raises(dataclasses.FrozenInstanceError):
                        value.__setattr__(object.__new__(value), fields[0].name, 0)
    assert seen > 50
