"""The host's contract by Go type identity, against what a real host's assertions did (corpus/contract/).

corpus/contract/contract.json is what a go1.27.3 host built against ``example.com/real/api`` did when it
asserted types on ``contract.so`` (which also links the look-alike ``example.com/fake/api`` and a package
the host never links), in both forms: ``v, ok := sym.(T)`` and ``sym.(T)`` (the panic message). It was
written by corpus/contract/record.py, never by hand. soinspect must agree with every case: given the host
binary, given a manifest written from it, with the host's own spelling (short names resolved against the
host) and with full import paths; without a host, a short name never passes.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import json
import lzma
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest

from soinspect.cli.command import main
from soinspect.go import typeexpr
from soinspect.go.contract import parse_contract
from soinspect.go.facts import read_facts, read_named_types
from soinspect.go.gotypes import NamedType
from soinspect.loader.host import load_host
from soinspect.loader.manifest import read_manifest, write_manifest
from soinspect.loader.process import HostModel
from soinspect.verdict import audit as api

HERE = Path(__file__).resolve().parent
CONTRACT = HERE.parent / "corpus" / "contract"
RECORDED = json.loads((CONTRACT / "contract.json").read_text())
CASES = RECORDED["results"]


@functools.cache
def binaries() -> tuple[str, str]:
    """The recorded host and plugin, decompressed (into a directory of this process's own) and checked
    against the recording's sha256."""
    out = Path(tempfile.mkdtemp(prefix="soinspect-test-contract-"))
    atexit.register(shutil.rmtree, out, ignore_errors=True)
    paths = []
    for what in ("host", "plugin"):
        rec = RECORDED[what]
        data = lzma.decompress((CONTRACT / "bin" / f"{rec['file']}.xz").read_bytes())
        assert hashlib.sha256(data).hexdigest() == rec["sha256"], f"{rec['file']} is not the recorded build"
        p = out / rec["file"]
        p.write_bytes(data)
        p.chmod(0o755)
        paths.append(str(p))
    return paths[0], paths[1]


@functools.cache
def host_model() -> HostModel:
    return load_host(binaries()[0])


@functools.cache
def manifest_model() -> HostModel:
    host = binaries()[0]
    text = write_manifest(host_model(), host_file=host, host_size=Path(host).stat().st_size)
    return read_manifest("host.json", text.encode())


def expect_result(host: HostModel | None, name: str, typ: str) -> dict[str, Any]:
    plugin = binaries()[1]
    if host is None:
        rep = api.audit(plugin, expect=[(name, typ)])
    else:
        (rep,) = api.check_host(host, [plugin], expect=[(name, typ)])
    (check,) = [c for c in rep.checks if c.id == "plugin.expect"]
    (res,) = check.evidence["expectations"]
    return dict(res, loadable=rep.verdict.loadable, status=check.status)


def test_the_record_is_complete() -> None:
    assert RECORDED["host_go"].startswith("go version go1.27.3 ")
    assert len(CASES) >= 28
    assert 0 < sum(r["ok"] for r in CASES) < len(CASES)
    assert all(bool(r["panic"]) != r["ok"] for r in CASES), "a failed assertion panics, a passing one does not"


@pytest.mark.parametrize("host", ["binary", "manifest"])
@pytest.mark.parametrize("spelling", ["asserted", "full"])
@pytest.mark.parametrize("case", CASES, ids=lambda r: f"{r['symbol']}={r['asserted']}")
def test_agrees_with_the_real_host(case: dict[str, Any], spelling: str, host: str) -> None:
    model = host_model() if host == "binary" else manifest_model()
    res = expect_result(model, case["symbol"], case[spelling])
    assert res["result"] == ("ok" if case["ok"] else "mismatch"), res
    assert res["loadable"] == case["ok"]
    if not case["ok"]:
        assert res["panic"] == case["panic"], "the panic message is the runtime's, word for word"


@pytest.mark.parametrize("case", CASES, ids=lambda r: f"{r['symbol']}={r['asserted']}")
def test_without_a_host_a_short_name_never_passes(case: dict[str, Any]) -> None:
    res = expect_result(None, case["symbol"], case["asserted"])
    if case["ok"]:
        assert res["result"] in ("ok", "unknown"), res
    else:
        assert res["result"] in ("mismatch", "unknown"), res
    if "api." in case["asserted"]:
        assert res["result"] != "ok", "api could name the look-alike package"
    full = expect_result(None, case["symbol"], case["full"])
    assert full["result"] in (("ok", "unknown") if case["ok"] else ("mismatch", "unknown")), full


@pytest.mark.parametrize("case", CASES, ids=lambda r: f"{r['symbol']}={r['asserted']}")
def test_a_contract_written_as_go_resolves_through_its_imports(case: dict[str, Any]) -> None:
    """The host's own source lines (its imports, ``var NAME T``): agreed with without any host."""
    imports = 'import (\n\t"context"\n\n\t"example.com/real/api"\n)\n'
    ((name, typ),) = parse_contract(f'package main\n\n{imports}\nvar {case["symbol"]} {case["asserted"]}\n')
    paths = typeexpr.Packages({}, imports={"context": "context"})
    assert typeexpr.canonical(typ, packages=paths) == typeexpr.canonical(case["full"], packages=paths)
    res = expect_result(None, name, typ)
    if res["result"] == "unknown":  # only a named interface the stripped plugin carries no descriptor of
        assert typ not in read_named_types(read_facts(binaries()[1])), res
        return
    assert res["result"] == ("ok" if case["ok"] else "mismatch"), res
    if not case["ok"]:
        assert res["panic"] == case["panic"]


def test_a_contract_file_through_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    host, plugin = binaries()
    good = tmp_path / "contract.go"
    imports = 'import "context"\nimport "example.com/real/api"\n\n'
    good.write_text(imports + "var InitModule func(context.Context, api.Logger) error\n")
    assert main([plugin, "--contract", str(good), "--format", "line"]) == 0
    assert main([plugin, "--host", host, "--contract", str(good), "--format", "line"]) == 0
    fake = tmp_path / "fake.go"
    fake.write_text(imports + "var InitModuleFake func(context.Context, api.Logger) error\n")
    assert main([plugin, "--contract", str(fake), "--format", "line"]) == 1
    assert "REJECTED by contract" in capsys.readouterr().out
    bad = tmp_path / "bad.go"
    bad.write_text("var X c.T\n")
    assert main([plugin, "--contract", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "line 1: var X: 'c.T' is not a Go type: c.T: no import names c" in err


def test_short_names_are_resolved_against_the_host_or_refused(capsys: pytest.CaptureFixture[str]) -> None:
    host, plugin = binaries()
    assert main([plugin, "--host", host, "--expect", "InitGood=func(apx.Logger) error"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "the host links no package named apx that defines Logger" in err
    assert main(["manifest", host, "--expect", "InitGood=func(apx.Logger) error"]) == 2
    assert "no package named apx" in capsys.readouterr().err


def test_unknown_is_visible_in_every_format_and_strict_rejects_it(capsys: pytest.CaptureFixture[str]) -> None:
    _, plugin = binaries()
    spec = ["--expect", "InitGood=func(api.Logger) error"]  # no host: api could be the look-alike
    shown = {"line": "contract unknown: InitGood: api could name more than one package",
             "table": "contract unknown: InitGood", "markdown": "⚠️ loadable, contract unknown",
             "json": '"contract": "unknown"', "sarif": '"level": "warning"'}
    for fmt, text in shown.items():
        assert main([plugin, *spec, "--format", fmt]) == 0
        assert text in capsys.readouterr().out, fmt
    assert main([plugin, *spec, "--format", "line", "--strict", "--ignore", "sym.symtab"]) == 1
    assert "unknown: rejected by --strict" in capsys.readouterr().out


def test_an_interface_literal_with_a_short_name_is_decided_only_where_no_package_could_match() -> None:
    """Without a host ``api.X`` could be any package's, yet no package makes ``[]uint8`` an ``api.X``
    and no method set gains a missing ``Close``: those are decided; a match that depends on it is not."""
    assert expect_result(None, "VWrong", "interface{ Log(api.X) }")["result"] == "mismatch"
    assert expect_result(None, "VVal", "interface{ Log(string); Close(api.X) }")["result"] == "mismatch"
    assert expect_result(None, "InitGood", "func(api.Logger) error")["result"] == "unknown"


def test_the_manifest_carries_the_contract_resolved(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    host, plugin = binaries()
    m = tmp_path / "server.json"
    spec = "InitModuleFake=func(context.Context, api.Logger) error"
    assert main(["manifest", host, "--expect", spec, "-o", str(m)]) == 0
    doc = json.loads(m.read_text())
    assert doc["manifest_version"] == 2
    assert doc["expect"] == [
        {"name": "InitModuleFake", "type": "func(context.Context, example.com/real/api.Logger) error"}
    ]
    assert main([plugin, "--host", str(m), "--format", "json"]) == 1
    (r,) = json.loads(capsys.readouterr().out)["results"]
    assert (r["loadable"], r["outcome"], r["contract"]) == (False, "ok", "fail")


def test_a_short_name_two_packages_define_is_refused_naming_both() -> None:
    named = {
        f"example.com/{side}/api.Logger": NamedType(f"example.com/{side}/api", "api", ("Log(string)",))
        for side in ("real", "fake")
    }
    with pytest.raises(typeexpr.Unresolvable) as info:
        typeexpr.canonical("func(api.Logger) error", packages=typeexpr.Packages(named, host=True))
    assert str(info.value) == (
        "api.Logger: the host links 2 packages named api that define Logger "
        "(example.com/fake/api, example.com/real/api); write the import path"
    )
    full = typeexpr.canonical("func(example.com/fake/api.Logger) error", packages=typeexpr.Packages(named, host=True))
    assert full == "func(example.com/fake/api.Logger) error"
