"""The coverage-guided harnesses (fuzz/) keep working: a short bounded run of each in CI, and their oracles.

The long runs, their figures and the commands are in docs/security.md. Here each harness runs for a few
seconds under atheris on a handful of templates (every seed of those goes through it first), and must
end with no crash, timeout, out-of-memory stop or finding.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import corpus
from fuzz import oracles
from fuzz.overlay import TEMPLATES_ENV
from fuzz.run import NAMES
from soinspect.elf.file import ElfFile, load
from soinspect.errors import SoinspectError
from soinspect.go.buildinfo import BuildInfo, BuildInfoResult, read_buildinfo

ROOT = Path(__file__).resolve().parent.parent
#: templates of the short runs: the inline, pointer and segment-scan build info formats, a cgo plugin
#: (version needs), a c-shared library, a big-endian header, and a file that is not ELF
CI_TEMPLATES = "greet.so,greet-noshdr.so,greet-1.19.so,synth-go1.16,cgo-demo.so,cshared.so,hdr-msb.so,not-elf.txt"
SECONDS = 4


@pytest.mark.parametrize("name", NAMES)
def test_short_run(tmp_path: Path, name: str) -> None:
    env = dict(os.environ, **{TEMPLATES_ENV: CI_TEMPLATES})
    # --keep-going: the run goes on past a failure and records each kind once; any of them (a crash, a
    # traceback, a slow input, an out-of-memory stop or a disagreement with the other reader) fails it
    cmd = [sys.executable, "-m", "fuzz.run", name, "--time", str(SECONDS), "--out", str(tmp_path), "--keep-going"]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    tail = proc.stderr[-3000:]
    assert proc.returncode == 0, tail
    out = tmp_path / name
    assert not list((out / "artifacts").iterdir()), tail
    failures = [p.name for p in (out / "findings").iterdir()]
    assert not failures, tail
    [stats_file] = out.glob("stats-*.json")
    stats = json.loads(stats_file.read_text())
    seeds = len(list((out / "seeds").iterdir()))
    assert seeds > 0
    assert stats["executions"] >= seeds, stats  # every seed ran, then the fuzzer's own inputs
    assert not stats["findings"], stats


def test_long_run_stops_at_its_cpu_budget_and_counts_it(tmp_path: Path) -> None:
    """``--until`` with ``--cpu-minutes``: the long run ends once its fuzzing process used the budget (well
    before the time given), with that CPU in long.json; a second long run on the same --out, its budget
    spent, starts no fuzzer."""
    import time

    env = dict(os.environ, **{TEMPLATES_ENV: CI_TEMPLATES})
    until = time.strftime("%H:%M", time.localtime(time.time() + 600))  # past midnight: the next day's
    cmd = [sys.executable, "-m", "fuzz.run", "config", "--until", until, "--cpu-minutes", "0.05", "--nice", "0",
           "--out", str(tmp_path)]  # fmt: skip
    started = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert time.monotonic() - started < 120
    summary = json.loads((tmp_path / "config" / "long.json").read_text())
    assert summary["children"] == 1 and summary["cpu"] >= 3, summary
    assert summary["executions"] > 0, summary
    again = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert again.returncode == 0 and json.loads((tmp_path / "config" / "long.json").read_text()) == summary


# -- the oracles ------------------------------------------------------------------------------------------


def test_fffd_runs_compare_as_one() -> None:
    go = "a\ufffd\ufffd\ufffdb"  # Go: one per invalid byte of b"a\xe2\x82\xffb"... per byte
    py = b"a\xe2\x82\xffb".decode("utf-8", "replace")  # Python: one per maximal invalid run
    assert go != py
    assert oracles.collapse_fffd(go) == oracles.collapse_fffd(py) == "a\ufffdb"
    assert oracles.collapse_fffd({"k": [go]}) == {"k": ["a\ufffdb"]}


def test_compare_buildinfo_rules() -> None:
    info = BuildInfoResult(BuildInfo(go_version="go1.27.3", path="p", source="section .go.buildinfo", format="inline"))
    go = {"GoVersion": "go1.27.3", "Path": "p", "Main": {}}
    assert oracles.compare_buildinfo(go, info) is None
    assert (oracles.compare_buildinfo(dict(go, Path="q"), info) or ("",))[0] == "path"
    assert oracles.compare_buildinfo(None, None) is None
    assert oracles.compare_buildinfo(go, None)
    assert oracles.compare_buildinfo(None, info)  # Go reads none where soinspect read the section
    scan = BuildInfo(go_version="go1.27.3", source="segment scan (first writable PT_LOAD)", format="inline")
    assert oracles.compare_buildinfo(None, BuildInfoResult(scan)) is None  # rule 2
    bad = BuildInfoResult(BuildInfo(go_version="go1.27.3", source="section .go.buildinfo"), problems=("line 1",))
    assert oracles.compare_buildinfo(None, bad) is None  # rule 4: both reject the module info
    assert oracles.compare_buildinfo(go, bad)


def test_go_batch_matches_each_file(tmp_path: Path) -> None:
    """One `go version -m` for many files gives, per file, what a run on that file alone gives."""
    names = ["greet.so", "libplain.so", "greet-1.19.so", "not-elf.txt", "greet-trimpath.so", "greet-noshdr.so"]
    files = [corpus.path(n) for n in names]
    sentinel = str(tmp_path / "sentinel")
    oracles.make_sentinel(sentinel)
    batch = oracles.go_version_m(files, sentinel)
    alone = {f: oracles.go_version_m([f], sentinel)[f] for f in files}
    assert batch == alone
    assert batch[corpus.path("greet.so")] is not None and batch[corpus.path("libplain.so")] is None


_NEWFILE = """package main

