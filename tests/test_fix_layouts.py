"""Fixes on real module layouts, each rebuilt and loaded for real (issue 26).

Every case builds a real host and a real plugin in a layout real projects have, shows that the real host
refuses the plugin, takes soinspect's JSON fix (``fix_json``, what ``--format json`` prints), applies it in
the plugin module's own directory (its toolchain, ``env`` on top of the build's environment, each
``go mod edit`` line run there, ``package_path`` as a new package directory, ``go build`` with exactly its
``build_flags``) and shows the real host loading the rebuilt plugin. Each case also says which steps the
fix must not have (no ``go mod edit`` where no module differs, no ``-gcflags`` the host's main package
alone had, no renaming of the host's module).

Layouts:

- a monorepo: ``host/``, ``plugins/p1/`` and ``plugins/group/p2/``, each with a relative ``replace`` of one
  shared library ``libs/lib`` (``../libs/lib``, ``../../libs/lib``, ``../../../libs/lib``), mismatched by
  ``-trimpath``, by ``-race``, by a dependency version, and by a byte-identical copy of the library in
  another directory (the one case that needs a ``replace``, relative to the plugin's module);
- a Dockerfile-style host (``-trimpath -gcflags "-trimpath $PWD" -asmflags "-trimpath $PWD"``) with a
  plugin that loads and plugins that do not;
- a plugin inside the host's module (``inner/``), built from the host's tree with ``-mod=vendor``: loaded
  twice (the same build: load it once), and built a second time with a change (a new package directory);
- a plugin module that vendors its dependency (``-mod=vendor``) for a host that reads the module cache;
- a ``go.work`` workspace holding host, library and plugin;
- a host built with a ``default.pgo`` and a plugin without one, and the reverse.

Run alone: ``python -m pytest -q tests/test_fix_layouts.py``. Builds share the GOCACHE of
tests/test_fix_recipes.py (``SOINSPECT_RECIPE_CACHE``). CI runs these once per run (``-m layouts`` is
deselected from the second, newer-LIEF pass: the builds and loads do not depend on LIEF, and the reports
of every LIEF are compared over the corpus).
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from test_fix_recipes import CACHE, DATA, base_env, load, toolchain, write_proxy

from soinspect.output.json import fix_json
from soinspect.verdict.audit import check_host
from soinspect.verdict.report import Report

pytestmark = [pytest.mark.slow, pytest.mark.layouts]

HOST_MAIN = (DATA / "host" / "main.go").read_text().replace('"example.com/dep"', '"example.com/lib"')
HOST_MAIN = HOST_MAIN.replace("dep.Hello()", "lib.Name()")
LIB = 'package lib\n\nimport "example.com/dep"\n\n//go:noinline\nfunc Name() string { return "lib " + dep.Hello() }\n'
PLUGIN = (
    'package main\n\nimport "example.com/lib"\n\nvar stamp string\n\n'
    'func Message() string { return lib.Name() + stamp }\n'
)
PROFILE = """package main

import (
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"
)

