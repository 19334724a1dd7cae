"""Every linux platform Go builds plugins for: the platform table is Go's, and soinspect agrees with the real
loader on each platform it can run here (corpus/platforms: arm64, arm, 386, ppc64le, s390x, riscv64 hosts
and plugins from go1.27.3 and go1.26.6, loaded under qemu-user or natively by corpus/platforms/observe.py).

What is compared, for every recorded run, through the host binary and through a host manifest written from
it: ``loadable``, the outcome (ok, error, crash) and the open error (so the package Go names), with the file's
path written as the placeholders {path} / {path_minus_so} (test_real_loader.normalise: one rule).
"""

from __future__ import annotations

import json
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import platforms
import pytest
from test_real_loader import normalise

from soinspect.elf import platforms as table
from soinspect.elf import targets
from soinspect.verdict import audit as api
from soinspect.verdict.report import Report

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
import gen_platforms

RUNS = platforms.observed()


# -- the table is Go's -----------------------------------------------------------------------------------


def test_table_is_what_the_installed_releases_say() -> None:
    """Each release installed here (CI: go1.27.3 and go1.26.6 at least) states the row the table has."""
    sources = gen_platforms.default_sources()
    assert sources, "no Go sources installed (scripts/go-toolchain.sh 1.27.3 installs one)"
    for src in sources:
        version, minor = gen_platforms.release(src)
        text = gen_platforms.supported_go(src).read_text()
        assert minor in table.PLUGIN, f"{version} is installed but has no row: run scripts/gen_platforms.py"
        assert gen_platforms.plugin_platforms(text) == table.PLUGIN[minor], version
        assert gen_platforms.race_platforms(text) == table.RACE[minor], version


def test_targets_are_exactly_what_some_release_supports() -> None:
    assert set(targets._TABLE) == {a for arches in table.PLUGIN.values() for a in arches}
    assert not [t for t in targets.TARGETS if "mips" in t]
    assert targets.parse_target("linux/ppc64").goarch == "ppc64"
    with pytest.raises(ValueError, match=r"no Go release builds plugins for it.*linux/386, linux/amd64"):
        targets.parse_target("linux/mips64le")


@pytest.mark.parametrize(
    ("version", "goarch", "plugin", "race"),
    [
        ("go1.26.6", "ppc64", False, False),
        ("go1.27.3", "ppc64", True, False),
        ("go1.19.8", "riscv64", False, False),
        ("go1.25.5", "riscv64", True, False),
        ("go1.26.6", "riscv64", True, True),
        ("go1.27.3", "arm", True, False),
        ("go1.20.14", "amd64", None, None),  # no row: nothing claimed
    ],
)
def test_release_support(version: str, goarch: str, plugin: bool | None, race: bool | None) -> None:
    assert targets.plugin_release_supports(version, goarch) is plugin
    assert targets.race_release_supports(version, goarch) is race


def test_default_target_follows_the_environment_then_the_machine() -> None:
    assert targets.default_target({"GOARCH": "arm64"}) == (targets.TARGETS["linux/arm64"], "environment")
    assert targets.default_target({"GOOS": "linux", "GOARCH": "s390x"})[0].goarch == "s390x"
    assert targets.default_target({}) == (targets.this_machine(), "this machine")
    with pytest.raises(ValueError, match="GOARCH=mips in the environment"):
        targets.default_target({"GOARCH": "mips"})
    with pytest.raises(ValueError, match="GOOS=darwin in the environment"):
        targets.default_target({"GOOS": "darwin"})


@pytest.mark.parametrize(
    ("machine", "pointer", "goarch"),
    [("x86_64", 8, "amd64"), ("x86_64", 4, "386"), ("aarch64", 8, "arm64"), ("armv7l", 4, "arm"),
     ("aarch64", 4, "arm"), ("ppc64le", 8, "ppc64le"), ("s390x", 8, "s390x"), ("riscv64", 8, "riscv64"),
     ("loongarch64", 8, "loong64"), ("mips64", 8, None)],
)
def test_machine_goarch(machine: str, pointer: int, goarch: str | None) -> None:
    assert targets.machine_goarch(machine, pointer) == goarch


# -- the real loader on every platform -------------------------------------------------------------------


def _run_id(run: dict[str, Any]) -> str:
    return f"{run['host']}:{'+'.join(run['plugins'])}"


