"""Directory scans: what is found (ELF by magic, loops, FIFOs, second names), in which order, judged on
how many workers, and what the CLI prints and exits with for a tree of real corpus files."""

from __future__ import annotations

import io
import json
import os
import shutil
from pathlib import Path

import pytest

import corpus
from soinspect.cli import command as cli
from soinspect.cli import scan
from soinspect.output.json import report_json
from soinspect.verdict import audit as api
from soinspect.verdict.report import Report

# a small tree: plugins that load, files that do not, and things a scan must step around
PLUGINS = ("greet.so", "greet-sw.so", "types.so")
REJECTS = ("go-exe", "libplain.so", "greet-arm64.so")


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "plugins"
    (root / "a" / "deep").mkdir(parents=True)
    (root / "b").mkdir()
    shutil.copy(corpus.path("greet.so"), root / "greet.so")
    shutil.copy(corpus.path("greet-sw.so"), root / "a" / "greet-sw.so")
    shutil.copy(corpus.path("types.so"), root / "a" / "deep" / "types")  # no .so suffix: found by magic
    shutil.copy(corpus.path("go-exe"), root / "b" / "go-exe")
    shutil.copy(corpus.path("libplain.so"), root / "b" / "libplain.so")
    shutil.copy(corpus.path("greet-arm64.so"), root / "greet-arm64.so")
    shutil.copy(corpus.path("not-elf.txt"), root / "b" / "notes.txt")
    (root / "README.md").write_text("# plugins\n")
    (root / "empty").write_bytes(b"")
    os.mkfifo(root / "b" / "pipe")  # never opened: a read would block forever
    (root / "a" / "deep" / "loop").symlink_to("..")  # a/deep/loop -> a: a symlink loop
    (root / "again").symlink_to("a")  # a second name of a directory
    (root / "greet-link.so").symlink_to("greet.so")  # a second name of a file
    (root / "dangling.so").symlink_to("nowhere.so")
    return root


def test_expand_finds_every_elf_by_magic_sorted(tree: Path) -> None:
    found = scan.expand([str(tree)])
    rel = [os.path.relpath(f, tree) for f in found.files]
    assert rel == sorted(rel)
    assert rel == [
        "a/deep/types",
        "a/greet-sw.so",
        "b/go-exe",
        "b/libplain.so",
        "greet-arm64.so",
        "greet.so",
    ]
    assert found.errors == ()


def test_expand_skips_and_counts_the_rest(tree: Path) -> None:
    found = scan.expand([str(tree)])
    reasons = {os.path.relpath(s.path, tree): s.reason for s in found.skipped}
    assert reasons == {
        "README.md": "not ELF",
        "empty": "not ELF",
        "b/notes.txt": "not ELF",
        "b/pipe": "not a regular file (FIFO)",
        "a/deep/loop": "directory already scanned (symlink loop or second link)",
        "again": "directory already scanned (symlink loop or second link)",
        "greet-link.so": f"same file as {tree / 'greet.so'}",
        "dangling.so": "broken symlink",
    }


def test_a_loop_of_symlinks_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "x").symlink_to("y")
    (tmp_path / "y").symlink_to("x")
    found = scan.expand([str(tmp_path)])
    assert found.files == ()
    assert {s.reason for s in found.skipped} == {"symlink loop"}


def test_explicit_files_keep_their_order_and_are_judged_whatever_they_are(tree: Path) -> None:
    readme, plugin = str(tree / "README.md"), str(tree / "greet.so")
    found = scan.expand([plugin, readme, str(tree / "b")])
    assert found.files[:2] == (plugin, readme)
    assert [os.path.basename(f) for f in found.files[2:]] == ["go-exe", "libplain.so"]


def test_read_magic_never_blocks_on_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert scan.read_magic(str(fifo)) == b""  # refused after fstat, without waiting for a writer


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode: no permission error to see")
def test_an_unreadable_file_is_an_access_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "secret.so"
    shutil.copy(corpus.path("greet.so"), f)
    f.chmod(0)
    assert cli.main([str(tmp_path), "--format", "json"]) == cli.EXIT_ERROR
    assert str(f) in capsys.readouterr().err


