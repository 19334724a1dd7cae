"""The command line as a user runs it: exit codes, one-line errors, JSON validated against the schema."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import corpus
from soinspect.cli import command as cli

SCHEMA = json.loads((resources.files("soinspect") / "schema" / "report.schema.json").read_text())


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code, out, _ = run(capsys, "--format", "json", *args)
    doc = json.loads(out)
    jsonschema.validate(doc, SCHEMA)
    return code, doc


def test_default_plugin_passes(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, corpus.path("greet.so"))
    assert code == 0, out + err
    assert "LOADABLE" in out and "Greet" in out


@pytest.mark.parametrize("name", ["greet-sw.so", "greet-stripped.so"])
def test_stripped_plugins_pass_with_a_note_and_fail_strict(capsys: pytest.CaptureFixture[str], name: str) -> None:
    code, doc = run_json(capsys, corpus.path(name))
    assert code == 0
    sym = next(c for c in doc["results"][0]["checks"] if c["id"] == "sym.symtab")
    assert sym["status"] == "info"
    code, doc = run_json(capsys, "--strict", corpus.path(name))
    assert code == 1
    assert doc["results"][0]["outcome"] == "ok" and doc["results"][0]["loadable"] is False


@pytest.mark.parametrize(
    ("name", "kind", "outcome", "says"),
    [
        ("not-elf.txt", "not-elf", "error", "a text file, not ELF"),
        ("greet-truncated.so", "truncated", "crash", "SIGBUS"),
        ("go-exe", "go-exe", "error", "cannot dynamically load executable"),
        ("go-pie", "go-pie", "error", "position-independent executable"),
        ("cshared.so", "go-c-shared", "crash", "no plugin module data"),
        ("libplain.so", "c-shared", "crash", "no plugin module data"),
        ("greet-arm64.so", "go-plugin", "error", "cannot open shared object file"),
    ],
)
def test_rejections_exit_1_and_say_what_it_is(
    capsys: pytest.CaptureFixture[str], name: str, kind: str, outcome: str, says: str
) -> None:
    code, doc = run_json(capsys, corpus.path(name))
    assert code == 1
    r = doc["results"][0]
    assert (r["kind"], r["outcome"], r["loadable"]) == (kind, outcome, False)
    text = json.dumps(r)
    assert says in text
    code, out, _ = run(capsys, corpus.path(name))
    assert code == 1 and kind in out.splitlines()[0]


def test_arm64_plugin_passes_for_its_own_target(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = run_json(capsys, "--target", "linux/arm64", corpus.path("greet-arm64.so"))
    assert code == 0, doc["results"][0]["reason"]


def test_missing_file_exits_2_with_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = tmp_path / "nope.so"
    code, _out, err = run(capsys, str(missing))
    assert code == 2
    assert err.strip().count("\n") == 0 and str(missing) in err and "no such file" in err


def test_directory_and_empty_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    empty = tmp_path / "empty.so"
    empty.write_bytes(b"")
    code, doc = run_json(capsys, str(empty))
    assert code == 1 and doc["results"][0]["kind"] == "not-elf"
    assert "empty" in doc["results"][0]["error"]["message"]


def test_several_files_one_document(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = run_json(capsys, corpus.path("greet.so"), corpus.path("go-exe"))
    assert code == 1
    assert [r["loadable"] for r in doc["results"]] == [True, False]
    summary = {k: doc["summary"][k] for k in ("files", "loadable", "rejected")}
    assert summary == {"files": 2, "loadable": 1, "rejected": 1}


def test_host_set_in_order(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = run_json(
        capsys, "--host", corpus.path("host-1.27.3"), corpus.path("pluginA-1.so"), corpus.path("pluginA-2.so")
    )
    assert code == 1
    assert [r["outcome"] for r in doc["results"]] == ["ok", "error"]
    assert doc["results"][1]["open_error"].endswith("plugin already loaded")
    code, doc = run_json(
        capsys, "--host", corpus.path("host-1.27.3"), "--each", corpus.path("pluginA-1.so"), corpus.path("pluginA-2.so")
    )
    assert code == 0


def test_host_lists_every_mismatch_with_cause(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = run_json(capsys, "--host", corpus.path("host-1.27.3-race"), corpus.path("greet.so"))
    assert code == 1
    mm = doc["results"][0]["mismatches"]
    assert len(mm) > 1 and mm[0]["go_names_it"] and not any(m["go_names_it"] for m in mm[1:])
    assert doc["results"][0]["open_error"].endswith(mm[0]["package"])
    assert all("-race" in m["cause"] for m in mm)


def test_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["--format", "nope", "x"])
    assert exc.value.code == 2
    code, _, err = run(capsys, "--target", "windows/amd64", corpus.path("greet.so"))
    assert code == 2 and "linux only" in err


def test_python_dash_m_and_help() -> None:
    proc = subprocess.run(
        [sys.executable, "-P", "-m", "soinspect", corpus.path("greet.so")], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    helptext = subprocess.run(
        [sys.executable, "-P", "-m", "soinspect", "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert "exit codes" in helptext and "0  every file is a loadable plugin" in helptext


def test_cli_worker_killed_by_sigsegv_rejects_that_file_only(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A native crash while parsing one file (a real SIGSEGV in the worker) is that file's rejection
    (exit 1, one line on stderr); the other files' results stand."""
    from soinspect.cli import pool as _isolate

    paths = [corpus.path("greet.so"), corpus.path("libplain.so"), corpus.path("greet-sw.so")]
    monkeypatch.setenv(_isolate.FAULT_ENV, f"segv:{paths[1]}")
    code, doc = run_json(capsys, "--workers", "2", *paths)
    assert code == 1
    results = doc["results"]
    assert [r["loadable"] for r in results] == [True, False, True]
    assert results[1]["kind"] == "parser-crash" and results[1]["outcome"] == "unknown"
    assert "SIGSEGV" in results[1]["error"]["message"]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--host", ""], "--host: empty path"),
        (["--each"], "--each judges each file alone against --host"),
        (["--ignore", "no.such_check"], "unknown check id"),
        (["--ignore", "host.pkghash"], "host.pkghash decides or explains what plugin.Open does"),
        (["--ignore", "elf.machine"], "only policy checks can"),
        (["--workers", "-1"], "--workers: -1 is negative"),
        (["--output", "sarif"], "expected FORMAT=PATH"),
        (["--output", "yaml=x.yaml"], "unknown format 'yaml'"),
        (["--output", "json=a.json", "--output", "sarif=./a.json"], "named twice"),
        (["--host", "corpus:greet.so"], "it is a Go plugin (-buildmode=plugin), not a host program"),
        (["--host", "corpus:cshared.so"], "it is a Go shared library (-buildmode=c-shared)"),
        (["--host", "corpus:libplain.so"], "it is a C shared library"),
        (["--host", "corpus:go-exe"], "it is a Go program that does not link package plugin"),
        (["--host", "/bin/true"], "it is a program that is not written in Go"),
        (["--host", "corpus:not-elf.txt"], "not a usable host: a text file"),
        (["--host", "corpus:host-1.27.3", "--target", "linux/arm64"], "--target linux/arm64 disagrees with --host"),
    ],
)
def test_options_that_would_silently_do_something_else_exit_2(
    capsys: pytest.CaptureFixture[str], args: list[str], says: str
) -> None:
    args = [corpus.path(a.removeprefix("corpus:")) if a.startswith("corpus:") else a for a in args]
    code, out, err = run(capsys, *args, corpus.path("greet.so"))
    assert code == 2 and says in err and not out, err
    assert len(err.strip().splitlines()) == 1, err


