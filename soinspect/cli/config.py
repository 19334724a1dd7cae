"""The policy file: the same settings as the command-line flags, in TOML (read with :mod:`tomllib`).

Where it comes from, first match wins:

1. ``--config FILE``: a TOML file whose top-level keys are the settings (or, for a file named
   ``pyproject.toml``, its ``[tool.soinspect]`` table);
2. else the ``[tool.soinspect]`` table of the nearest ``pyproject.toml`` that has one, from the current
   directory upward.

Flags given on the command line override the file, setting by setting (a list or table given by a flag
replaces the file's whole list or table). Relative paths in the file (``host``, ``sysroot``,
``plugin_module``) are relative to the file's directory. Unknown keys and bad values are a
:class:`ConfigError` naming the file, the key and the value; the CLI exits 2 for it.

Settings (see ``docs/ci.md``)::

    target = "linux/amd64"        # platform a plugin must load on (ignored with host; default: GOOS/GOARCH
                                  # from the environment, else this machine's)
    host = "build/server"         # a Go host executable: judge what its plugin.Open does
    each = false                  # with host: judge each file alone
    strict = false                # also reject stripped files
    ignore = ["sym.symtab"]       # check ids to ignore
    sysroot = "/"                 # where DT_NEEDED libraries are resolved
    plugin_module = "plugins/p1"  # the plugin's module directory: fixes give go mod edit paths from it
    max_size = 1073741824         # refuse files larger than this many bytes
    format = "table"              # table, json, sarif, markdown, line, junit, codequality
    workers = 4                   # worker processes (0: in this process)

    [expect]                      # (or: expect = { Greet = "func() string" })
    Greet = "func() string"
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from soinspect._frozen import frozen
from soinspect.elf.targets import parse_target
from soinspect.errors import SoinspectError
from soinspect.output.interface import Format
from soinspect.verdict.checks import POLICY_CHECKS

if TYPE_CHECKING:
    from pathlib import Path

PYPROJECT = "pyproject.toml"


class ConfigError(SoinspectError):
    """The policy file cannot be read, or has an unknown key or a bad value."""


@frozen
class Config:
    """Validated settings from one file, keyed by the CLI option's ``dest``."""

    source: str  # the file, and the table inside it for a pyproject.toml
    path: Path
    settings: dict[str, Any]


def _bool(v: Any) -> bool | None:
    return v if isinstance(v, bool) else None


def _int(minimum: int) -> Callable[[Any], int | None]:
    def check(v: Any) -> int | None:
        return v if isinstance(v, int) and not isinstance(v, bool) and v >= minimum else None

    return check


def _str(v: Any) -> str | None:
    return v if isinstance(v, str) and v else None


def _choice(choices: Sequence[str]) -> Callable[[Any], str | None]:
    def check(v: Any) -> str | None:
        return v if isinstance(v, str) and v in choices else None

    return check


def _target(v: Any) -> str | None:
    if not isinstance(v, str):
        return None
    try:
        return parse_target(v).name
    except ValueError:
        return None


def _check_ids(v: Any) -> list[str] | None:
    if not isinstance(v, list) or not all(isinstance(x, str) and x in POLICY_CHECKS for x in v):
        return None
    return list(v)


def _expect(v: Any) -> list[str] | None:
    """``{Greet = "func() string"}`` to the ``--expect`` form ``["Greet=func() string"]``."""
    if not isinstance(v, dict):
        return None
    out = []
    for name, typ in v.items():
        if not name or "=" in name or not isinstance(typ, str) or not typ.strip():
            return None
        out.append(f"{name}={typ}")
    return out


_FORMATS = tuple(f.value for f in Format)

#: setting -> (validator returning the value or None if bad, what a good value looks like)
SETTINGS: dict[str, tuple[Callable[[Any], Any], str]] = {
    "target": (_target, 'a Go plugin platform such as "linux/amd64"'),
    "host": (_str, "a path to a Go host executable"),
    "each": (_bool, "true or false"),
    "strict": (_bool, "true or false"),
    "ignore": (_check_ids, f"a list of policy check ids: {', '.join(sorted(POLICY_CHECKS))} (docs/checks.md)"),
    "expect": (_expect, 'a table of exported names and Go types, such as {Greet = "func() string"}'),
    "sysroot": (_str, "a directory path"),
    "plugin_module": (_str, "a directory path (the plugin's module, where its go.mod is)"),
    "max_size": (_int(1), "a positive number of bytes"),
    "format": (_choice(_FORMATS), f"one of {', '.join(_FORMATS)}"),
    "workers": (_int(0), "a number of worker processes, 0 or more"),
}

