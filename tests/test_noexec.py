"""Nothing from an inspected file ever runs.

``initwrite.so``'s package init creates the file named by ``SOINSPECT_INIT_MARKER`` (corpus/observed.json
records that the real host did create it). Every API call and a CLI run over it must leave no such file,
and a Python audit hook must see no ``ctypes.dlopen`` and no process start during the in-process calls.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import hostile
import pytest

import corpus
import soinspect

_EVENTS: list[tuple[str, str]] = []
_RECORDING = [False]
_WATCHED = ("ctypes.dlopen", "subprocess.Popen", "os.exec", "os.posix_spawn", "os.spawn", "os.system", "os.fork")


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if _RECORDING[0] and event.startswith(_WATCHED):
        _EVENTS.append((event, repr(args)[:300]))


sys.addaudithook(_hook)
ROOT = Path(__file__).resolve().parent.parent


def test_real_host_ran_the_init() -> None:
    """The corpus proves the init runs when the plugin is really loaded: the test is not vacuous."""
    created = [
        run["init_marker"]["created"]
        for run in corpus.observed()
        if "initwrite.so" in run["plugins"] and "init_marker" in run
    ]
    assert True in created, "no recorded real load of initwrite.so created the marker"


def test_no_execution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    marker = tmp_path / "init-ran"
    monkeypatch.setenv("SOINSPECT_INIT_MARKER", str(marker))
    path = corpus.path("initwrite.so")
    _EVENTS.clear()
    _RECORDING[0] = True
    try:
        report = soinspect.audit(path)
        assert report.loadable
        soinspect.check_host(corpus.path("host-1.27.3"), [path])
        p = soinspect.open(path)
        assert p.lookup("Ran").type == "*bool"
        assert [s.name for s in p.symbols()] == ["Ran"]
        soinspect.open(path, host=corpus.path("host-1.27.3"))
    finally:
        _RECORDING[0] = False
    assert _EVENTS == []
    assert not marker.exists()

    env = {**os.environ, "SOINSPECT_INIT_MARKER": str(marker), "PYTHONPATH": str(ROOT)}
    for args in (
        [path],
        ["--format", "json", path],
        ["--host", corpus.path("host-1.27.3"), "--expect", "Ran=*bool", path],
    ):
        out = subprocess.run(
            [sys.executable, "-P", "-m", "soinspect", *args], env=env, capture_output=True, text=True, check=False
        )
        assert out.returncode == 0, out.stderr
        assert not marker.exists()


# -- no documented invocation imports code from the working directory ----------------------------------

@pytest.fixture(scope="module")
def hostile_cwd(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return hostile.build(tmp_path_factory.mktemp("hostile-cwd"))


def test_python_dash_m_without_dash_p_runs_code_from_the_working_directory(hostile_cwd: Path, tmp_path: Path) -> None:
    """The hazard is real (so the test below is not vacuous): ``python -m soinspect`` imports a hostile
    module from the working directory before soinspect can do anything, and soinspect refuses that form."""
    marker = tmp_path / "ran"
    proc = subprocess.run(
        [sys.executable, "-m", "soinspect", "."],
        cwd=hostile_cwd,
        env=hostile.env(marker),
        capture_output=True,
        text=True,
        check=False,
    )
    assert marker.exists(), "no hostile module was imported: update hostile.NAMES for this Python"
    assert proc.returncode != 0


def test_documented_invocations_never_import_from_the_working_directory(hostile_cwd: Path, tmp_path: Path) -> None:
    """The ``soinspect`` script (what the Action and the pre-commit hook run; tests/test_integrations.py runs
    them with these modules in their working directory) and ``python -P -m soinspect``, run in a directory
    full of hostile modules, judge them (they are *.so files) and never run them."""
    marker = tmp_path / "ran"
    script = Path(sys.executable).parent / "soinspect"
    assert script.exists()
    for cmd in ([str(script), "."], [sys.executable, "-P", "-m", "soinspect", "."]):
        proc = subprocess.run(
            [*cmd, "--format", "json"],
            cwd=hostile_cwd,
            env=hostile.env(marker),
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == 1, proc.stderr  # each is judged: a C library, not a plugin
        doc = json.loads(proc.stdout)
        assert sorted(os.path.basename(r["path"]) for r in doc["results"]) == sorted(f"{n}.so" for n in hostile.NAMES)
        assert {r["kind"] for r in doc["results"]} == {"c-shared"}
        assert not marker.exists(), f"{cmd}: a hostile module in the working directory ran"
