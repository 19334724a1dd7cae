"""Directories, flag patterns and plugin identity in causes, differences and fixes (issue 26), over the corpus.

The real builds and loads that prove each recipe are in tests/test_fix_layouts.py; these tests check the
pieces on their own and, over every recorded host/plugin set of the corpus, that no ``differs`` row shows
two spellings of one directory and that no cause or fix names a ``-gcflags``/``-asmflags`` that reaches no
package both sides link.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import corpus
from soinspect.elf.file import ElfFile
from soinspect.go import sourcedirs
from soinspect.go.buildinfo import BuildInfo, BuildSetting, Module
from soinspect.go.facts import read_facts
from soinspect.go.module import _find_pclntab
from soinspect.go.sourcedirs import module_dir, package_dirs, package_of
from soinspect.loader.differences import differences, flag_pattern, reaches_shared
from soinspect.verdict.audit import check_host
from soinspect.verdict.report import Report


@pytest.mark.parametrize(
    ("name", "package"),
    [
        ("example.com/dep.Hello", "example.com/dep"),
        ("example.com/dep.(*T).M", "example.com/dep"),
        ("example.com/dep.G[...].func1", "example.com/dep"),
        ("runtime.mallocgc", "runtime"),
        ("type:.eq.example.com/dep.T", None),
    ],
)
def test_package_of_a_function_name(name: str, package: str | None) -> None:
    assert package_of(name) == package


def test_module_dir_from_package_dirs() -> None:
    dirs = {"example.com/lib": "/w/libs/lib", "example.com/lib/sub": "/w/libs/lib/sub"}
    assert module_dir(dirs, "example.com/lib") == "/w/libs/lib"
    assert module_dir({"example.com/lib/sub": "/w/libs/lib/sub"}, "example.com/lib") == "/w/libs/lib"
    assert module_dir({"example.com/lib/sub": "/elsewhere/x"}, "example.com/lib") is None


@pytest.mark.parametrize(
    ("value", "pattern"),
    [("-N -l", None), ("all=-N -l", "all"), ("-trimpath /src", None), ("std=-l", "std"), ("", None)],
)
def test_flag_pattern(value: str, pattern: str | None) -> None:
    assert flag_pattern(value) == pattern


def _bi(*deps: str, main: str = "example.com/host") -> BuildInfo:
    return BuildInfo("go1.27.3", main, Module(main, "(devel)"), tuple(Module(d, "v1.0.0") for d in deps))


@pytest.mark.parametrize(
    ("value", "reaches"),
    [
        ("-N -l", False),  # the command line's packages: a main package, never shared
        ("all=-N -l", True),
        ("std=-N", True),
        ("runtime=-N", True),
        ("cmd=-N", False),
        ("example.com/dep=-N", True),  # a module both link
        ("example.com/dep/...=-N", True),
        ("example.com/other=-N", False),  # only one side links it
        ("./...=-N", True),  # relative: it may name packages both link
    ],
)
def test_a_flag_reaches_a_shared_package_only_through_its_pattern(value: str, reaches: bool) -> None:
    assert reaches_shared(value, _bi("example.com/dep", "example.com/other"), _bi("example.com/dep")) is reaches


def test_gcflags_without_pattern_is_no_difference() -> None:
    plugin = BuildInfo("go1.27.3", "p", settings=(BuildSetting("-gcflags", "-N -l"),))
    host = BuildInfo("go1.27.3", "h", settings=(BuildSetting("-gcflags", "-trimpath /src"),))
    assert differences(plugin, host) == ()
    reaching = BuildInfo("go1.27.3", "p", settings=(BuildSetting("-gcflags", "all=-N -l"),))
    assert [d.field for d in differences(reaching, host)] == ["-gcflags"]


def test_relative_replacements_resolve_from_the_binary() -> None:
    """usedep-v1.so (built in src/usedep with ``=> ../dep-v1``) records the absolute directory."""
    f = read_facts(corpus.path("usedep-v1.so"))
    assert f.buildinfo is not None and f.buildinfo.info is not None
    assert f.buildinfo.info.dir_of("example.com/dep") == "/tmp/soinspect-corpus/src/dep-v1"
    assert f.elf is not None and f.go is not None
    assert package_dirs(f.elf, f.go.pclntab, ("example.com/dep",)) == {
        "example.com/dep": "/tmp/soinspect-corpus/src/dep-v1"
    }


def _every_function_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """package_dirs as it was: every function's name read and tested (no candidates found in bulk)."""
    monkeypatch.setattr(sourcedirs, "_candidates", lambda *args: None)


