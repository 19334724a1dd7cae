"""Large real Go plugins for the memory benchmark, built with the Go toolchain and cached.

A plugin of about N MiB is ``go build -buildmode=plugin`` of a package that embeds (``//go:embed``) an
N MiB blob and exports ``Blob`` and ``Size``: a plugin like any other, whose bytes are mostly data that
soinspect never needs to read. The blob is generated from a fixed seed (sha512 in counter mode), so a
rebuild gives the same sizes. Files are cached in ``benchmarks/.cache/`` (git-ignored) by size and Go
version.

Usage: python benchmarks/bigplugin.py [MIB ...]   (default 20 40 70); prints the paths.
The Go binary is $SOINSPECT_GO or /opt/sgo/1.27.3/bin/go.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

CACHE = Path(__file__).resolve().parent / ".cache"
DEFAULT_SIZES = (20, 40, 70)

_MAIN_GO = """package main

import _ "embed"

//go:embed blob.bin
var Blob []byte

// Size is exported so that the plugin has a function symbol as well as the variable.
func Size() int { return len(Blob) }
"""


def go_binary() -> str:
    return os.environ.get("SOINSPECT_GO") or str(
        Path(os.environ.get("SOINSPECT_TOOLCHAINS", "/opt/sgo")) / "1.27.3" / "bin" / "go"
    )


def _go_version(go: str) -> str:
    out = subprocess.run([go, "env", "GOVERSION"], capture_output=True, text=True, check=True, env=_env())
    return out.stdout.strip()


def _env() -> dict[str, str]:
    return dict(
        os.environ,
        GOTOOLCHAIN="local",
        GOFLAGS="",
        GOPROXY="off",
        GOWORK="off",
        CGO_ENABLED="1",
        GOCACHE=str(CACHE / "gocache"),
    )


def _blob(path: Path, size: int) -> None:
    with path.open("wb") as fh:
        written, counter = 0, 0
        while written < size:  # bound: size / 64 blocks
            block = hashlib.sha512(b"soinspect-bench-%d" % counter).digest()
            fh.write(block[: size - written])
            written += len(block)
            counter += 1


def plugin(mib: int) -> str:
    """Path of a cached plugin embedding *mib* MiB, built on first use."""
    go = go_binary()
    out = CACHE / f"big-{mib}mib-{_go_version(go)}.so"
    if out.exists():
        return str(out)
    src = CACHE / f"src-{mib}mib"
    src.mkdir(parents=True, exist_ok=True)
    (src / "go.mod").write_text("module example.com/big\n\ngo 1.21\n")
    (src / "main.go").write_text(_MAIN_GO)
    _blob(src / "blob.bin", mib << 20)
    tmp = out.with_suffix(f".{os.getpid()}.tmp")
    subprocess.run([go, "build", "-buildmode=plugin", "-o", str(tmp), "."], cwd=src, env=_env(), check=True)
    os.replace(tmp, out)
    (src / "blob.bin").unlink()
    return str(out)


def main(argv: list[str]) -> int:
    for mib in [int(a) for a in argv] or list(DEFAULT_SIZES):
        print(plugin(mib))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