// writes a CPU profile of map and string work: a default.pgo that changes the runtime's inlining
func main() {
	f, err := os.Create(os.Args[1])
	if err != nil {
		panic(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		panic(err)
	}
	m := map[string]int{}
	for end := time.Now().Add(700 * time.Millisecond); time.Now().Before(end); {
		for i := 0; i < 1000; i++ {
			s := strings.Repeat(strconv.Itoa(i), 3)
			m[s] += len(s)
		}
		m = map[string]int{}
	}
	pprof.StopCPUProfile()
	f.Close()
}
"""


def gomod(module: str, requires: Sequence[str] = (), replaces: Sequence[str] = ()) -> str:
    text = f"module {module}\n\ngo 1.21\n"
    if requires:
        text += "\nrequire (\n" + "".join(f"\t{r}\n" for r in requires) + ")\n"
    text += "".join(f"\nreplace {r}\n" for r in replaces)
    return text


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)


def monorepo(root: Path) -> None:
    """host/, plugins/p1/, plugins/group/p2/, libs/lib (which needs example.com/dep from the proxy)."""
    lib_req = ("example.com/lib v0.0.0", "example.com/dep v1.0.0")
    write(
        root,
        {
            "libs/lib/go.mod": gomod("example.com/lib", ("example.com/dep v1.0.0",)),
            "libs/lib/lib.go": LIB,
            "host/go.mod": gomod("example.com/mono/host", lib_req, ("example.com/lib => ../libs/lib",)),
            "host/main.go": HOST_MAIN,
            "plugins/p1/go.mod": gomod("example.com/mono/plugins/p1", lib_req, ("example.com/lib => ../../libs/lib",)),
            "plugins/p1/main.go": PLUGIN,
            "plugins/group/p2/go.mod": gomod(
                "example.com/mono/plugins/group/p2", lib_req, ("example.com/lib => ../../../libs/lib",)
            ),
            "plugins/group/p2/main.go": PLUGIN,
        },
    )


def vendored(root: Path) -> None:
    """The host's module with its plugin inside (inner/) and its dependencies vendored (go mod vendor)."""
    write(
        root,
        {
            "go.mod": gomod("example.com/vhost", ("example.com/dep v1.0.0",)),
            "main.go": (DATA / "host" / "main.go").read_text(),
            "inner/main.go": PLUGIN.replace("example.com/lib", "example.com/dep").replace("lib.Name", "dep.Hello"),
        },
    )


def vendored_plugin(root: Path) -> None:
    """A host reading example.com/dep from the module cache, a plugin module reading it from its vendor/."""
    write(
        root,
        {
            "host/go.mod": gomod("example.com/chost", ("example.com/dep v1.0.0",)),
            "host/main.go": (DATA / "host" / "main.go").read_text(),
            "plugin/go.mod": gomod("example.com/cplugin", ("example.com/dep v1.0.0",)),
            "plugin/main.go": PLUGIN.replace("example.com/lib", "example.com/dep").replace("lib.Name", "dep.Hello"),
        },
    )


def workspace(root: Path) -> None:
    """go.work using host/, plugin/ and lib/: the library comes from the workspace, not a replace."""
    req = ("example.com/dep v1.0.0",)
    write(
        root,
        {
            "go.work": "go 1.21\n\nuse (\n\t./host\n\t./lib\n\t./plugin\n)\n",
            "lib/go.mod": gomod("example.com/lib", ("example.com/dep v1.0.0",)),
            "lib/lib.go": LIB,
            "host/go.mod": gomod("example.com/whost", req),
            "host/main.go": HOST_MAIN,
            "plugin/go.mod": gomod("example.com/wplugin", req),
            "plugin/main.go": PLUGIN,
        },
    )


@dataclass
class Env:
    root: Path
    base: dict[str, str]

    def go(self, argv: Sequence[str], cwd: Path, env: dict[str, str] | None = None, version: str = "1.27.3") -> None:
        full = {**self.base, **(env or {})}
        argv = ["nice", "-n", "10", toolchain(version), *argv]
        p = subprocess.run(argv, cwd=cwd, env=full, capture_output=True, text=True, timeout=900)
        if p.returncode != 0:
            raise AssertionError(f"go {' '.join(argv)} in {cwd} failed:\n{p.stdout}{p.stderr}")


@dataclass
class Case:
    name: str
    layout: str  # monorepo, vendored, workspace
    host: tuple[str, ...]  # go build flags of the host, in the host's directory
    plugin_dir: str  # the plugin module's own directory (or the package's, for inner/)
    plugin: tuple[str, ...]  # go build flags of the plugin
    edits: tuple[str, ...] = ()  # what the user changed in the plugin module first (go mod edit lines)
    loads_before: bool = False  # the plugin already loads: soinspect must say so and show no -gcflags row
    first: bool = False  # a first plugin built like the plugin (without the change) is loaded before
    copy_first: bool = False  # the plugin is a byte copy of the first
    host_pgo: bool = False  # a default.pgo in the host's directory
    plugin_pgo: bool = False  # a default.pgo in the plugin's directory
    env: tuple[tuple[str, str], ...] = ()  # the layout's environment (GOFLAGS, GOWORK)
    setup: tuple[str, ...] = ()  # shell-free preparation: "copy A B" (a byte-identical copy of a directory)
    plugin_env: tuple[tuple[str, str], ...] = ()  # on top of env, for the plugin's builds only


MONO_P1, MONO_P2 = "plugins/p1", "plugins/group/p2"
CASES = [
    Case("monorepo p1: -trimpath on the host", "monorepo", ("-trimpath",), MONO_P1, ()),
    Case("monorepo p2: -trimpath on the host", "monorepo", ("-trimpath",), MONO_P2, ()),
    Case("monorepo p1: -race on the plugin", "monorepo", (), MONO_P1, ("-race",)),
    Case("monorepo p2: -race on the plugin", "monorepo", (), MONO_P2, ("-race",)),
    Case(
        "monorepo p1: dependency at another version",
        "monorepo",
        (),
        MONO_P1,
        (),
        edits=("go mod edit -require=example.com/dep@v1.1.0",),
    ),
    Case(
        "monorepo p2: dependency at another version",
        "monorepo",
        (),
        MONO_P2,
        (),
        edits=("go mod edit -require=example.com/dep@v1.1.0",),
    ),
    Case(
        "monorepo p2: the library copied to another directory",
        "monorepo",
        (),
        MONO_P2,
        (),
        edits=("go mod edit -replace=example.com/lib=../../../libs-copy/lib",),
        setup=("copy libs/lib libs-copy/lib",),
    ),
    Case(
        "docker host: -trimpath plugin loads",
        "monorepo",
        ("-trimpath", "-gcflags=-trimpath {host}", "-asmflags=-trimpath {host}"),
        MONO_P1,
        ("-trimpath",),
        loads_before=True,
    ),
    Case(
        "docker host: plain plugin",
        "monorepo",
        ("-trimpath", "-gcflags=-trimpath {host}", "-asmflags=-trimpath {host}"),
        MONO_P2,
        (),
    ),
    Case(
        "docker host: plugin with -gcflags=all=-N -l",
        "monorepo",
        ("-trimpath", "-gcflags=-trimpath {host}", "-asmflags=-trimpath {host}"),
        MONO_P1,
        ("-trimpath", "-gcflags=all=-N -l"),
    ),
    Case(
        "inner plugin with -mod=vendor loaded twice",
        "vendored",
        (),
        "inner",
        ("-mod=vendor",),
        first=True,
        copy_first=True,
        env=(("GOFLAGS", ""),),
    ),
    Case(
        "inner plugin with -mod=vendor built again with a change",
        "vendored",
        (),
        "inner",
        ("-mod=vendor", "-ldflags=-X main.stamp=2"),
        first=True,
        env=(("GOFLAGS", ""),),
    ),
    Case(
        "vendored plugin module, host from the module cache",
        "vendored_plugin",
        (),
        "plugin",
        ("-mod=vendor",),
        env=(("GOFLAGS", ""),),
    ),
    Case("go.work: -race on the plugin", "workspace", (), "plugin", ("-race",), env=(("GOFLAGS", ""),)),
    Case(
        "go.work: plugin built outside the workspace from a copy of the library",
        "workspace",
        (),
        "plugin",
        (),
        edits=("go mod edit -require=example.com/lib@v0.0.0", "go mod edit -replace=example.com/lib=../lib-copy"),
        env=(("GOFLAGS", ""),),
        setup=("copy lib lib-copy",),
        plugin_env=(("GOWORK", "off"), ("GOFLAGS", "-mod=mod")),
    ),
    Case("pgo: a profile on the host only", "monorepo", (), MONO_P1, (), host_pgo=True),
    Case("pgo: a profile on the plugin only", "monorepo", (), MONO_P2, (), plugin_pgo=True),
]
LAYOUTS = {"monorepo": monorepo, "vendored": vendored, "vendored_plugin": vendored_plugin, "workspace": workspace}


@dataclass
class Outcome:
    case: Case
    before: list[str]
    report: Report
    fix: dict[str, Any] | None
    after: list[str]
    after_report: Report | None
    seconds: float
    error: str = ""


def _env(c: Case) -> dict[str, str]:
    env = dict(c.env)
    if c.layout == "workspace":
        env["GOWORK"] = ""  # found from the directory: the workspace is on
    return env


def _plugin_env(c: Case, env: dict[str, str]) -> dict[str, str]:
    return {**env, **dict(c.plugin_env)}


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Outcome | str]]:
    work = tmp_path_factory.mktemp("layouts")
    CACHE.mkdir(parents=True, exist_ok=True)
    base = base_env(write_proxy(work))
    e = Env(work, base)
    profile = work / "profile"
    write(profile, {"go.mod": gomod("example.com/profile"), "main.go": PROFILE})
    e.go(["run", ".", str(work / "default.pgo")], profile)
    with ThreadPoolExecutor(2) as pool:
        yield list(pool.map(lambda c: _guarded(c, e), CASES))


