"""A host's contract written as Go: ``import`` lines and ``var Name T`` declarations (``--contract FILE``).

The same text the host's author already has::

    package main

    import (
        "context"

        "example.com/real/api"
    )

    var InitModule func(context.Context, api.Logger) error
    var Name *string

Each ``var`` names a symbol the host looks up and the type it asserts. Package names resolve through the
file's own imports, as the Go compiler resolves them (an import's name is its alias, else the last
element of its path: the package name a host's source uses for it), so no host is needed to know what
``api`` is. Unexported names in a type literal belong to the host's package main, as in ``--expect``.
What is read: a ``package`` clause, single and grouped imports (an alias, ``_`` and ``.`` refused), and
``var Name Type`` one per line or in a ``var ( ... )`` group; ``//`` comments. Anything else is a
one-line ValueError naming the line.
"""

from __future__ import annotations

import re

from soinspect.go import typeexpr

#: a contract file longer than this is a mistake
MAX_CONTRACT = 1 << 20
_IMPORT = re.compile(r'^(?:([A-Za-z_]\w*)\s+)?"([^"\\]+)"$')
_VAR = re.compile(r"^([A-Za-z_]\w*)\s+(.+)$")


def parse_contract(text: str) -> list[tuple[str, str]]:
    """The ``(name, type)`` pairs of a contract file, each type resolved to import paths (the form a
    manifest carries); ValueError naming the line for anything that is not a contract."""
    if len(text) > MAX_CONTRACT:
        raise ValueError(f"{len(text)} characters, over the limit of {MAX_CONTRACT}")
    imports: dict[str, str] = {}
    decls: list[tuple[int, str, str]] = []
    group = ""  # "import" or "var" inside a ( ... ) group
    for n, raw in enumerate(text.splitlines(), 1):  # bounded by the text
        line = raw.split("//", 1)[0].strip() if '"' not in raw and "`" not in raw else _strip_comment(raw)
        if not line:
            continue
        if group:
            if line == ")":
                group = ""
            elif group == "import":
                _import(line, n, imports)
            else:
                decls.append(_var(line, n))
            continue
        word, _, rest = line.partition(" ")
        rest = rest.strip()
        if word == "package" and re.fullmatch(r"[A-Za-z_]\w*", rest):
            continue
        if word in ("import", "var") and rest == "(":
            group = word
        elif line in ("import(", "var("):
            group = line[:-1]
        elif word == "import":
            _import(rest, n, imports)
        elif word == "var":
            decls.append(_var(rest, n))
        else:
            raise ValueError(f"line {n}: expected package, import or var, found {line[:60]!r}")
    if group:
        raise ValueError(f"the {group} ( ... ) group is not closed")
    if not decls:
        raise ValueError("no var declarations: nothing the host looks up")
    packages = typeexpr.Packages({}, imports=imports)
    out = []
    for n, name, typ in decls:
        try:
            out.append((name, typeexpr.shown(typeexpr.canonical(typ, packages=packages))))
        except typeexpr.Undecidable:
            out.append((name, typ))
        except ValueError as exc:
            raise ValueError(f"line {n}: var {name}: {typ!r} is not a Go type: {exc}") from None
    return out


def _import(spec: str, n: int, imports: dict[str, str]) -> None:
    m = _IMPORT.match(spec)
    if m is None:
        raise ValueError(f"line {n}: expected an import path in double quotes, found {spec[:60]!r}")
    alias, path = m.group(1), m.group(2)
    elems = path.split("/")
    last = elems[-2] if len(elems) > 1 and re.fullmatch(r"v[2-9]\d*", elems[-1]) else elems[-1]
    name = alias or last
    if name == "_" or not re.fullmatch(r"[A-Za-z_]\w*", name):
        # the package's name is declared in its source, which is not here: say it rather than guess
        raise ValueError(f"line {n}: import {spec[:60]!r}: name the package (import name \"{path}\")")
    if name in imports and imports[name] != path:
        raise ValueError(f"line {n}: {name} is imported twice ({imports[name]}, {path})")
    imports[name] = path


def _var(spec: str, n: int) -> tuple[int, str, str]:
    m = _VAR.match(spec)
    if m is None or "=" in spec:
        raise ValueError(f"line {n}: expected var Name Type (no value), found {spec[:60]!r}")
    return n, m.group(1), m.group(2).strip()


def _strip_comment(raw: str) -> str:
    """*raw* without a trailing ``//`` comment that lies outside a string or tag."""
    quote = ""
    for i, ch in enumerate(raw):
        if quote:
            if ch == quote and (quote == "`" or raw[i - 1] != "\\"):
                quote = ""
        elif ch in "\"`":
            quote = ch
        elif raw.startswith("//", i):
            return raw[:i].strip()
    return raw.strip()