@cache
def _manifest_of(host: str) -> str:
    """A host manifest written by ``soinspect manifest`` from the host binary (the CLI, as a user would)."""
    out = platforms.out_dir() / (host + ".manifest.json")
    proc = subprocess.run([sys.executable, "-P", "-m", "soinspect", "manifest", platforms.path(host), "-o", str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(out.read_text())["platform"] == f"linux/{platforms.manifest()[host]['goarch']}"
    return str(out)


def _agree(reports: list[Report], run: dict[str, Any], how: str) -> None:
    for rep, real in zip(reports, run["results"], strict=True):
        where = f"{how}: {run['host']} opening {real['plugin']} (run {_run_id(run)})"
        assert rep.outcome == real["outcome"], f"{where}: predicted {rep.outcome} ({rep.verdict.reason})"
        assert rep.loadable == (real["outcome"] == "ok"), where
        assert normalise(rep.open_error, platforms.path(real["plugin"])) == real["open_error"], where


@pytest.mark.parametrize("run", RUNS, ids=_run_id)
def test_agrees_with_the_real_loader(run: dict[str, Any]) -> None:
    plugins = [platforms.path(p) for p in run["plugins"]]
    _agree(api.check_host(platforms.path(run["host"]), plugins), run, "host binary")
    _agree(api.check_host(_manifest_of(run["host"]), plugins), run, "host manifest")


@pytest.mark.parametrize("name", [n for n, e in platforms.manifest().items() if e["buildmode"] == "plugin"])
def test_audit_without_a_host_on_its_own_platform(name: str) -> None:
    """No --host: a host built like the plugin, on its platform. Each plugin here is whole and loads in a
    host built like it (the runs of the same release's host show it for the default builds)."""
    entry = platforms.manifest()[name]
    rep = api.audit(platforms.path(name), target=targets.TARGETS[f"linux/{entry['goarch']}"])
    assert rep.loadable, f"{name}: {rep.verdict.reason}"
    assert rep.check("go.platform") is not None and rep.check("go.platform").status == "pass"  # type: ignore[union-attr]


@pytest.mark.parametrize("arch", ["386", "arm"])
def test_stripped_32bit_plugin_registers_its_module_data(arch: str) -> None:
    """Regression: a -ldflags='-s -w' plugin for linux/386 or linux/arm (REL relocations: the pointer to the
    pclntab is the word in place, not an addend) was judged to register no module data; the real host
    loads it (corpus/platforms/observed.json)."""
    from soinspect.go import facts

    f = facts.read_facts(platforms.path(f"{arch}/greet-sw.so"))
    assert f.go is not None and f.go.moduledata is not None, f.go
    assert f.pluginpath and f.pluginpath.startswith("plugin/unnamed-")
    real = [r for r in RUNS if r["plugins"] == [f"{arch}/greet-sw.so"]]
    assert real and real[0]["results"][0]["outcome"] == "ok"


def test_every_platform_that_runs_here_is_recorded() -> None:
    arches = {platforms.manifest()[r["host"]]["goarch"] for r in RUNS}
    assert arches == set(platforms.build.PLATFORMS)
    outcomes = {res["outcome"] for r in RUNS for res in r["results"]}
    assert outcomes == {"ok", "error", "crash"}


# -- the readers on 32-bit, big-endian, REL and RELA files -------------------------------------------------


@pytest.mark.parametrize("name", sorted(platforms.manifest()))
def test_buildinfo_matches_go_version_m(name: str) -> None:
    """Go's own reader (debug/buildinfo through go version -m) reads the same build info (fuzz/oracles.py's
    comparison and normalisation rules)."""
    import oracles

    from fuzz.oracles import compare_buildinfo
    from soinspect.go.facts import read_facts

    path = platforms.path(name)
    assert compare_buildinfo(oracles.go_version_m_json(path), read_facts(path).buildinfo) is None


@pytest.mark.parametrize("name", sorted(platforms.manifest()))
def test_elf_matches_pyelftools(name: str) -> None:
    from fuzz.oracles import compare_elf
    from soinspect.elf.file import ElfFile

    path = platforms.path(name)
    assert compare_elf(ElfFile.from_bytes(path, Path(path).read_bytes())) == []


@pytest.mark.parametrize("harness", ["elf", "buildinfo", "gomodule", "versions"])
def test_fuzz_properties_hold_on_every_platform_plugin(harness: str) -> None:
    """Each ELF-based harness's property on each platform's plugins (its templates, fuzz/overlay.py)."""
    from fuzz.harnesses import check_file

    seeds = platforms.seed_files()
    assert len(seeds) == 2 * len(platforms.build.PLATFORMS)
    for name, path in seeds:
        assert check_file(harness, name, Path(path).read_bytes()) == "result", name


# -- the target and where it came from, in every format ---------------------------------------------------


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    base = {k: v for k, v in os.environ.items() if k not in ("GOOS", "GOARCH")}
    return subprocess.run([sys.executable, "-P", "-m", "soinspect", *args], capture_output=True, text=True,
                          env={**base, **(env or {})}, cwd="/")


def test_default_target_is_this_machine_and_no_host_is_invented() -> None:
    here = targets.this_machine()
    assert here is not None
    plugin = platforms.path("s390x/greet.so" if here.goarch != "s390x" else "arm64/greet.so")
    proc = _cli(plugin)
    assert proc.returncode == 1, proc.stderr
    assert f"target: {here.name} (from this machine, as go env GOOS GOARCH says); no --host: judged against " \
           f"a host built like the plugin, on {here.name}" in proc.stdout
    assert "host runs on" not in proc.stdout and f"the target is {here.name}" in proc.stdout
    md = _cli(plugin, "-f", "markdown").stdout
    assert f"Target: `{here.name}` (from this machine" in md and "host runs on" not in md
    assert "a host built like each plugin" not in md


@pytest.mark.parametrize("fmt", ["json", "sarif"])
def test_target_from_the_environment(fmt: str) -> None:
    proc = _cli(platforms.path("s390x/greet.so"), "-f", fmt, env={"GOARCH": "s390x"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = json.loads(proc.stdout)
    policy = doc["policy"] if fmt == "json" else doc["runs"][0]["properties"]["policy"]
    assert (policy["target"], policy["target_source"]) == ("linux/s390x", "environment")
    flag = json.loads(_cli(platforms.path("s390x/greet.so"), "-f", "json", "--target", "linux/s390x",
                           env={"GOARCH": "arm"}).stdout)
    assert flag["policy"]["target_source"] == "--target"


def test_target_from_a_host() -> None:
    doc = json.loads(_cli(platforms.path("arm/greet.so"), "--host", platforms.path("arm/host"), "-f", "json").stdout)
    assert (doc["policy"]["target"], doc["policy"]["target_source"]) == ("linux/arm", "--host")


def test_unsupported_targets_are_usage_errors() -> None:
    proc = _cli(platforms.path("arm/greet.so"), "--target", "linux/mips")
    assert proc.returncode == 2 and "linux/386, linux/amd64, linux/arm" in proc.stderr
    proc = _cli(platforms.path("arm/greet.so"), env={"GOARCH": "mips64le"})
    assert proc.returncode == 2 and "GOARCH=mips64le in the environment" in proc.stderr, proc.stderr


def test_docs_platforms_is_current() -> None:
    import platforms_doc

    doc = platforms_doc.DOC.read_text()
    assert platforms_doc.render(doc) == doc, "run python scripts/platforms_doc.py"


def test_a_release_that_builds_no_plugins_for_the_platform_is_named(tmp_path: Path) -> None:
    """A go1.26 plugin for linux/ppc64 cannot exist (go1.26 refuses -buildmode=plugin there): the s390x
    go1.26.6 plugin with its e_machine set to EM_PPC64 (big-endian, 64-bit: linux/ppc64) says so."""
    data = bytearray(Path(platforms.path("s390x/greet-1.26.6.so")).read_bytes())
    data[18:20] = targets.EM_PPC64.to_bytes(2, "big")
    p = tmp_path / "ppc64-go1.26.so"
    p.write_bytes(bytes(data))
    rep = api.audit(str(p), target=targets.TARGETS["linux/ppc64"])
    c = rep.check("go.platform")
    assert c is not None and c.status == "warn", c
    assert "go1.26.6 builds no plugins for linux/ppc64" in c.message and "not supported on linux/ppc64" in c.message
    assert c.evidence["releases"] == ["1.27"]
    # a go1.27 -race plugin for linux/arm cannot exist either; an arm64 -race one can
    race = api.audit(platforms.path("arm64/greet-race.so"), target=targets.TARGETS["linux/arm64"])
    assert race.check("go.platform").message == "go1.27.3 builds plugins with -race for linux/arm64"  # type: ignore[union-attr]