def _guarded(c: Case, e: Env) -> Outcome | str:
    """The case's outcome, or its build failure as text (one case failing does not hide the others)."""
    try:
        return _run_case(c, e)
    except AssertionError as exc:
        return f"{c.name}: {exc}"


@pytest.fixture(scope="module")
def layouts(outcomes: list[Outcome | str]) -> list[Outcome]:
    """Every case's outcome; fails (naming each) if a build of any case failed."""
    failed = [o for o in outcomes if isinstance(o, str)]
    assert not failed, "\n\n".join(failed)
    return [o for o in outcomes if not isinstance(o, str)]


def _layout(c: Case, e: Env, root: Path) -> dict[str, str]:
    LAYOUTS[c.layout](root)
    env = {**_env(c)}
    if c.layout == "vendored":
        e.go(["mod", "tidy"], root, {"GOFLAGS": "-mod=mod"})
        e.go(["mod", "vendor"], root, {"GOFLAGS": "-mod=mod"})
    if c.layout == "vendored_plugin":
        for d in ("host", "plugin"):
            e.go(["mod", "tidy"], root / d, {"GOFLAGS": "-mod=mod"})
        e.go(["mod", "vendor"], root / "plugin", {"GOFLAGS": "-mod=mod"})
    for step in c.setup:
        verb, src, dst = step.split()
        assert verb == "copy"
        shutil.copytree(root / src, root / dst)
    if c.host_pgo:
        shutil.copy(e.root / "default.pgo", root / "host" / "default.pgo")
    if c.plugin_pgo:
        shutil.copy(e.root / "default.pgo", root / c.plugin_dir / "default.pgo")
    return env