def test_judge_all_same_results_on_one_and_two_workers(tree: Path) -> None:
    files = scan.expand([str(tree)]).files
    kwargs = {"max_size": 1 << 30}
    inline = scan.judge_all(files, api.audit, kwargs, workers=0)
    pooled = scan.judge_all(files, api.audit, kwargs, workers=2)
    assert [r.path for r in pooled if isinstance(r, Report)] == list(files)
    assert [report_json(r) for r in inline if isinstance(r, Report)] == [
        report_json(r) for r in pooled if isinstance(r, Report)
    ]


@pytest.mark.parametrize("verbose", [[], ["-v"]])
@pytest.mark.parametrize("fmt", ["table", "json", "sarif", "markdown", "line"])
def test_document_of_slim_worker_reports_is_the_full_reports_document(
    tree: Path, capsys: pytest.CaptureFixture[str], verbose: list[str], fmt: str
) -> None:
    """A scan's workers send back slim reports (scan.slim_report) beside each file's parts of every format
    the run writes: each document written is the one of the full reports, rendered in one process, and so
    is the exit code; the Action's combination (the table, --output sarif and markdown) too."""
    from soinspect.output.interface import Format, needs_digest, render

    assert cli.main([str(tree), "--format", "json"]) == cli.EXIT_REJECTED
    policy = json.loads(capsys.readouterr().out)["policy"]
    out_dir = tree.parent / "out"
    out_dir.mkdir()
    extra = [f"--output=sarif={out_dir}/a.sarif", f"--output=markdown={out_dir}/a.md"] if fmt == "table" else []
    code = cli.main([str(tree), "--workers", "2", "--format", fmt, *verbose, *extra])
    out = capsys.readouterr().out
    found = scan.expand([str(tree)])
    full = [api.audit(f, digest=needs_digest(Format(fmt))) for f in found.files]

    def whole(f: Format) -> str:
        return render(full, f, policy=policy, verbose=bool(verbose), skipped=found.skipped)

    assert out == whole(Format(fmt))
    if extra:
        assert (out_dir / "a.sarif").read_text() == whole(Format.SARIF)
        assert (out_dir / "a.md").read_text() == whole(Format.MARKDOWN)
    assert code == (cli.EXIT_OK if all(r.loadable for r in full) else cli.EXIT_REJECTED)
    slim = scan.slim_report(full[0])
    assert slim.checks == () and slim.plugin is None and slim.loadable == full[0].loadable


