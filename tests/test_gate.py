"""The gate never passes what it did not judge (issue 10).

Every path named or found ends up, in every format, as a result, a skip with its reason, or an error with
its reason; a run that judged nothing is not a pass; a file named like a shared object is judged whatever
it holds; an interrupted run prints no verdict; the library takes ``os.PathLike`` paths.
"""

from __future__ import annotations

import gzip
import io
import json
import lzma
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import tarfile
import time
import zipfile
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import corpus
import soinspect
from soinspect.cli import command as cli
from soinspect.cli import pool

SCHEMA = json.loads((resources.files("soinspect") / "schema" / "report.schema.json").read_text())
SCRIPT = Path(sys.executable).parent / "soinspect"  # the console script of this environment


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """The CLI in this process (``--workers 0``: the worker pool is tested in test_scan.py and below)."""
    code = cli.main(["--workers", "0", *args])
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any], str]:
    code, out, err = run(capsys, "--format", "json", *args)
    doc = json.loads(out)
    jsonschema.validate(doc, SCHEMA)
    return code, doc, err


# -- judging nothing is not a pass ---------------------------------------------------------------------


def test_an_empty_directory_is_nothing_to_judge(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    empty = tmp_path / "build"
    empty.mkdir()
    code, out, err = run(capsys, str(empty))
    assert code == 2
    assert err.strip().splitlines() == [
        f"soinspect: error: nothing to judge: 0 skipped in {empty}; --allow-empty allows an empty run"
    ]
    assert "NOT JUDGED" in out
    code, doc, _ = run_json(capsys, str(empty))
    assert code == 2 and doc["errors"] == [
        {"path": str(empty), "kind": "nothing-to-judge", "message": "no file to judge: 0 skipped under it"}
    ]
    code, doc, err = run_json(capsys, "--allow-empty", str(empty))
    assert code == 0 and doc["errors"] == [] and doc["summary"]["files"] == 0 and not err


def test_a_directory_of_skipped_files_is_nothing_to_judge(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("# plugins\n")
    (tmp_path / "plugin.go").write_text("package main\n")
    code, _, err = run(capsys, str(tmp_path))
    assert code == 2 and "nothing to judge: 2 skipped (2 not ELF)" in err


# -- judge by name -------------------------------------------------------------------------------------

LFS_POINTER = (
    b"version https://git-lfs.github.com/spec/v1\n"
    b"oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n"
    b"size 2712345\n"
)


def _archives(plugin: bytes) -> dict[str, bytes]:
    tar = io.BytesIO()
    with tarfile.open(fileobj=tar, mode="w") as t:
        info = tarfile.TarInfo("greet.so")
        info.size = len(plugin)
        t.addfile(info, io.BytesIO(plugin))
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("greet.so", plugin)
    return {
        "gzip.so": gzip.compress(plugin),
        "xz.so.1": lzma.compress(plugin),
        "zip.so": zipped.getvalue(),
        "tar.so": tar.getvalue(),
    }


def test_a_checkout_without_git_lfs_fails_and_says_how_to_fetch(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    for name in ("auth.so", "greet.so"):
        (plugins / name).write_bytes(LFS_POINTER)
    code, doc, _ = run_json(capsys, str(plugins))
    assert code == 1
    assert doc["summary"]["files"] == 2 and doc["summary"]["loadable"] == 0
    for r in doc["results"]:
        assert r["kind"] == "not-elf"
        assert "a Git LFS pointer" in r["error"]["message"]
        assert f"git lfs pull --include={r['path']}" in r["error"]["message"]


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("empty.so", "an empty file (0 bytes)"),
        ("download.so", "an HTML page, not ELF (a failed download?): it starts '<!DOCTYPE html>'"),
        ("text.so.2", "a text file, not ELF (a failed download or an error message?): it starts '404: Not Found'"),
        ("gzip.so", "a gzip file, not ELF: unpack the plugin from it"),
        ("xz.so.1", "an xz file, not ELF: unpack the plugin from it"),
        ("zip.so", "a zip archive, not ELF: unpack the plugin from it"),
        ("tar.so", "a tar archive, not ELF: unpack the plugin from it"),
    ],
)
def test_a_file_named_like_a_shared_object_is_judged_and_named(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str, says: str
) -> None:
    contents = {
        "empty.so": b"",
        "download.so": b"<!DOCTYPE html>\n<html><body>Sign in</body></html>\n",
        "text.so.2": b"404: Not Found\n",
        # what is inside does not matter: the head of a real plugin, kept small so compressing is quick
        **_archives(Path(corpus.path("greet.so")).read_bytes()[:65536]),
    }
    (tmp_path / name).write_bytes(contents[name])
    (tmp_path / "notes.txt").write_text("not named like a shared object: skipped\n")
    code, doc, _ = run_json(capsys, str(tmp_path))
    assert code == 1
    (r,) = doc["results"]
    assert r["path"] == str(tmp_path / name) and r["loadable"] is False
    assert says in r["error"]["message"]
    assert doc["skipped"] == [{"path": str(tmp_path / "notes.txt"), "reason": "not ELF"}]


# -- every path is accounted for, in every format ------------------------------------------------------


def test_a_missing_file_is_in_every_format(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    good = corpus.path("greet.so")
    missing = str(tmp_path / "missing.so")
    code, doc, err = run_json(capsys, good, missing)
    assert code == 2 and err.strip() == f"soinspect: error: {missing}: no such file"
    assert doc["summary"] == {"files": 1, "loadable": 1, "rejected": 0, "skipped": 0, "errors": 1}
    assert doc["errors"] == [{"path": missing, "kind": "missing", "message": "no such file"}]

    code, out, _ = run(capsys, "--format", "sarif", good, missing)
    assert code == 2
    (invocation,) = json.loads(out)["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is False
    (note,) = [n for n in invocation["toolExecutionNotifications"] if n["level"] == "error"]
    assert note["message"]["text"] == f"{missing}: no such file"

    code, out, _ = run(capsys, "--format", "markdown", good, missing)
    assert code == 2 and "✅ **" not in out
    assert "❌ **1 of 1 file(s) loadable**, 0 rejected, **1 path(s) could not be judged**" in out
    assert f"| `{missing}` | missing | no such file |" in out

    code, out, _ = run(capsys, good, missing)
    assert code == 2
    assert f"{missing}: NOT JUDGED (missing) - no such file" in out
    assert out.rstrip().endswith("1 of 1 file(s) loadable, 1 path(s) could not be judged")


def test_an_unreadable_directory_is_an_error_in_the_report(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A directory that cannot be listed (EACCES; simulated, since these tests may run as root, who can list
    any directory) is a run error in the report, not a silent hole in the scan."""

    shutil.copy(corpus.path("greet.so"), tmp_path / "greet.so")
    locked = tmp_path / "locked"
    locked.mkdir()
    real_scandir = os.scandir

    def scandir(path: str) -> Any:
        if os.path.samefile(path, locked):
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)  # the one os module scan.py uses
    code, doc, err = run_json(capsys, str(tmp_path))
    assert code == 2 and err.strip() == f"soinspect: error: {locked}: cannot list directory: Permission denied"
    (error,) = doc["errors"]
    assert error == {"path": str(locked), "kind": "unreadable", "message": "cannot list directory: Permission denied"}
    assert doc["summary"]["loadable"] == 1


# -- one run, several formats --------------------------------------------------------------------------


def test_output_writes_more_formats_from_the_same_run(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    good, bad = corpus.path("greet.so"), corpus.path("go-exe")
    sarif, md, js = tmp_path / "r.sarif", tmp_path / "summary.md", tmp_path / "r.json"
    code, out, _ = run(
        capsys, "--output", f"sarif={sarif}", "-o", f"markdown={md}", "--output", f"json={js}", good, bad
    )
    assert code == 1
    assert out.rstrip().endswith("1 of 2 file(s) loadable")  # the table on stdout
    doc = json.loads(js.read_text())
    jsonschema.validate(doc, SCHEMA)
    assert doc["summary"]["rejected"] == 1 and doc["results"][1]["elf"]["sha256"]  # digests for json
    assert json.loads(sarif.read_text())["runs"][0]["results"]
    assert "**1 of 2 file(s) loadable**" in md.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json", "r.sarif", "summary.md"]  # no temp files


def test_output_to_an_unwritable_place_is_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "no-such-dir" / "r.sarif"
    code, out, err = run(capsys, "--output", f"sarif={target}", corpus.path("greet.so"))
    assert code == 2 and f"--output {target}: cannot write" in err and not out


# -- interrupts ----------------------------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as fh:
        return [int(x) for x in fh.read().split()]


@pytest.mark.parametrize(
    ("sig", "group"),
    [(signal.SIGINT, True), (signal.SIGTERM, False), (signal.SIGTERM, True)],
    ids=["SIGINT-to-the-group", "SIGTERM-to-soinspect", "SIGTERM-to-the-group"],
)
def test_an_interrupted_run_prints_no_verdict(tmp_path: Path, sig: signal.Signals, group: bool) -> None:
    """A real process, a real signal, while a worker is busy: no summary, no document, exit 128 + signal."""
    for name in ("greet.so", "types.so", "greet-sw.so"):
        shutil.copy(corpus.path(name), tmp_path / name)
    hang = str(tmp_path / "types.so")
    env = {**os.environ, pool.FAULT_ENV: f"hang:{hang}"}
    proc = subprocess.Popen(
        [str(SCRIPT), "--workers", "2", "--format", "json", str(tmp_path)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        # The workers are forked once the run is under way (handlers installed): wait for them.
        while not _children(proc.pid):
            assert proc.poll() is None and time.monotonic() < deadline, "soinspect ended before it was interrupted"
            time.sleep(0.05)
        workers = _children(proc.pid)
        time.sleep(0.3)
        if group:
            os.killpg(proc.pid, sig)
        else:
            os.kill(proc.pid, sig)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 128 + sig, err
    assert out == ""
    assert err.strip() == f"soinspect: interrupted by {sig.name}: no verdict"
    for pid in workers:  # no worker goes on working for nobody
        assert not _alive(pid)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


# -- the library takes os.PathLike; a bare str is not a sequence of paths ------------------------------


def test_library_takes_pathlike_paths() -> None:
    plugin, host = pathlib.Path(corpus.path("greet.so")), pathlib.Path(corpus.path("host-1.27.3"))
    assert soinspect.audit(plugin).loadable
    assert soinspect.audit(plugin, sysroot=pathlib.Path("/")).path == str(plugin)
    (r,) = soinspect.check_host(host, [plugin], sysroot=pathlib.Path("/"))
    assert r.loadable and r.path == str(plugin)
    assert soinspect.open(plugin, host=host).lookup("Greet").type == "func() string"


@pytest.mark.parametrize("bad", ["greet.so", pathlib.Path("greet.so"), b"greet.so"])
def test_a_single_path_where_a_sequence_is_expected_is_a_type_error(bad: object) -> None:
    with pytest.raises(TypeError, match=r"^plugins: expected a sequence"):
        soinspect.check_host(corpus.path("host-1.27.3"), bad)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^ignore: expected a sequence"):
        soinspect.audit(corpus.path("greet.so"), ignore=bad)  # type: ignore[arg-type]