def _host_dir(c: Case, root: Path) -> Path:
    return root if c.layout == "vendored" else root / "host"


def _run_case(c: Case, e: Env) -> Outcome:
    start = time.monotonic()
    slug = "".join(ch if ch.isalnum() else "_" for ch in c.name)
    root = e.root / slug
    env = _layout(c, e, root)
    hdir = _host_dir(c, root)
    host = root / "host.bin"
    e.go(["build", *(f.replace("{host}", str(hdir)) for f in c.host), "-o", str(host), "."], hdir, env)
    pdir = root / c.plugin_dir
    env = _plugin_env(c, env)
    first: list[Path] = []
    if c.first:
        first = [root / "first.so"]
        flags = [f for f in c.plugin if not f.startswith("-ldflags")]
        e.go(["build", "-buildmode=plugin", *flags, "-o", str(first[0]), "."], pdir, env)
    for edit in c.edits:
        e.go(shlex.split(edit)[1:], pdir, env)
    bad = root / "bad.so"
    if c.copy_first:
        shutil.copy(first[0], bad)
    else:
        e.go(["build", "-buildmode=plugin", *c.plugin, "-o", str(bad), "."], pdir, env)
    files = [*map(str, first), str(bad)]
    before = load(host, [*first, bad], e.base)
    report = check_host(str(host), files)[-1]
    if report.fix is None:
        return Outcome(c, before, report, None, [], None, time.monotonic() - start)
    fix = fix_json(report.fix)
    fixed = root / "fixed.so"
    if fix["rebuild"] == "none":
        # the same build twice: the fix is to load it once (no rebuild)
        after = load(host, first, e.base)
        after_report = check_host(str(host), list(map(str, first)))[-1]
        return Outcome(c, before, report, fix, after, after_report, time.monotonic() - start)
    bdir = pdir
    if fix["package_path"]:
        # a package directory of its own, beside the plugin's, with the changed sources
        bdir = pdir.parent / fix["package_path"].rsplit("/", 1)[1]
        shutil.copytree(pdir, bdir)
    fenv = {**env, **fix["env"]}
    for edit in fix["go_mod_edits"]:
        argv = shlex.split(edit)
        assert argv[:3] == ["go", "mod", "edit"], edit
        e.go(argv[1:], pdir, fenv, (fix["toolchain"] or "go1.27.3").removeprefix("go"))
    version = (fix["toolchain"] or "go1.27.3").removeprefix("go")
    e.go(["build", *fix["build_flags"], "-o", str(fixed), "."], bdir, fenv, version)
    after = load(host, [*first, fixed], e.base)
    after_report = check_host(str(host), [*map(str, first), str(fixed)])[-1]
    return Outcome(c, before, report, fix, after, after_report, time.monotonic() - start)