def test_judge_all_reports_progress_to_the_end(tree: Path) -> None:
    files = scan.expand([str(tree)]).files
    seen: list[tuple[int, int]] = []
    scan.judge_all(files, api.audit, {}, workers=1, progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (len(files), len(files))
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_judge_all_returns_access_errors_in_place(tree: Path) -> None:
    files = [str(tree / "greet.so"), str(tree / "missing.so")]
    out = scan.judge_all(files, api.audit, {}, workers=2)
    assert isinstance(out[0], Report)
    assert not isinstance(out[1], Report)
    assert "missing.so" in str(out[1])


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_only_on_a_terminal_with_enough_files(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "xterm")
    monkeypatch.setattr("sys.stderr", _Tty())
    assert scan.ProgressBar.for_stderr(scan.PROGRESS_MIN_FILES, quiet=False).enabled
    assert not scan.ProgressBar.for_stderr(scan.PROGRESS_MIN_FILES - 1, quiet=False).enabled
    assert not scan.ProgressBar.for_stderr(100, quiet=True).enabled
    monkeypatch.setattr("sys.stderr", io.StringIO())  # a CI log: not a terminal
    assert not scan.ProgressBar.for_stderr(100, quiet=False).enabled


def test_progress_bar_draws_and_clears() -> None:
    out = _Tty()
    bar = scan.ProgressBar(out, 40, enabled=True)
    bar(20, 40)
    assert "[###############...............] 20/40 files" in out.getvalue()
    bar.close()
    assert out.getvalue().endswith("\r\x1b[K")


def test_cli_scan_of_a_tree(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([str(tree), "--format", "json", "--workers", "2"]) == cli.EXIT_REJECTED
    doc = json.loads(capsys.readouterr().out)
    verdicts = {os.path.basename(r["path"]): r["loadable"] for r in doc["results"]}
    assert verdicts == {
        "types": True,
        "greet-sw.so": True,
        "go-exe": False,
        "libplain.so": False,
        "greet-arm64.so": False,
        "greet.so": True,
    }
    assert doc["summary"] == {"files": 6, "loadable": 3, "rejected": 3, "skipped": 8, "errors": 0}
    assert doc["policy"]["config"] is None


def test_cli_scan_of_only_plugins_passes(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([str(tree / "a"), "--quiet"]) == cli.EXIT_OK
    out = capsys.readouterr()
    assert out.out.rstrip().endswith("2 of 2 file(s) loadable, 1 path(s) skipped")
    assert out.err == ""


def test_cli_host_and_directory_the_sorted_files_are_the_set(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # pluginA-1 and pluginA-2 share a plugin path: loaded in one process, the second is refused
    # ("plugin already loaded", recorded in corpus/observed.json); judged alone (--each) both load.
    for name in ("pluginA-1.so", "pluginA-2.so"):
        shutil.copy(corpus.path(name), tmp_path / name)
    host = corpus.path("host-1.27.3")
    assert cli.main(["--host", host, "--format", "json", str(tmp_path)]) == cli.EXIT_REJECTED
    doc = json.loads(capsys.readouterr().out)
    assert [os.path.basename(r["path"]) for r in doc["results"]] == ["pluginA-1.so", "pluginA-2.so"]
    assert [r["loadable"] for r in doc["results"]] == [True, False]
    assert doc["results"][1]["open_error"].endswith("plugin already loaded")
    assert cli.main(["--host", host, "--each", "--format", "json", str(tmp_path)]) == cli.EXIT_OK
    assert [r["loadable"] for r in json.loads(capsys.readouterr().out)["results"]] == [True, True]


def test_cli_bad_host_is_one_error(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--host", str(tree / "README.md"), "--each", str(tree)]) == cli.EXIT_ERROR
    assert "README.md" in capsys.readouterr().err


def test_progress_is_reported_per_file_from_the_worker_pool() -> None:
    paths = [corpus.path(n) for n in ("greet.so", "libplain.so", "not-elf.txt", "go-exe", "greet-sw.so")]
    seen: list[tuple[int, int]] = []
    results = scan.judge_all(paths, api.audit, {}, workers=2, progress=lambda d, t: seen.append((d, t)))
    assert [d for d, _ in seen] == [1, 2, 3, 4, 5] and {t for _, t in seen} == {5}
    assert [getattr(r, "path", None) for r in results] == paths


def test_a_plain_table_run_does_not_import_tabulate(tmp_path: Path) -> None:
    """A table of plain cells is laid out without tabulate (output.table._simple_table), and tabulate's
    import (importlib.metadata with it: 30 ms of a 0.2 s cold start) is left to the tables that need it."""
    import subprocess
    import sys

    shutil.copy(corpus.path("greet.so"), tmp_path / "greet.so")
    code = (
        "import sys\nfrom soinspect.cli import command\n"
        f"rc = command.main([{str(tmp_path / 'greet.so')!r}, '--color', 'never'])\n"
        "print('tabulate' in sys.modules, rc, file=sys.stderr)\n"
    )
    proc = subprocess.run([sys.executable, "-P", "-c", code], capture_output=True, text=True, cwd=tmp_path, check=False)
    assert proc.stderr.strip().splitlines()[-1] == "False 0", proc.stderr
    assert "greet.so: LOADABLE" in proc.stdout
