"""Access to the cross-platform corpus (corpus/platforms): built from committed sources on first use, every
file checked against the sha256 in corpus/platforms/manifest.json, and its recorded real loads.

The files are not committed: ``corpus/platforms/build.py`` builds them reproducibly into a fixed directory
(``/tmp/soinspect-platforms``, or ``$SOINSPECT_PLATFORMS_DIR``) and refuses bytes that differ from the
manifest. In CI (``CI`` set) a build that cannot run fails the tests; elsewhere, a machine without the cross
C compilers or the Go toolchains skips them, saying which is missing.
"""

from __future__ import annotations

import fcntl
import importlib.util
import json
import os
import shutil
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent.parent / "corpus" / "platforms"


def _build_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("platforms_build", HERE / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build = _build_module()


@cache
def manifest() -> dict[str, Any]:
    files: dict[str, Any] = json.loads((HERE / "manifest.json").read_text())["files"]
    return files


@cache
def observed() -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = json.loads((HERE / "observed.json").read_text())["runs"]
    return runs


def _missing_tools() -> list[str]:
    need = [p["cc"] for p in build.PLATFORMS.values()]
    return [t for t in need if shutil.which(t) is None]


@cache
def out_dir() -> Path:
    """The built and verified files (``<goarch>/<name>``), and the byte copies the runs name."""
    missing = _missing_tools()
    if missing and not os.environ.get("CI"):
        pytest.skip(f"the cross-platform corpus needs these C cross compilers, not installed here: {missing} "
                    "(apt-get install gcc-aarch64-linux-gnu ...; CI installs them and never skips)")
    assert not missing, f"CI must install the cross C compilers: {missing}"
    build.ROOT.mkdir(parents=True, exist_ok=True)
    with open(build.ROOT / ".lock", "w") as lock:  # one build at a time (pytest workers, two checkouts)
        fcntl.flock(lock, fcntl.LOCK_EX)
        code = build.main([])
        assert code == 0, "corpus/platforms/build.py: a file differs from corpus/platforms/manifest.json (above)"
        for name in manifest():
            if name.endswith(("/greet.so", "/greet-1.26.6.so")):
                copy = build.OUT / name.replace("/greet", "/greet-copy")
                if not copy.exists() or copy.read_bytes() != (build.OUT / name).read_bytes():
                    shutil.copyfile(build.OUT / name, copy)
    out: Path = build.OUT
    return out


def path(name: str) -> str:
    """The absolute path of *name* (``arm64/greet.so``, ``arm64/greet-copy.so``), built and verified."""
    p = out_dir() / name
    assert p.exists(), f"{name} is not built by corpus/platforms/build.py"
    return str(p)


def seed_files() -> list[tuple[str, str]]:
    """(``platforms/<goarch>/<name>``, path) of the default and stripped plugins of every platform: the fuzz
    harnesses' templates beside the corpus (32-bit, big-endian, REL and RELA files). Built on first use; a
    machine without the cross compilers gives none outside CI (and fails in CI)."""
    if _missing_tools() and not os.environ.get("CI"):
        return []
    names = [n for n in manifest() if n.endswith(("/greet.so", "/greet-sw.so"))]
    return [(f"platforms/{n}", path(n)) for n in sorted(names)]