def _describe(o: Outcome) -> str:
    return f"{o.case.name}: before {o.before}, fix {o.fix}, after {o.after} ({o.seconds:.0f} s)"


@pytest.mark.parametrize("index", range(len(CASES)), ids=[c.name for c in CASES])
def test_layout_fix_makes_the_real_host_load_it(outcomes: list[Outcome | str], index: int) -> None:
    o = outcomes[index]
    assert not isinstance(o, str), o
    if o.case.loads_before:
        # the real host loads it, soinspect agrees, and no difference is shown for flags that reach no
        # shared package (the host's -gcflags/-asmflags without a pattern)
        assert o.before == ["ok"], _describe(o)
        assert o.report.loadable and o.fix is None, _describe(o)
        assert not o.report.differences, _describe(o)
        return
    assert o.before and o.before[-1] != "ok", _describe(o)
    assert o.fix is not None and o.fix["known"], _describe(o)
    assert o.after and all(r == "ok" for r in o.after), _describe(o)
    assert o.after_report is not None and o.after_report.loadable, _describe(o)


def _by_name(layouts: list[Outcome]) -> dict[str, Outcome]:
    return {o.case.name: o for o in layouts}


def test_monorepo_relative_replacements_are_one_directory(layouts: list[Outcome]) -> None:
    """../libs/lib and ../../libs/lib are one directory: no differs row, no cause, no go mod edit for it."""
    for name, o in _by_name(layouts).items():
        if not name.startswith("monorepo") or "copied" in name:
            continue
        assert o.fix is not None
        assert not any("example.com/lib" in e for e in o.fix["go_mod_edits"]), _describe(o)
        assert not any(d.field == "module example.com/lib" for d in o.report.differences), _describe(o)
        assert not any("example.com/lib" in g.cause for g in o.report.causes), _describe(o)


def test_monorepo_fixes_have_only_the_needed_steps(layouts: list[Outcome]) -> None:
    by = _by_name(layouts)
    for p in ("p1", "p2"):
        trim = by[f"monorepo {p}: -trimpath on the host"].fix
        assert trim is not None and trim["build_flags"] == ["-buildmode=plugin", "-trimpath"]
        assert not trim["go_mod_edits"]
        race = by[f"monorepo {p}: -race on the plugin"].fix
        assert race is not None and race["build_flags"] == ["-buildmode=plugin"] and not race["go_mod_edits"]
        dep = by[f"monorepo {p}: dependency at another version"].fix
        assert dep is not None and dep["go_mod_edits"] == ["go mod edit -require=example.com/dep@v1.0.0"]
    copied = by["monorepo p2: the library copied to another directory"]
    assert copied.fix is not None
    # relative to the plugin's own module directory, plugins/group/p2
    assert copied.fix["go_mod_edits"] == ["go mod edit -replace=example.com/lib=../../../libs/lib"]
    assert any(d.field == "module example.com/lib" for d in copied.report.differences)


