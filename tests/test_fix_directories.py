"""Directories, flag patterns and plugin identity in causes, differences and fixes (issue 26), over the corpus.

The real builds and loads that prove each recipe are in tests/test_fix_layouts.py; these tests check the
pieces on their own and, over every recorded host/plugin set of the corpus, that no ``differs`` row shows
two spellings of one directory and that no cause or fix names a ``-gcflags``/``-asmflags`` that reaches no
package both sides link.
"""

from __future__ import annotations

import re

import pytest

import corpus
from soinspect.go.buildinfo import BuildInfo, BuildSetting, Module
from soinspect.go.facts import read_facts
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
