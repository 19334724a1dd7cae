"""Real oracles the tests compare against: a Go toolchain's ``go version -m``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


@cache
def go_binary() -> str:
    """The `go` used as an oracle: $SOINSPECT_GO, else the one scripts/go-toolchain.sh installs."""
    env = os.environ.get("SOINSPECT_GO")
    if env:
        return env
    root = os.environ.get("SOINSPECT_TOOLCHAINS", "/opt/sgo")
    cand = Path(root) / "1.27.3" / "bin" / "go"
    if cand.exists():
        return str(cand)
    found = shutil.which("go")
    if found:
        return found
    raise AssertionError(
        "no Go toolchain for the oracle tests: run scripts/go-toolchain.sh 1.27.3 "
        "(.ci/run does) or set SOINSPECT_GO"
    )


def go_version_m_json(path: str) -> dict[str, Any] | None:
    """``go version -m -json FILE`` as a dict, or None when Go says it is not a Go binary."""
    env = dict(os.environ, GOTOOLCHAIN="local", GOFLAGS="", GOPROXY="off")
    proc = subprocess.run(
        [go_binary(), "version", "-m", "-json", path],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    if proc.returncode != 0 or not proc.stdout.strip():
        return None
    data: dict[str, Any] = json.loads(proc.stdout)
    return data