def test_docker_host_gcflags_reach_nothing_shared(layouts: list[Outcome]) -> None:
    """-gcflags/-asmflags without a pattern reached only the host's main package: never copied or blamed."""
    by = _by_name(layouts)
    plain, noopt = by["docker host: plain plugin"], by["docker host: plugin with -gcflags=all=-N -l"]
    assert plain.fix is not None and plain.fix["build_flags"] == ["-buildmode=plugin", "-trimpath"]
    assert noopt.fix is not None and noopt.fix["build_flags"] == ["-buildmode=plugin", "-trimpath"]
    for o in (plain, noopt):
        assert o.fix is not None
        text = " ".join([*o.fix["steps"], *(g.cause for g in o.report.causes)])
        assert "-trimpath /" not in text and "asmflags" not in text, _describe(o)  # the host's own flags
        assert not any(d.field == "-asmflags" for d in o.report.differences)
    assert not any(d.field == "-gcflags" for d in plain.report.differences)
    assert any(d.field == "-gcflags" and d.plugin == "all=-N -l" for d in noopt.report.differences)


def test_inner_plugin_identity(layouts: list[Outcome]) -> None:
    by = _by_name(layouts)
    twice = by["inner plugin with -mod=vendor loaded twice"].fix
    assert twice is not None and twice["rebuild"] == "none" and not twice["build_flags"]
    assert "remove the duplicate file" in twice["steps"][0]
    changed = by["inner plugin with -mod=vendor built again with a change"].fix
    assert changed is not None and changed["package_path"] == "example.com/vhost/inner_2"
    assert not changed["go_mod_edits"]  # never rename the host's own module


def test_workspace_module_is_compared_as_a_directory(layouts: list[Outcome]) -> None:
    """The host's example.com/lib is a go.work module ((devel), no replace): the fix points the plugin at
    that directory, relative to the plugin's own module."""
    o = _by_name(layouts)["go.work: plugin built outside the workspace from a copy of the library"]
    assert o.fix is not None and o.fix["go_mod_edits"] == ["go mod edit -replace=example.com/lib=../lib"], _describe(o)


def test_vendored_plugin_is_built_from_the_module_cache(layouts: list[Outcome]) -> None:
    o = _by_name(layouts)["vendored plugin module, host from the module cache"]
    assert o.fix is not None and o.fix["build_flags"] == ["-buildmode=plugin", "-mod=mod"], _describe(o)
    assert not o.fix["go_mod_edits"]
    assert any("vendor/" in g.cause for g in o.report.causes), _describe(o)


def test_pgo_fix_names_the_hosts_profile(layouts: list[Outcome]) -> None:
    by = _by_name(layouts)
    host_only = by["pgo: a profile on the host only"]
    assert host_only.fix is not None
    pgo = [f for f in host_only.fix["build_flags"] if f.startswith("-pgo=")]
    assert len(pgo) == 1 and pgo[0].endswith("/host/default.pgo"), _describe(host_only)
    assert any("needs a copy" in s for s in host_only.fix["steps"])
    plugin_only = by["pgo: a profile on the plugin only"]
    assert plugin_only.fix is not None and "-pgo=off" in plugin_only.fix["build_flags"], _describe(plugin_only)
    for o in (host_only, plugin_only):
        assert all("standard library was built differently" not in g.cause for g in o.report.causes), _describe(o)


def test_layout_timing(layouts: list[Outcome], record_property: Any) -> None:
    record_property("layout_seconds", {o.case.name: round(o.seconds) for o in layouts})
    assert len(layouts) == len(CASES)
