"""Every fix soinspect proposes makes the real loader accept the plugin.

For each real mismatch (a dependency at another version, -race and -trimpath on either side, -gcflags,
GOEXPERIMENT, another Go release, a duplicate plugin path, a host built without cgo, a plugin for another
platform), this test builds the mismatching pair with real toolchains, checks that the real host
(tests/data/recipes/host, which calls plugin.Open) rejects it, asks soinspect for the fix, applies the fix
mechanically (its toolchain, ``env`` on top of the build's own environment, its ``go mod edit`` commands,
``go build`` with exactly its ``build_flags``), rebuilds, and loads the result in the real host. Every rebuilt
file must load, and soinspect must then say it loads. A missing library (no rebuild) is loaded by the real
corpus host once the library is where the fix says the loader looks.

The dependency comes from a file-based GOPROXY that the test writes (``file://``, checksum database off), so
nothing needs the network. One GOCACHE is shared by every build (``SOINSPECT_RECIPE_CACHE``, default
``/tmp/soinspect-recipes``); hosts are built once. Toolchains: ``SOINSPECT_GO`` (go1.27.3) and go1.26.6 from
``scripts/go-toolchain.sh`` (installed by ``.ci/run``); a missing toolchain fails the test.

Run alone: ``python -m pytest -q tests/test_fix_recipes.py`` (a few minutes on a cold cache).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import time
import zipfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import corpus
from soinspect.verdict.audit import audit, check_host
from soinspect.verdict.fix import Fix
from soinspect.verdict.report import Report

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data" / "recipes"
CACHE = Path(os.environ.get("SOINSPECT_RECIPE_CACHE", "/tmp/soinspect-recipes"))
MAIN, OTHER = "1.27.3", "1.26.6"
DEP_VERSIONS = ("v1.0.0", "v1.1.0")


def toolchain(version: str) -> str:
    """The go binary of *version* (``1.27.3`` or ``go1.27.3``); fails the test if it is not installed."""
    version = version.removeprefix("go")
    if version == MAIN and os.environ.get("SOINSPECT_GO"):
        return os.environ["SOINSPECT_GO"]
    root = os.environ.get("SOINSPECT_TOOLCHAINS", "/opt/sgo")
    go = Path(root) / version / "bin" / "go"
    if not go.exists():
        pytest.fail(f"Go toolchain {version} is not installed: run scripts/go-toolchain.sh {version} (.ci/run does)")
    return str(go)


def write_proxy(root: Path) -> Path:
    """A file-based GOPROXY serving example.com/dep at DEP_VERSIONS (the Go module proxy protocol)."""
    base = root / "proxy" / "example.com" / "dep" / "@v"
    base.mkdir(parents=True, exist_ok=True)
    src = (DATA / "dep" / "dep.go").read_text()
    for v in DEP_VERSIONS:
        mod = "module example.com/dep\n\ngo 1.21\n"
        (base / f"{v}.mod").write_text(mod)
        (base / f"{v}.info").write_text(json.dumps({"Version": v, "Time": "2026-01-01T00:00:00Z"}))
        with zipfile.ZipFile(base / f"{v}.zip", "w") as z:
            z.writestr(f"example.com/dep@{v}/go.mod", mod)
            z.writestr(f"example.com/dep@{v}/dep.go", src.replace("VERSION", v))
    (base / "list").write_text("\n".join(DEP_VERSIONS) + "\n")
    return root / "proxy"


def base_env(proxy: Path) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "TMPDIR", "LANG")}
    return {
        **keep,
        "GOPROXY": proxy.as_uri(),
        "GOSUMDB": "off",
        "GONOSUMDB": "example.com",
        "GOFLAGS": "-mod=mod",
        "GOTOOLCHAIN": "local",
        "GOWORK": "off",
        "GOENV": "off",
        "GOTELEMETRY": "off",
        "GOPATH": str(CACHE / "gopath"),
        "GOMODCACHE": str(CACHE / "gopath" / "pkg" / "mod"),
        "GOCACHE": str(CACHE / "gocache"),
        "CGO_ENABLED": "1",
    }


@dataclass(frozen=True)
class Build:
    """One ``go build``: the toolchain, environment on top of the base, flags, and go.mod edits first."""

    version: str = MAIN
    env: dict[str, str] = field(default_factory=dict)
    flags: tuple[str, ...] = ()
    mod_edits: tuple[str, ...] = ()


def go_build(src: Path, out: Path, work: Path, b: Build, env0: dict[str, str], buildmode: str | None) -> None:
    """Copy *src* to *work*, run the go.mod edits there, and build *out* (flags as given, plus -buildmode)."""
    if work.exists():
        shutil.rmtree(work)
    shutil.copytree(src, work)
    go = toolchain(b.version)
    env = {**env0, **b.env}
    for edit in b.mod_edits:
        argv = shlex.split(edit)
        assert argv[:3] == ["go", "mod", "edit"], edit
        _run([go, *argv[1:]], work, env)
    argv = [go, "build", *([f"-buildmode={buildmode}"] if buildmode else []), *b.flags, "-o", str(out), "."]
    _run(["nice", "-n", "10", *argv], work, env)


def _run(argv: Sequence[str], cwd: Path, env: dict[str, str]) -> None:
    p = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    if p.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} in {cwd} failed:\n{p.stdout}{p.stderr}")


def load(host: Path, plugins: Sequence[Path], env0: dict[str, str]) -> list[str]:
    """What the real host says for each plugin: "ok", "error: ...", or "crash: ..." (then no more lines)."""
    p = subprocess.run(
        [str(host), *map(str, plugins)], capture_output=True, text=True, timeout=120, env={"PATH": env0["PATH"]}
    )
    out = []
    for line in p.stdout.splitlines():
        word, _, rest = line.partition(" ")
        out.append("ok" if word == "ok" else f"error: {rest}")
    if p.returncode != 0:
        first = next((ln for ln in p.stderr.splitlines() if ln.strip()), f"exit {p.returncode}")
        out.append(f"crash: {first}")
    return out


@dataclass(frozen=True)
class Case:
    """A real mismatch: a host, the plugin build that does not match it, and (optionally) a first plugin."""

    name: str
    host: str  # key of HOSTS
    plugin: Build
    src: Path = DATA / "plugin"
    first: Build | None = None  # a plugin loaded before (the duplicate plugin path)
    given: str | None = None  # a committed corpus file used as the mismatching plugin instead of a build


HOSTS: dict[str, Build] = {
    "plain": Build(),
    "race": Build(flags=("-race",)),
    "trimpath": Build(flags=("-trimpath",)),
    "go1.26": Build(version=OTHER),
    "nocgo": Build(env={"CGO_ENABLED": "0"}),
}

CASES = [
    Case("dependency at another version", "plain", Build(mod_edits=("go mod edit -require=example.com/dep@v1.1.0",))),
    Case("-race on the plugin only", "plain", Build(flags=("-race",))),
    Case("-race on the host only", "race", Build()),
    Case("-trimpath on the plugin only", "plain", Build(flags=("-trimpath",))),
    Case("-trimpath on the host only", "trimpath", Build()),
    Case("-gcflags on the plugin only", "plain", Build(flags=("-gcflags=all=-N -l",))),
    Case("GOEXPERIMENT on the plugin only", "plain", Build(env={"GOEXPERIMENT": "arenas"})),
    Case("go1.26.6 plugin, go1.27.3 host", "plain", Build(version=OTHER)),
    Case("go1.27.3 plugin, go1.26.6 host", "go1.26", Build()),
    Case(
        "duplicate plugin path",
        "plain",
        Build(flags=("-ldflags=-X main.stamp=2",)),
        first=Build(),
    ),
    Case("host built with CGO_ENABLED=0", "nocgo", Build()),
    Case("plugin for linux/arm64", "plain", Build(), src=REPO / "corpus" / "src" / "greet", given="greet-arm64.so"),
]


@dataclass
class Outcome:
    case: Case
    before: list[str]
    fix: Fix | None
    after: list[str]
    after_report: Report | None
    seconds: float


@pytest.fixture(scope="module")
def recipes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Outcome]]:
    work = tmp_path_factory.mktemp("recipes")
    CACHE.mkdir(parents=True, exist_ok=True)
    env0 = base_env(write_proxy(work))
    hosts = {name: work / f"host-{name.replace('.', '_')}" for name in HOSTS}

    def build_host(name: str) -> None:
        go_build(DATA / "host", hosts[name], work / f"hostsrc-{name}", HOSTS[name], env0, None)

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(build_host, HOSTS))
        yield list(pool.map(lambda c: _run_case(c, work, hosts, env0), CASES))


def _run_case(c: Case, work: Path, hosts: dict[str, Path], env0: dict[str, str]) -> Outcome:
    start = time.monotonic()
    slug = "".join(ch if ch.isalnum() else "_" for ch in c.name)
    d = work / slug
    d.mkdir()
    host = hosts[c.host]
    first: list[Path] = []
    if c.first is not None:
        first = [d / "first.so"]
        go_build(c.src, first[0], d / "first-src", c.first, env0, "plugin")
    if c.given is not None:
        bad = Path(corpus.path(c.given))
    else:
        bad = d / "bad.so"
        go_build(c.src, bad, d / "bad-src", c.plugin, env0, "plugin")
    before = load(host, [*first, bad], env0)
    fix = check_host(str(host), [*map(str, first), str(bad)])[-1].fix
    if fix is None or not fix.known:
        return Outcome(c, before, fix, [], None, time.monotonic() - start)
    if fix.rebuild == "host":
        # the host's own recipe: its source, the fix's toolchain, env and flags
        new_host = d / "host-fixed"
        b = Build(fix.toolchain or MAIN, {**HOSTS[c.host].env, **fix.env}, fix.build_flags, fix.go_mod_edits)
        go_build(DATA / "host", new_host, d / "host-src", b, env0, None)
        after = load(new_host, [*first, bad], env0)
        report = check_host(str(new_host), [*map(str, first), str(bad)])[-1]
        return Outcome(c, before, fix, after, report, time.monotonic() - start)
    # The user's plugin build as it was (its go.mod edits, its env), with the fix applied on top: the fix's
    # toolchain, env over the build's own env, its go mod edits after the user's, exactly its build flags.
    fixed = d / "fixed.so"
    b = Build(
        fix.toolchain or c.plugin.version,
        {**c.plugin.env, **fix.env},
        fix.build_flags,
        c.plugin.mod_edits + fix.go_mod_edits,
    )
    go_build(c.src, fixed, d / "fixed-src", b, env0, None)
    after = load(host, [*first, fixed], env0)
    report = check_host(str(host), [*map(str, first), str(fixed)])[-1]
    return Outcome(c, before, fix, after, report, time.monotonic() - start)


def _describe(o: Outcome) -> str:
    return f"{o.case.name}: real host before {o.before}, fix {o.fix}, real host after {o.after}"


@pytest.mark.parametrize("index", range(len(CASES)), ids=[c.name for c in CASES])
def test_fix_makes_the_real_loader_accept(recipes: list[Outcome], index: int) -> None:
    o = recipes[index]
    # the mismatch is real: the real host does not load the file
    assert o.before and o.before[-1] != "ok", _describe(o)
    # soinspect gives a fix it knows, and derives it from the host's build info
    assert o.fix is not None and o.fix.known, _describe(o)
    assert "-o" not in o.fix.build_flags
    # the rebuilt file loads in the real host (every file of the set), and soinspect agrees
    assert o.after and all(r == "ok" for r in o.after), _describe(o)
    assert o.after_report is not None and o.after_report.loadable, _describe(o)


def test_recipe_run_summary(recipes: list[Outcome], record_property: Callable[[str, object], None]) -> None:
    loaded = sum(1 for o in recipes if o.after and all(r == "ok" for r in o.after))
    record_property("recipes", f"{len(recipes)} mismatches, {loaded} rebuilt files loaded")
    assert len(recipes) == len(CASES)


def test_fix_dependency_names_only_the_mismatching_module(recipes: list[Outcome]) -> None:
    o = next(o for o in recipes if o.case.name == "dependency at another version")
    assert o.fix is not None
    assert o.fix.go_mod_edits == ("go mod edit -require=example.com/dep@v1.0.0",)
    assert o.fix.toolchain == "go1.27.3"


def test_release_fix_names_the_host_toolchain(recipes: list[Outcome]) -> None:
    by_name = {o.case.name: o for o in recipes}
    older, newer = by_name["go1.26.6 plugin, go1.27.3 host"].fix, by_name["go1.27.3 plugin, go1.26.6 host"].fix
    assert older is not None and older.toolchain == "go1.27.3"
    assert newer is not None and newer.toolchain == "go1.26.6"


def test_audit_without_host_fixes_only_the_file_itself() -> None:
    """Without --host the fix keeps the file's own release and settings and says so (basis)."""
    r = audit(corpus.path("greet-arm64.so"))
    assert r.fix is not None and r.fix.known
    assert r.fix.env.get("GOARCH") == "amd64"
    assert r.fix.toolchain == "go1.27.3"
    assert r.fix.basis.startswith("no --host")
    assert audit(corpus.path("greet.so")).fix is None


def test_missing_library_fix_makes_the_real_loader_accept() -> None:
    """The missing-library fix (no rebuild): with the library where the loader looks (LD_LIBRARY_PATH naming
    its directory, one of the three ways the fix gives), the real corpus host loads cgo-absent.so."""
    host, plugin = corpus.path("host-1.27.3"), corpus.path("cgo-absent.so")
    (report,) = check_host(host, [plugin])
    assert report.fix is not None and report.fix.known and report.fix.rebuild == "none"
    assert "libabsent.so" in report.fix.steps[0] and "LD_LIBRARY_PATH" in report.fix.steps[1]

    def outcome(env: dict[str, str]) -> str:
        p = subprocess.run([host, plugin], capture_output=True, text=True, timeout=60, env=env)
        result: str = json.loads(p.stdout.splitlines()[0])["outcome"]
        return result

    path_only = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    assert outcome(path_only) == "error"  # the real host agrees that it is missing
    library_dir = os.path.dirname(corpus.path("libabsent.so"))
    assert outcome({**path_only, "LD_LIBRARY_PATH": library_dir}) == "ok"
