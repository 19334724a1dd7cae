"""Build info equals `go version -m -json` (a real Go toolchain) field by field, on every corpus file.

The comparison and its normalisation rules (one each) are those of the fuzzing's differential check:
fuzz/oracles.py (``compare_buildinfo``).
"""

from __future__ import annotations

import oracles
import pytest

import corpus
from fuzz.oracles import compare_buildinfo
from soinspect.go import buildinfo
from soinspect.go.facts import read_facts


@pytest.mark.parametrize("name", corpus.names())
def test_buildinfo_matches_go_version_m(name: str) -> None:
    path = corpus.path(name)
    f = read_facts(path)
    assert compare_buildinfo(oracles.go_version_m_json(path), f.buildinfo) is None


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