#: settings whose value is a path, relative to the file's directory
_PATHS = ("host", "sysroot", "plugin_module")


def load(path: str | os.PathLike[str]) -> Config:
    """Read and validate a policy file (``[tool.soinspect]`` if it is a ``pyproject.toml``)."""
    from pathlib import Path  # pathlib (and urllib it imports) only where a file is read: not on a cold start

    p = Path(path)
    data = _read_toml(p)
    if p.name == PYPROJECT:
        table = data.get("tool", {}).get("soinspect")
        if table is None:
            raise ConfigError(str(p), "no [tool.soinspect] table")
        return _validate(p, f"{p} [tool.soinspect]", table)
    return _validate(p, str(p), data)


def discover(start: str | os.PathLike[str] | None = None) -> Config | None:
    """The ``[tool.soinspect]`` table of the nearest ``pyproject.toml`` that has one, from *start* (the
    current directory) upward; None if there is none. Bound: one file per parent directory."""
    directory = os.path.realpath(start if start is not None else os.getcwd())
    while True:
        candidate = os.path.join(directory, PYPROJECT)
        if os.path.isfile(candidate) and _may_name_soinspect(candidate):
            from pathlib import Path

            data = _read_toml(Path(candidate))
            tool = data.get("tool")
            if isinstance(tool, dict) and "soinspect" in tool:
                return _validate(Path(candidate), f"{candidate} [tool.soinspect]", tool["soinspect"])
        parent = os.path.dirname(directory)
        if parent == directory:  # the root
            return None
        directory = parent


def _may_name_soinspect(path: str) -> bool:
    """Whether the TOML file at *path* can hold a ``soinspect`` key: the word is in it, or an escape that
    could spell it (``"\u0073oinspect"``). A project's pyproject.toml that has neither is passed over
    unparsed: on a cold start the TOML parser and its import were a tenth of the run. One that cannot be
    read is parsed, so that its error is reported."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError:
        return True
    return b"soinspect" in data or b"\\u" in data or b"\\U" in data


def _read_toml(p: Path) -> dict[str, Any]:
    import tomllib  # only when there is a file to read: not on a cold start without one

    try:
        with p.open("rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise ConfigError(str(p), f"cannot read the config file: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(p), f"not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:  # tomllib decodes the whole file first: TOML is UTF-8
        raise ConfigError(str(p), f"not valid TOML: not UTF-8 ({exc.reason} at byte {exc.start})") from None


def _validate(p: Path, source: str, table: Any) -> Config:
    if not isinstance(table, dict):
        raise ConfigError(source, f"expected a table of settings, got {table!r}")
    settings: dict[str, Any] = {}
    for key, value in table.items():
        if key not in SETTINGS:
            raise ConfigError(source, f"unknown key {key!r} (= {value!r}); known keys: {', '.join(sorted(SETTINGS))}")
        check, wanted = SETTINGS[key]
        good = check(value)
        if good is None:
            raise ConfigError(source, f"key {key!r}: bad value {value!r}: expected {wanted}")
        if key in _PATHS:
            good = str(p.parent / good) if not os.path.isabs(good) else good
        settings[key] = good
    return Config(source, p, settings)


def explicit_dests(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> set[str]:
    """The options the user gave on the command line (their ``dest``), found by parsing again with every
    default suppressed: what is left was typed."""
    saved = [(a, a.default) for a in parser._actions]
    try:
        for a, _ in saved:
            a.default = argparse.SUPPRESS
        ns, _rest = parser.parse_known_args(argv)
    finally:
        for a, default in saved:
            a.default = default
    return set(vars(ns))


def apply(args: argparse.Namespace, config: Config, explicit: set[str]) -> None:
    """Fill *args* from *config* for every setting not given on the command line."""
    for key, value in config.settings.items():
        if key not in explicit:
            setattr(args, key, value)


def resolve(args: argparse.Namespace, parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> Config | None:
    """Apply ``--config FILE`` or a discovered ``[tool.soinspect]`` to *args*; the config used, or None."""
    config = load(args.config) if getattr(args, "config", None) else discover()
    if config is not None:
        apply(args, config, explicit_dests(parser, argv))
    return config
