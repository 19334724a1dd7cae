"""The host's contract by Go type identity, against what a real host's assertions did (corpus/contract/).

corpus/contract/contract.json is what a go1.27.3 host built against ``example.com/real/api`` did when it
asserted types on ``contract.so`` (which also links the look-alike ``example.com/fake/api`` and a package
the host never links), in both forms: ``v, ok := sym.(T)`` and ``sym.(T)`` (the panic message). It was
written by corpus/contract/record.py, never by hand. soinspect must agree with every case: given the host
binary, given a manifest written from it, with the host's own spelling (short names resolved against the
host) and with full import paths; without a host, a short name never passes.
"""

from __future__ import annotations

import functools
import hashlib
import json
import lzma
from pathlib import Path
from typing import Any

import pytest

from soinspect.loader.host import load_host
from soinspect.loader.manifest import read_manifest, write_manifest
from soinspect.loader.process import HostModel
from soinspect.verdict import audit as api

HERE = Path(__file__).resolve().parent
CONTRACT = HERE.parent / "corpus" / "contract"
RECORDED = json.loads((CONTRACT / "contract.json").read_text())
CASES = RECORDED["results"]


@functools.cache
def binaries(tmp: str = "/tmp/soinspect-test-contract") -> tuple[str, str]:
    """The recorded host and plugin, decompressed and checked against the recording's sha256."""
    out = Path(tmp)
    out.mkdir(parents=True, exist_ok=True)
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
