"""soinspect agrees with every real run recorded in corpus/dynamic/observed.json (issue 27): undefined
symbols bound as RTLD_NOW does, symbol versions, weak references, and musl's loader (musl hosts run
here natively through /lib/ld-musl-x86_64.so.1), through the host binary and through its manifest.

The files are built by corpus/dynamic/build.py in /tmp/soinspect-dynamic (CI builds them, checked against
the recorded sha256). A missing or different file fails here: the runs are evidence for those bytes only.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

import corpus
from soinspect.loader import dynamic
from soinspect.loader.host import load_host
from soinspect.loader.manifest import read_manifest, write_manifest
from soinspect.loader.process import HostModel
from soinspect.verdict import audit as api
from soinspect.verdict.report import Report

HERE = Path(__file__).resolve().parent.parent / "corpus" / "dynamic"
MANIFEST = json.loads((HERE / "manifest.json").read_text())
OBSERVED = json.loads((HERE / "observed.json").read_text())
OUT = Path(MANIFEST["scratch"]) / "out"
SYSROOT = Path(MANIFEST["scratch"]) / "sysroot"
RUNS = OBSERVED["runs"]


@cache
def built(name: str) -> str:
    """The built file *name*, checked against its recorded sha256 (a missing or different one fails)."""
    p = OUT / name
    if not p.exists():
        raise AssertionError(f"{p} is missing: build it with python3 corpus/dynamic/build.py")
    digest = hashlib.sha256(p.read_bytes()).hexdigest()
    assert digest == MANIFEST["files"][name]["sha256"], f"{p} differs from corpus/dynamic/manifest.json"
    return str(p)


def where(run: dict[str, Any], name: str) -> str:
    """The path of *name* as the run used it: in the sysroot's /app for a run inside the sysroot."""
    built(name)
    return str(SYSROOT / "app" / name) if run["sysroot"] else str(OUT / name)


def _id(run: dict[str, Any]) -> str:
    return f"{run['host']}:{'+'.join(run['plugins'])}{':sysroot' if run['sysroot'] else ''}"


def normalise(text: str | None, path: str) -> str | None:
    if text is None:
        return None
    minus = path[:-3] if path.endswith(".so") else path
    return text.replace(f'"{path}"', '"{path}"').replace(f'"{minus}"', '"{path_minus_so}"').replace(path, "{path}")


@cache
def manifest_model(host_path: str, sysroot: str | None) -> HostModel:
    text = write_manifest(load_host(host_path, sysroot=sysroot), host_file=host_path,
                          host_size=Path(host_path).stat().st_size)
    return read_manifest(f"{host_path}.json", text.encode())


def predict(run: dict[str, Any], through: str) -> list[Report]:
    sysroot = str(SYSROOT) if run["sysroot"] else None
    host = where(run, run["host"])
    model = load_host(host, sysroot=sysroot) if through == "binary" else manifest_model(host, sysroot)
    return api.check_host(model, [where(run, p) for p in run["plugins"]], sysroot=sysroot)


@pytest.mark.parametrize("through", ["binary", "manifest"])
@pytest.mark.parametrize("run", RUNS, ids=_id)
def test_agrees_with_the_real_loader(run: dict[str, Any], through: str) -> None:
    for rep, real in zip(predict(run, through), run["results"], strict=True):
        at = f"{_id(run)} through the {through}: {real['plugin']}"
        assert rep.outcome == real["outcome"], f"{at}: predicted {rep.outcome} ({rep.verdict.reason})"
        assert rep.loadable == (real["outcome"] == "ok"), at
        assert normalise(rep.open_error, where(run, real["plugin"])) == real["open_error"], at


def test_every_build_is_recorded_and_observed() -> None:
    named = {n for run in RUNS for n in (run["host"], *run["plugins"])}
    assert named <= set(MANIFEST["files"]), sorted(named - set(MANIFEST["files"]))
    for name in MANIFEST["files"]:
        built(name)


@pytest.mark.parametrize(
    "name", sorted(n for n, e in MANIFEST["files"].items() if e["kind"] == "go-plugin"), ids=str
)
def test_without_a_host_the_loader_is_the_one_the_plugin_was_built_for(name: str) -> None:
    rep = api.audit(built(name))
    check = rep.check("dyn.resolve")
    assert check is not None
    source = MANIFEST["files"][name]["recipe"].get("copy_of", name)
    musl = MANIFEST["files"][source]["recipe"]["env"]["CC"] == "musl-gcc"
    assert check.evidence["loader"] == ("musl" if musl else "glibc"), check.message
    assert f"{'musl' if musl else 'glibc'}'s loader" in check.message


