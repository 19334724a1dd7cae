"""Nothing from an inspected file ever runs.

``initwrite.so``'s package init creates the file named by ``SOINSPECT_INIT_MARKER`` (corpus/observed.json
records that the real host did create it). Every API call and a CLI run over it must leave no such file,
and a Python audit hook must see no ``ctypes.dlopen`` and no process start during the in-process calls.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

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

#: a shared object whose constructor runs the moment anything dlopens it: it appends to the file named by
#: SOINSPECT_HOSTILE_MARKER. Python's import of an extension module is a dlopen.
HOSTILE_C = r"""
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
__attribute__((constructor)) static void hostile(void) {
    const char *marker = getenv("SOINSPECT_HOSTILE_MARKER");
    if (marker != NULL) {
        int fd = open(marker, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) { (void)write(fd, "ran\n", 4); close(fd); }
    }
}
"""

#: stdlib modules a soinspect start-up imports after ``python -m`` has put the working directory first on
#: sys.path (seen with CPython 3.11: ``dataclasses``; ``types`` where site has not imported it already).
#: A file named after each lies in the working directory as ``<name>.so``, a name Python imports.
HOSTILE_NAMES = ("types", "dataclasses", "argparse", "struct", "json", "tempfile")


@pytest.fixture(scope="module")
def hostile_cwd(tmp_path_factory: pytest.TempPathFactory) -> Path:
    gcc = shutil.which("gcc")
    assert gcc is not None, "gcc is needed to build the hostile extension module (apt-get install gcc)"
    d = tmp_path_factory.mktemp("hostile-cwd")
    src = d / "hostile.c"
    src.write_text(HOSTILE_C)
    subprocess.run([gcc, "-shared", "-fPIC", "-o", str(d / "hostile.bin"), str(src)], check=True)
    src.unlink()
    for name in HOSTILE_NAMES:
        shutil.copy(d / "hostile.bin", d / f"{name}.so")
    (d / "hostile.bin").unlink()
    return d


def hostile_env(marker: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONSAFEPATH", "PYTHONPATH")}
    env["SOINSPECT_HOSTILE_MARKER"] = str(marker)
    return env


def test_python_dash_m_without_dash_p_runs_code_from_the_working_directory(hostile_cwd: Path, tmp_path: Path) -> None:
    """The hazard is real (so the test below is not vacuous): ``python -m soinspect`` imports a hostile
    module from the working directory before soinspect can do anything, and soinspect refuses that form."""
    marker = tmp_path / "ran"
    proc = subprocess.run(
        [sys.executable, "-m", "soinspect", "."],
        cwd=hostile_cwd,
        env=hostile_env(marker),
        capture_output=True,
        text=True,
        check=False,
    )
    assert marker.exists(), "no hostile module was imported: update HOSTILE_NAMES for this Python"
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
            env=hostile_env(marker),
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == 1, proc.stderr  # each is judged: a C library, not a plugin
        doc = json.loads(proc.stdout)
        assert sorted(os.path.basename(r["path"]) for r in doc["results"]) == sorted(f"{n}.so" for n in HOSTILE_NAMES)
        assert {r["kind"] for r in doc["results"]} == {"c-shared"}
        assert not marker.exists(), f"{cmd}: a hostile module in the working directory ran"
