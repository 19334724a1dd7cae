"""Build info equals `go version -m -json` (a real Go toolchain) field by field, on every corpus file.

Normalisation rules, one each:
1. Go's reader in 1.22+ finds the blob only through the `.go.buildinfo` section header; soinspect also
   searches the first writable PT_LOAD when section headers are gone (as Go's reader did through 1.21), so
   on a file without section headers soinspect reports build info where `go version -m` reports none.
2. A pre-1.13 style file has no blob; soinspect reports the version from `runtime.buildVersion`, which
   `go version -m` does not read.
"""

from __future__ import annotations

from typing import Any

import oracles
import pytest

import corpus
from soinspect.go import buildinfo
from soinspect.go.facts import read_facts
from soinspect.output.json import buildinfo_json


def _module(m: Any) -> dict[str, Any] | None:
    if not m:
        return None
    return {
        "path": m.get("Path", ""),
        "version": m.get("Version", ""),
        "sum": m.get("Sum", ""),
        "replace": _module(m.get("Replace")),
    }


def _expected(go: dict[str, Any]) -> dict[str, Any]:
    main = _module(go.get("Main"))
    if main == {"path": "", "version": "", "sum": "", "replace": None}:
        main = None
    return {
        "go_version": go["GoVersion"],
        "path": go.get("Path", ""),
        "main": main,
        "deps": [_module(d) for d in go.get("Deps") or []],
        "settings": [{"key": s["Key"], "value": s.get("Value", "")} for s in go.get("Settings") or []],
    }


@pytest.mark.parametrize("name", corpus.names())
def test_buildinfo_matches_go_version_m(name: str) -> None:
    path = corpus.path(name)
    go = oracles.go_version_m_json(path)
    f = read_facts(path)
    ours = f.buildinfo.info if f.buildinfo is not None else None
    if go is None:
        if ours is not None and (ours.source.startswith("segment scan") or ours.format == "buildversion"):
            return  # normalisation rules 1 and 2 (module docstring)
        assert ours is None, f"go version -m finds no build info in {name}, soinspect found {ours}"
        return
    assert ours is not None, f"go version -m reads build info from {name}; soinspect: {f.buildinfo}"
    got = buildinfo_json(ours)
    for key in ("source", "format"):
        got.pop(key)
    assert got == _expected(go)


@pytest.mark.parametrize("name", [n for n in corpus.names() if corpus.manifest()[n]["kind"] != "not-elf"])
def test_go_version_m_text_round_trip(name: str) -> None:
    """The text form rebuilt from soinspect's fields parses back to the same fields."""
    f = read_facts(corpus.path(name))
    if f.buildinfo is None or f.buildinfo.info is None:
        return
    info = f.buildinfo.info
    text = buildinfo.go_version_m(info, "f")
    body = "".join(line[1:] + "\n" for line in text.splitlines()[1:])
    again = buildinfo.parse_modinfo(info.go_version, body)
    assert (again.path, again.main, again.deps, again.settings) == (
        info.path,
        info.main,
        info.deps,
        info.settings,
    )


def test_go_unquote() -> None:
    assert buildinfo.go_unquote('"-s -w"') == "-s -w"
    assert buildinfo.go_unquote('"a\\tb\\"c\\x41\\u00e9"') == 'a\tb"cA\u00e9'
    assert buildinfo.go_unquote("`raw\\n`") == "raw\\n"
    with pytest.raises(ValueError):
        buildinfo.go_unquote('"unterminated')