def test_target_that_agrees_with_the_host_is_fine(capsys: pytest.CaptureFixture[str]) -> None:
    host = corpus.path("host-1.27.3")
    code, doc = run_json(capsys, "--host", host, "--target", "linux/amd64", corpus.path("greet.so"))
    assert code == 0 and doc["results"][0]["loadable"]
    code, doc = run_json(capsys, "--host", host, corpus.path("greet.so"))
    assert code == 0 and doc["policy"]["target"] == "linux/amd64"  # the host's platform


def test_a_cgo_disabled_host_is_a_host_not_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """Its stub plugin.Open answers 'plugin: not implemented' for every file (corpus/observed.json)."""
    seen = next(r for r in corpus.observed() if r["host"] == "host-1.27.3-nocgo" and r["plugins"] == ["greet.so"])
    code, doc = run_json(capsys, "--host", corpus.path("host-1.27.3-nocgo"), corpus.path("greet.so"))
    assert code == 1
    assert doc["results"][0]["open_error"].endswith("plugin: not implemented")
    assert seen["results"][0]["open_error"] == "plugin: not implemented"


def test_policy_checks_can_be_ignored(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = run_json(capsys, "--strict", corpus.path("greet-sw.so"))
    assert code == 1
    code, doc = run_json(capsys, "--strict", "--ignore", "sym.symtab", corpus.path("greet-sw.so"))
    assert code == 0 and "sym.symtab" not in [c["id"] for c in doc["results"][0]["checks"]]


def test_host_set_goes_on_past_a_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A real host's plugin.Open fails on a missing file before touching the process: the rest stand."""
    missing = str(tmp_path / "missing.so")
    code, out, err = run(
        capsys,
        "--format",
        "json",
        "--host",
        corpus.path("host-1.27.3"),
        corpus.path("greet.so"),
        missing,
        corpus.path("pluginA-1.so"),
    )
    assert code == 2 and missing in err
    doc = json.loads(out)
    jsonschema.validate(doc, SCHEMA)
    assert [r["outcome"] for r in doc["results"]] == ["ok", "ok"]


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_unwritable_stdout_is_one_line_and_exit_2(fmt: str) -> None:
    # A full disk (/dev/full) behind stdout: one line naming the problem, exit 2, never a traceback.
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [sys.executable, "-P", "-m", "soinspect", "--format", fmt, corpus.path("greet.so")],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines == ["soinspect: error: cannot write the report to standard output: No space left on device"]


def test_an_empty_directory_beside_other_paths_is_not_judged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A directory that gives nothing to judge, named beside paths that do, is a run error (exit 2): the
    gate never passes a path it did not judge; --allow-empty allows it."""
    empty = tmp_path / "plugins"
    empty.mkdir()
    code, out = run_json(capsys, corpus.path("greet.so"), str(empty))
    assert code == cli.EXIT_ERROR
    assert [(e["path"], e["kind"]) for e in out["errors"]] == [(str(empty), "nothing-to-judge")]
    code, out = run_json(capsys, "--allow-empty", corpus.path("greet.so"), str(empty))
    assert code == cli.EXIT_OK and out["errors"] == []


def test_with_a_host_goos_in_the_environment_does_not_count(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With --host the host's platform is the target: a GOOS=darwin left in the shell does not stop the run;
    without a host it is a usage error naming the variable."""
    monkeypatch.setenv("GOOS", "darwin")
    code, out, _err = run(capsys, "--format", "line", "--host", corpus.path("host-1.27.3"), corpus.path("greet.so"))
    assert code == cli.EXIT_OK and "LOADABLE" in out
    code, _out, err = run(capsys, "--format", "line", corpus.path("greet.so"))
    assert code == cli.EXIT_ERROR and "GOOS=darwin in the environment" in err


@pytest.mark.parametrize("where", ["missing", "file"])
def test_plugin_module_must_be_a_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    path = tmp_path / "nope" if where == "missing" else Path(corpus.path("greet.so"))
    code, out, err = run(capsys, "--plugin-module", str(path), corpus.path("greet.so"))
    assert code == cli.EXIT_ERROR and out == ""
    problem = "no such directory" if where == "missing" else "not a directory"
    assert f"--plugin-module {path}: {problem}" in err


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("LINUX/AMD64", "Go's platform names are lower case (linux/amd64)"),
        ("windows/amd64", "soinspect judges ELF plugins for linux only\n"),
        ("darwin/arm64", "also runs on darwin and freebsd"),
    ],
)
def test_target_errors_say_what_is_wrong(capsys: pytest.CaptureFixture[str], spec: str, says: str) -> None:
    code, _out, err = run(capsys, "--target", spec, corpus.path("greet.so"))
    assert code == cli.EXIT_ERROR and says in err


def test_a_file_of_the_other_class_in_plain_words(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = run(capsys, "--format", "line", "--target", "linux/arm", corpus.path("greet.so"))
    assert code == cli.EXIT_REJECTED
    assert "dlopen: a 64-bit (ELFCLASS64) file cannot load in a 32-bit process" in out
