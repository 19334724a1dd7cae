"""Host manifests: a manifest and the executable it was written from give the same verdicts.

Every corpus host is turned into a manifest, and every run of the real loader recorded in
corpus/observed.json is replayed through it: each must agree with what the real host did, and with what
soinspect says given the binary itself (the whole verdict: outcome, Go's message, every mismatch and its
likely cause). Then the manifest's own promises: deterministic bytes, small, valid against the shipped
schema, and a damaged or unknown one refused with one line.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from test_real_loader import RUNS, _run_id, normalise

import corpus
from soinspect.cli import main
from soinspect.errors import ManifestError
from soinspect.loader.host import load_host
from soinspect.loader.manifest import MAX_MANIFEST_SIZE, read_manifest, write_manifest
from soinspect.loader.process import HostModel
from soinspect.verdict import audit as api

SCHEMA = json.loads((resources.files("soinspect") / "schema" / "manifest.schema.json").read_text())
HOSTS = sorted({run["host"] for run in RUNS} | set(corpus.names("go-host")))
MANIFEST_LIMIT = 128 * 1024


@cache
def manifest_text(host: str) -> str:
    path = corpus.path(host)
    return write_manifest(load_host(path), host_file=path, host_size=Path(path).stat().st_size)


@cache
def binary_model(host: str) -> HostModel:
    return load_host(corpus.path(host))


@pytest.fixture(scope="module")
def manifests(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    out = tmp_path_factory.mktemp("manifests")
    paths = {}
    for host in HOSTS:
        p = out / f"{host}.json"
        p.write_text(manifest_text(host))
        paths[host] = str(p)
    return paths


@pytest.mark.parametrize("run", RUNS, ids=_run_id)
def test_replay_through_the_manifest(run: dict[str, Any], manifests: dict[str, str]) -> None:
    plugins = [corpus.path(p) for p in run["plugins"]]
    from_manifest = api.check_host(manifests[run["host"]], plugins)
    from_binary = api.check_host(binary_model(run["host"]), plugins)
    for rep, bin_rep, real in zip(from_manifest, from_binary, run["results"], strict=True):
        where = f"{run['host']} manifest opening {real['plugin']} (run {_run_id(run)})"
        # the verdict names the host as it was given: the manifest's path, or the binary's
        reason = rep.verdict.reason.replace(manifests[run["host"]], corpus.path(run["host"]))
        assert dataclasses.replace(rep.verdict, reason=reason) == bin_rep.verdict, where
        assert repr(rep.checks).replace(manifests[run["host"]], corpus.path(run["host"])) == repr(bin_rep.checks), where
        # the fix is derived from the host's build info, which the manifest carries
        assert repr(rep.fix).replace(manifests[run["host"]], corpus.path(run["host"])) == repr(bin_rep.fix), where
        assert rep.outcome == real["outcome"], f"{where}: predicted {rep.outcome} ({rep.verdict.reason})"
        got = normalise(rep.open_error, corpus.path(real["plugin"]))
        if real["outcome"] == "crash" and "signal" in (real["open_error"] or "").lower() + "sigbus":
            assert got is not None and ("SIGBUS" in got or "signal" in got), where
            continue
        assert got == real["open_error"], where
        assert rep.host is not None and bin_rep.host is not None
        assert rep.host.path == manifests[run["host"]] and rep.host.manifest_of == run["host"]
        assert (rep.host.go_version, rep.host.platform, rep.host.pkghash_count, rep.host.refusal) == (
            bin_rep.host.go_version,
            bin_rep.host.platform,
            bin_rep.host.pkghash_count,
            bin_rep.host.refusal,
        )


@pytest.mark.parametrize("host", HOSTS)
def test_manifest_is_deterministic_small_and_valid(host: str, tmp_path: Path) -> None:
    text = manifest_text(host)
    assert len(text.encode()) < MANIFEST_LIMIT, f"{host}: {len(text)} bytes"
    doc = json.loads(text)
    jsonschema.validate(doc, SCHEMA)
    # the same host under another name, written again: the same bytes (only the file name is recorded)
    copy = tmp_path / "server"
    shutil.copyfile(corpus.path(host), copy)
    again = write_manifest(load_host(str(copy)), host_file=host, host_size=copy.stat().st_size)
    assert again == text
    # and what was written reads back to the same model
    model = read_manifest("m.json", text.encode())
    binary = load_host(corpus.path(host))
    for field in ("target", "refusal", "next_offset", "layout", "exports_lastmoduledatap", "pkghashes", "sha256"):
        assert getattr(model, field) == getattr(binary, field), field
    assert model.buildinfo is not None and binary.buildinfo is not None
    for field in ("go_version", "path", "main", "deps", "settings", "dirs"):
        assert getattr(model.buildinfo, field) == getattr(binary.buildinfo, field), field


def test_a_version_1_manifest_is_read_without_directories() -> None:
    """Version 1 (no buildinfo.dirs) still reads: the host's relative replacement then does not resolve, so
    it is not compared (no directory cause is claimed); the verdict is the same."""
    doc = json.loads(manifest_text("host-1.27.3-dep"))
    assert doc["manifest_version"] == 2
    assert doc["buildinfo"]["dirs"] == [["example.com/dep", "/tmp/soinspect-corpus/src/dep-v1"]]
    doc["manifest_version"] = 1
    del doc["buildinfo"]["dirs"], doc["loader"], doc["types"]
    jsonschema.validate(doc, SCHEMA)
    model = read_manifest("m.json", json.dumps(doc).encode())
    assert model.buildinfo is not None and model.buildinfo.dirs == ()
    plugin = corpus.path("usedep-v2.so")
    (old,) = api.check_host(model, [plugin])
    (new,) = api.check_host(load_host(corpus.path("host-1.27.3-dep")), [plugin])
    assert (old.outcome, old.open_error, old.loadable) == (new.outcome, new.open_error, new.loadable)
    assert not any(d.field == "module example.com/dep" for d in old.differences)
    assert any(d.field == "module example.com/dep" for d in new.differences)


def test_cli_writes_the_same_bytes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "host.json"
    assert main(["manifest", corpus.path("host-1.27.3"), "-o", str(out)]) == 0
    assert out.read_text() == manifest_text("host-1.27.3")
    assert main(["manifest", corpus.path("host-1.27.3")]) == 0
    assert capsys.readouterr().out == manifest_text("host-1.27.3")


@pytest.mark.parametrize("name", ["greet.so", "libplain.so", "go-exe", "not-elf.txt"])
def test_manifest_of_something_that_is_not_a_host_is_refused(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["manifest", corpus.path(name)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and corpus.path(name) in lines[0], captured.err


def test_a_manifest_is_not_rewritten_from_a_manifest(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    m = tmp_path / "m.json"
    m.write_text(manifest_text("host-1.27.3"))
    assert main(["manifest", str(m)]) == 2
    assert "already a host manifest" in capsys.readouterr().err


def _damage(doc: dict[str, Any], path: tuple[Any, ...], value: Any) -> str:
    d = json.loads(json.dumps(doc))
    target = d
    for k in path[:-1]:
        target = target[k]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return json.dumps(d)


_DELETE = object()
_DAMAGE = [
    (("manifest_version",), 3, "unknown host manifest version 3"),
    (("expect",), [{"name": "X", "type": "func("}], 'expect[0].type: "func(" is not a Go type'),
    (
        ("expect",),
        [{"name": "X", "type": "func(nosuch.T)"}],
        'expect[0].type: "func(nosuch.T)" is not a Go type: nosuch.T: the host links no package named nosuch',
    ),
    (("types", "x"), {"path": "y", "package": "x", "methods": None}, 'types["x"]: not import/path.Name'),
    (("types",), _DELETE, 'missing field "types"'),
    (("manifest_version",), "1", 'unknown host manifest version "1"'),
    (("manifest_version",), "2", 'unknown host manifest version "2"'),
    (("manifest_version",), True, "unknown host manifest version true"),
    (("kind",), "soinspect-report", "not a soinspect host manifest"),
    (("platform",), "linux/vax", 'platform: unknown platform "linux/vax"'),
    (("host", "sha256"), "abc", "host.sha256: not 64 lowercase hex digits"),
    (("host", "size"), -1, "host.size: expected an integer"),
    (("pkghashes", "runtime"), "xyz", 'pkghashes["runtime"]: not a fingerprint'),
    (("pkghashes", "runtime"), 12, 'pkghashes["runtime"]: not a fingerprint'),
    (("runtime", "moduledata_next"), "560", "runtime.moduledata_next: expected an integer"),
    (("runtime", "moduledata_next"), 1.5, "runtime.moduledata_next: expected an integer"),
    (("runtime", "exports_lastmoduledatap"), 1, "runtime.exports_lastmoduledatap: not true or false"),
    (("runtime", "moduledata_layout", "fields", 0), ["next"], "expected [name, offset]"),
    (("plugin_open", "callable"), "yes", "plugin_open.callable: not true or false"),
    (("plugin_open",), {"callable": False, "outcome": "ok", "go_says": None, "why": "x"}, "not a failing outcome"),
    (("runtime", "extra"), 1, 'runtime: unknown field "extra"'),
    (("pkghashes",), _DELETE, 'missing field "pkghashes"'),
    (("buildinfo", "deps"), {}, "buildinfo.deps: expected an array, got an object"),
    (("buildinfo", "settings", 0), ["a"], "expected [key, value]"),
    (("expect",), [{"name": "X"}], 'expect[0]: missing field "type"'),
    (("go_version",), None, "present without go_version"),
]


@pytest.mark.parametrize(("path", "value", "message"), _DAMAGE, ids=[m for _, _, m in _DAMAGE])
def test_a_damaged_manifest_is_refused_with_one_line(
    path: tuple[Any, ...], value: Any, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = json.loads(manifest_text("host-1.27.3"))
    bad = tmp_path / "bad.json"
    bad.write_text(_damage(doc, path, value))
    with pytest.raises(ManifestError, match=r"^" + str(bad).replace(".", r"\.") + ": "):
        read_manifest(str(bad), bad.read_bytes())
    assert main(["--host", str(bad), corpus.path("greet.so")]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith(f"soinspect: error: --host {bad}: ") and message in lines[0], lines[0]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"{", "not valid JSON"),
        (b'{"kind": "soinspect-host-manifest", "kind": "x"}', "appears twice"),
        (b'{"manifest_version": NaN}', "NaN is not a JSON number"),
        (b"{\xff}", "not UTF-8"),
        (b"[" * 100_000, "not a Go host"),  # not a manifest by its first byte: read as an executable
        (b"{" + b'"a":[' * 100_000, "not valid JSON"),
        (b"{}", "not a soinspect host manifest"),
        (b'  \n{"kind": 3}', "not a soinspect host manifest"),
    ],
)
def test_bytes_that_are_not_a_manifest(raw: bytes, message: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_bytes(raw)
    with pytest.raises(Exception) as info:
        load_host(str(bad))
    assert info.type.__module__ == "soinspect.errors"
    assert str(info.value).startswith(f"{bad}: ") and "\n" not in str(info.value)
    assert message in str(info.value) or (message == "not a Go host" and "not a usable host" in str(info.value))


def test_a_huge_manifest_is_refused_unread(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    with big.open("wb") as fh:
        fh.write(b"{")
        fh.truncate(MAX_MANIFEST_SIZE + 1)
    with pytest.raises(ManifestError, match=r"over the .*-byte limit"):
        load_host(str(big))


def test_a_file_named_manifest_is_inspected_as_dot_slash_manifest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copyfile(corpus.path("greet.so"), tmp_path / "manifest")
    monkeypatch.chdir(tmp_path)
    assert main(["--format", "json", "./manifest"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["results"][0]["path"] == "./manifest" and doc["results"][0]["kind"] == "go-plugin"


def test_host_contract_travels_in_the_manifest(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    m = tmp_path / "server.json"
    host = corpus.path("host-1.27.3")
    argv = ["manifest", host, "-o", str(m), "--expect", "Greet=func() string", "--expect", "V=*int"]
    assert main(argv) == 0
    assert json.loads(m.read_text())["expect"] == [
        {"name": "Greet", "type": "func() string"},
        {"name": "V", "type": "*int"},
    ]
    assert main(["--host", str(m), "--format", "json", corpus.path("greet.so")]) == 0
    check = next(c for c in json.loads(capsys.readouterr().out)["results"][0]["checks"] if c["id"] == "plugin.expect")
    assert check["status"] == "pass"
    assert {e["from"] for e in check["evidence"]["expectations"]} == {f"host {m}"}
    # a contract the plugin breaks: the manifest alone says what the host will assert
    assert main(["manifest", host, "-o", str(m), "--expect", "Greet=func() int"]) == 0
    assert main(["--host", str(m), corpus.path("greet.so")]) == 1
    out = capsys.readouterr().out
    assert "the host's assertion to func() int fails: the plugin's Greet is func() string" in out


def test_expect_that_is_not_a_type_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["manifest", corpus.path("host-1.27.3"), "--expect", "Greet=func(("]) == 2
    assert "--expect" in capsys.readouterr().err


def test_repeated_host_gives_one_result_per_host_and_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    m = tmp_path / "old.json"
    m.write_text(manifest_text("host-1.26.6"))
    new = corpus.path("host-1.27.3")
    plugins = [corpus.path("greet.so"), corpus.path("greet-sw.so")]
    code = main(["--format", "json", "--host", new, "--host", str(m), "--each", *plugins])
    doc = json.loads(capsys.readouterr().out)
    assert code == 1
    got = [(r["host"]["path"], r["path"], r["outcome"]) for r in doc["results"]]
    assert got == [
        (new, plugins[0], "ok"),
        (new, plugins[1], "ok"),
        (str(m), plugins[0], "crash"),
        (str(m), plugins[1], "crash"),
    ]
    assert doc["policy"]["host"] == [new, str(m)]
    main(["--host", new, "--host", str(m), plugins[0]])
    table = capsys.readouterr().out
    # each host's header, then its results
    first = table.index(f"host: {new} (from --host): go1.27.3")
    second = table.index(f"host: {m} (manifest of host-1.26.6, from --host): go1.26.6")
    assert first < table.index(f"{plugins[0]}: LOADABLE") < second
    assert second < table.index(f"{plugins[0]}: REJECTED (host crash)")
    main(["--format", "markdown", "--host", new, "--host", str(m), plugins[0]])
    md = capsys.readouterr().out
    assert f"`{plugins[0]} (host {new})`" in md and f"`{plugins[0]} (host {m})`" in md
    main(["--format", "line", "--host", new, "--host", str(m), plugins[0]])
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert lines[0] == f"{plugins[0]} (host {new}): LOADABLE (go-plugin)"
    assert lines[1].startswith(f"{plugins[0]} (host {m}): REJECTED (host crash) (go-plugin): ")
    main(["--format", "sarif", "--host", new, "--host", str(m), plugins[0]])
    sarif = json.loads(capsys.readouterr().out)
    texts = [r["message"]["text"] for r in sarif["runs"][0]["results"]]
    assert texts and all(t.startswith(f"(host {m}) {plugins[0]}: ") for t in texts)


def test_a_version_1_manifest_is_still_read_without_the_hosts_types() -> None:
    """Version 1 has no ``types``: its contract resolves as without a host (a short package name that
    could name two packages is ``unknown``, never a pass)."""
    doc = json.loads(manifest_text("host-1.27.3"))
    assert doc["manifest_version"] == 2 and doc["types"]
    doc["manifest_version"] = 1
    del doc["types"], doc["loader"], doc["buildinfo"]["dirs"]
    doc["expect"] = [{"name": "Greet", "type": "func() string"}]
    model = read_manifest("v1.json", json.dumps(doc).encode())
    assert model.named_types == {} and model.expects == (("Greet", "func() string"),)
    doc["types"] = {}
    with pytest.raises(ManifestError, match='unknown field "types"'):
        read_manifest("v1.json", json.dumps(doc).encode())