import (
	"debug/elf"
	"fmt"
	"os"
)

func main() {
	for _, p := range os.Args[1:] {
		f, err := elf.Open(p)
		if err != nil {
			fmt.Println("refuses:", err)
			continue
		}
		f.Close()
		fmt.Println("reads")
	}
}
"""


def test_go_elf_refusal_is_go_debug_elf_newfile(tmp_path: Path) -> None:
    """Rule 6 leaves out Go's "none" where fuzz/oracles.go_elf_refusal says Go's debug/elf refuses the
    file: on every corpus file and every ELF regression seed it must say what the real NewFile does."""
    from fuzz.overlay import apply_patch

    go = oracles.go_binary()
    assert go is not None, "no Go toolchain: set SOINSPECT_GO"
    (tmp_path / "main.go").write_text(_NEWFILE)
    env = dict(os.environ, GOTOOLCHAIN="local", GOFLAGS="", GOPROXY="off", CGO_ENABLED="0")
    tool = tmp_path / "newfile"
    subprocess.run([go, "build", "-o", str(tool), "main.go"], cwd=tmp_path, env=env, check=True, timeout=300)
    files = {n: Path(corpus.path(n)).read_bytes() for n in corpus.names()}
    for seed in sorted((ROOT / "tests" / "regressions").glob("*.json")):
        files[seed.name] = apply_patch(json.loads(seed.read_text()))
    paths = []
    for i, data in enumerate(files.values()):
        paths.append(tmp_path / f"f{i}")
        paths[-1].write_bytes(data)
    lines = subprocess.run([str(tool), *map(str, paths)], capture_output=True, text=True, check=True).stdout.split("\n")
    real = {n: line.startswith("refuses") for n, line in zip(files, lines, strict=False)}
    ours = {n: oracles.go_elf_refusal(data) is not None for n, data in files.items()}
    assert any(ours.values()) and not all(ours.values())
    assert ours == real, {n: (ours[n], lines[i]) for i, n in enumerate(files) if ours[n] != real[n]}


def _parses(name: str) -> ElfFile | None:
    try:
        return load(corpus.path(name))
    except SoinspectError:
        return None


@pytest.mark.parametrize("name", corpus.names())
def test_corpus_agrees_with_pyelftools_and_go(name: str, tmp_path: Path) -> None:
    """The seeds themselves: no disagreement on any corpus file, with either oracle."""
    elf = _parses(name)
    if elf is None:
        return  # soinspect rejects it: there are no ELF facts to compare
    assert oracles.compare_elf(elf) == []
    batch = oracles.GoBatch(size=1)
    assert batch.add(elf, read_buildinfo(elf)) == []