@pytest.mark.parametrize("name", ["usedep-v1.so", "host-1.27.3-dep", "greet.so", "greet-1.19.so", "host-1.25.5"])
def test_package_dirs_candidates_are_every_function_read(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The functions found in bulk give what reading every function's name gives, for packages wanted
    alone, together, by a prefix of their path, none of them, and an empty path (every '.' and '/')."""
    f = read_facts(corpus.path(name))
    assert f.elf is not None and f.go is not None and f.go.pclntab is not None
    wanted_sets = [
        ("example.com/dep",),
        ("example.com/dep", "example.com/host"),
        ("example.com",),
        ("runtime",),
        ("internal/abi", "sync"),
        ("nowhere.example",),
        ("",),
        ("example.com/\ufffd",),
    ]
    fast = [package_dirs(f.elf, f.go.pclntab, w) for w in wanted_sets]
    with monkeypatch.context() as m:
        _every_function_read(m)
        slow = [package_dirs(f.elf, f.go.pclntab, w) for w in wanted_sets]
    assert fast == slow
    assert [list(d) for d in fast] == [list(d) for d in slow]  # the same order: the first function wins


class _Pclntab:
    """usedep-v1.so's bytes and where its pclntab's tables lie, to set names and name offsets in a copy."""

    def __init__(self) -> None:
        self.data = Path(corpus.path("usedep-v1.so")).read_bytes()
        elf = ElfFile.from_bytes("usedep-v1.so", self.data)
        va = _find_pclntab(elf)
        assert va is not None
        head = elf.read_va(va, 72)
        assert head is not None
        nfunc, _, _, self.funcname, self.cu, self.filetab, self.pctab, pcln = struct.unpack_from("<8Q", head, 8)
        table = elf.read_va(va + pcln, 8 * nfunc)
        assert table is not None
        self.name_at: list[int] = []  # file offset of each function's nameOff
        self.name_offsets: list[int] = []
        for i in range(nfunc):
            at = elf.va_to_offset(va + pcln + struct.unpack_from("<I", table, 8 * i + 4)[0] + 4, 4)
            assert at is not None
            self.name_at.append(at)
            self.name_offsets.append(struct.unpack_from("<i", self.data, at)[0])
        names_at = elf.va_to_offset(va + self.funcname, 1)
        assert names_at is not None
        self.names_at = names_at
        self.names = self.data[names_at : names_at + self.cu - self.funcname]

    def first_function_of(self, package: str) -> int:
        prefix = package.encode() + b"."
        return next(i for i, o in enumerate(self.name_offsets) if self.names.startswith(prefix, o))

    def elf(self, name_offsets: dict[int, int], at_names: dict[int, bytes] | None = None) -> ElfFile:
        """A copy with the nameOff of function *i* set to ``name_offsets[i]`` (i modulo the count) and the
        bytes at offset *k* from the name table's start set to ``at_names[k]``."""
        out = bytearray(self.data)
        for i, value in name_offsets.items():
            struct.pack_into("<i", out, self.name_at[i % len(self.name_at)], value)
        for k, raw in (at_names or {}).items():
            out[self.names_at + k : self.names_at + k + len(raw)] = raw
        return ElfFile.from_bytes("usedep-v1.so", bytes(out))


_PCLNTAB = _Pclntab()


def _both_ways(elf: ElfFile, wanted: list[tuple[str, ...]]) -> list[dict[str, str]]:
    """package_dirs for each of *wanted*, asserted the same (in the same order) with every function read."""
    pclntab = _find_pclntab(elf)
    fast = [package_dirs(elf, pclntab, w) for w in wanted]
    with pytest.MonkeyPatch.context() as m:
        _every_function_read(m)
        slow = [package_dirs(elf, pclntab, w) for w in wanted]
    assert fast == slow
    assert [list(d) for d in fast] == [list(d) for d in slow]
    return fast


def test_package_dirs_a_name_that_runs_past_its_table() -> None:
    """A name starting 2 bytes before the end of the name table (no NUL left in it) is read on past it,
    into the cutab: "ab" there and ".x" after it name a function of package "ab"."""
    t = _PCLNTAB
    size = t.cu - t.funcname
    dep = t.first_function_of("example.com/dep")
    elf = t.elf({dep: size - 2}, {size - 2: b"ab", size: b".x\0"})
    assert _both_ways(elf, [("ab",)]) == [{"ab": "/tmp/soinspect-corpus/src/dep-v1"}]


def test_package_dirs_a_name_outside_its_table() -> None:
    """A name offset past the name table, into the file name table: a "/tmp/..." name is a function of a
    package whose path starts with "/", as reading it finds."""
    t = _PCLNTAB
    dep = t.first_function_of("example.com/dep")
    elf = t.elf({dep: t.filetab - t.funcname})
    found = _both_ways(elf, [("",), ("/opt",)])
    assert found[0] and found[1] and all(p.startswith("/") for p in found[0])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_package_dirs_candidates_with_name_offsets_anywhere(data: st.DataObject) -> None:
    """Name offsets set anywhere (outside the name table, at its very end, where a prefix would run past
    it, into the file name table, into the middle of names): the bulk search finds what reading every
    function finds."""
    t = _PCLNTAB
    size = t.cu - t.funcname
    value = st.one_of(
        st.integers(-(1 << 31), (1 << 31) - 1),
        st.integers(-20, 40),
        st.integers(size - 40, size + 20),
        st.integers(t.filetab - t.funcname, t.pctab - t.funcname),
        st.sampled_from(t.name_offsets).flatmap(lambda o: st.integers(o - 2, o + 20)),
    )
    offsets = data.draw(st.dictionaries(st.integers(0, 1 << 16), value, max_size=8))
    _both_ways(t.elf(offsets), [("example.com/dep",), ("runtime",), ("",), ("/opt",)])


def _corpus_reports() -> list[tuple[str, list[str], list[Report]]]:
    out: list[tuple[str, list[str], list[Report]]] = []
    seen: set[tuple[str, ...]] = set()
    for run in corpus.observed():
        key = (run["host"], *run["plugins"])
        if key in seen:
            continue
        seen.add(key)
        reports = check_host(corpus.path(run["host"]), [corpus.path(p) for p in run["plugins"]])
        out.append((run["host"], run["plugins"], reports))
    return out


def test_corpus_differs_rows_and_causes_are_real() -> None:
    """Over every recorded set: no ``differs`` row shows two spellings of one directory, no cause, step or
    flag names a -gcflags/-asmflags without a package pattern."""
    checked = 0
    for host, plugins, reports in _corpus_reports():
        for r in reports:
            checked += 1
            for d in r.differences:
                if d.field.startswith("module ") and "[" in d.plugin and "[" in d.host:
                    where = (d.plugin.rsplit("[", 1)[1], d.host.rsplit("[", 1)[1])
                    assert where[0] != where[1], (host, plugins, d)
                if d.field in ("-gcflags", "-asmflags"):
                    assert any(flag_pattern(v) for v in (d.plugin, d.host) if v != "unset"), (host, plugins, d)
            rows = {d.field for d in r.differences}
            for flag in ("-gcflags", "-asmflags"):
                # a cause against the host names the flag only where the differs table has a real row for it
                for g in r.causes:
                    if flag in g.cause and "host" in g.cause:
                        assert flag in rows, (host, plugins, g.cause)
                if r.fix is None:
                    continue
                for b in r.fix.build_flags:
                    if b.startswith(flag + "="):
                        assert flag_pattern(b.split("=", 1)[1]) is not None, (host, plugins, b)
                for step in r.fix.steps:
                    values = re.findall(flag + r"='([^']*)'", step)
                    assert not values or any(flag_pattern(v) for v in values), (host, plugins, step)
    assert checked > 100


def test_plugin_module_makes_replace_paths_relative_to_it() -> None:
    """Without --plugin-module the plugin's own build gives its directory (src/usedep: ``../dep-v1``); with
    it, the path is relative to the directory given, and still names the host's directory."""
    host, plugin = corpus.path("host-1.27.3-dep"), corpus.path("usedep-v2.so")
    (r,) = check_host(host, [plugin])
    assert r.fix is not None and r.fix.go_mod_edits == ("go mod edit -replace=example.com/dep=../dep-v1",)
    (r,) = check_host(host, [plugin], plugin_module="/tmp/soinspect-corpus/elsewhere/p")
    assert r.fix is not None and r.fix.go_mod_edits == ("go mod edit -replace=example.com/dep=../../src/dep-v1",)
    (r,) = check_host(host, [plugin], plugin_module="/tmp/soinspect-corpus/src")
    assert r.fix is not None and r.fix.go_mod_edits == ("go mod edit -replace=example.com/dep=./dep-v1",)