def test_a_musl_plugin_alone_is_judged_for_a_musl_host() -> None:
    rep = api.audit(built("greet-musl.so"))
    assert rep.loadable, rep.verdict.reason
    assert rep.check("dyn.resolve").evidence["interp"] == "/lib/ld-musl-x86_64.so.1"  # type: ignore[union-attr]


@pytest.mark.parametrize("name", ["hostfn.so", "hostfn-musl.so", "libfn.so", "ver.so"])
def test_an_unresolvable_symbol_is_never_judged_loadable(name: str) -> None:
    """Without a host, nothing in the plugin's own tree defines the symbol: the loader's error, and a fix
    that says who must provide it."""
    rep = api.audit(built(name))
    assert not rep.loadable and rep.outcome == "error", rep.verdict.reason
    bind = rep.check("sym.bind")
    assert bind is not None and bind.status == "fail"
    assert rep.fix is not None and any("-rdynamic" in s for s in rep.fix.steps)


def test_a_musl_plugin_for_a_glibc_host_is_told_to_rebuild_with_the_hosts_c_toolchain() -> None:
    [rep] = api.check_host(built("host-glibc"), [built("greet-musl.so")])
    assert rep.fix is not None and rep.fix.env.get("CC") == "gcc", rep.fix
    assert not any("install" in s.lower() for s in rep.fix.steps), rep.fix.steps


def test_a_version_1_manifest_cannot_tell_the_hosts_exports() -> None:
    """Version 1 has no loader section: glibc is assumed, and a symbol no library defines is unknown."""
    host = built("host-glibc-export")
    doc = json.loads(write_manifest(load_host(host), host_file=host, host_size=Path(host).stat().st_size))
    doc["manifest_version"] = 1
    del doc["loader"], doc["buildinfo"]["dirs"], doc["types"]
    model = read_manifest("v1.json", json.dumps(doc).encode())
    assert model.exports is None and model.interp is None
    [rep] = api.check_host(model, [built("hostfn.so")])
    assert rep.outcome == "unknown" and "version-1" in rep.verdict.reason
    [ok] = api.check_host(model, [built("greet-glibc.so")])
    assert ok.loadable


def test_manifest_size_stays_small() -> None:
    """The exported C symbols cost little: without the host's named types (``types``, the contract's
    resolution), every corpus host's manifest stays under 16 KiB; with them, under 64 KiB."""
    for name in ("host-glibc", "host-glibc-export", "host-glibc-hostlib", "host-musl", "host-musl-export"):
        host = built(name)
        text = write_manifest(load_host(host), host_file=host, host_size=Path(host).stat().st_size)
        assert len(text) < 64 << 10, (name, len(text))
        doc = json.loads(text)
        del doc["types"]
        assert len(json.dumps(doc, indent=1)) < 16 << 10, (name, len(text))


def test_musl_reserved_names_are_musls_own() -> None:
    """ldso/dynlink.c: "lib" + c, pthread, rt, m, dl, util or xnet + "."; not libcrypt, not libc-foo."""
    assert all(dynamic.musl_reserved(n) for n in ("libc.so", "libc.so.6", "libpthread.so.0", "libm.so.6", "libdl.so.2",
                                                  "librt.so.1", "libutil.so.1", "libxnet.so", "libc.musl-x86_64.so.1"))
    assert not any(dynamic.musl_reserved(n) for n in ("libcrypt.so.1", "libcurl.so.4", "libmagic.so", "libc", "c.so"))


def test_a_missing_library_fix_speaks_the_plugins_loader() -> None:
    """musl has no ldconfig cache: its fix names the path list, glibc's the cache."""
    [musl] = [api.audit(built("sysonly-musl.so"))]
    [glibc] = [api.audit(corpus.path("cgo-absent.so"))]  # needs libabsent.so, on no search path
    assert musl.fix is not None and glibc.fix is not None
    assert not any("ldconfig" in s for s in musl.fix.steps), musl.fix.steps
    assert any("musl's path file" in s for s in musl.fix.steps), musl.fix.steps
    assert any("ldconfig" in s for s in glibc.fix.steps), glibc.fix.steps
