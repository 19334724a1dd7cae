"""Access to the committed corpus: manifest, observations, and the decompressed files.

Files are decompressed once per test session into ``corpus/.cache/`` (git-ignored) and checked against
the sha256 in ``corpus/manifest.json``. A missing or altered corpus file fails the test that needs it: it
is never skipped.
"""

from __future__ import annotations

import hashlib
import json
import lzma
import os
from functools import cache
from pathlib import Path
from typing import Any

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
CACHE = CORPUS / ".cache"


@cache
def manifest() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((CORPUS / "manifest.json").read_text())["files"]
    return data


@cache
def observed() -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = json.loads((CORPUS / "observed.json").read_text())["runs"]
    return runs


def names(kind: str | None = None) -> list[str]:
    return sorted(n for n, e in manifest().items() if kind is None or e["kind"] == kind)


def path(name: str) -> str:
    """Absolute path of the decompressed corpus file *name*, verified against its sha256.

    The first call lays out the whole corpus in one directory, as corpus/observe.py did for the real
    hosts: a cgo plugin finds its library beside it through RUNPATH $ORIGIN, whatever the test order.
    """
    if name not in manifest():
        raise AssertionError(f"corpus file {name!r} is not in corpus/manifest.json")
    if not _VERIFIED:
        for other in manifest():
            _materialise(other)
        for other, entry in manifest().items():  # second names of one inode, as build.py made them
            if entry.get("hardlink_of"):
                link, target = CACHE / other, CACHE / entry["hardlink_of"]
                if not link.exists() or not os.path.samefile(link, target):
                    # link under a private name, then rename over: two processes laying out the cache at
                    # once (a test run and scripts/corpus_json.py) must not trip over each other
                    tmp = link.with_name(f"{link.name}.{os.getpid()}.link")
                    tmp.unlink(missing_ok=True)
                    os.link(target, tmp)
                    os.replace(tmp, link)
    return _materialise(name)


_VERIFIED: set[str] = set()


def _materialise(name: str) -> str:
    entry = manifest()[name]
    out = CACHE / name
    if name in _VERIFIED:
        return str(out)
    if not (out.exists() and _sha256(out) == entry["sha256"]):
        stored = CORPUS / entry["stored"]
        if not stored.exists():
            raise AssertionError(f"corpus file {stored} is missing: rebuild with corpus/build.py")
        raw = stored.read_bytes()
        if entry["compressed"] == "xz":
            raw = lzma.decompress(raw)
        if hashlib.sha256(raw).hexdigest() != entry["sha256"]:
            raise AssertionError(f"corpus file {stored} does not match the sha256 in the manifest")
        CACHE.mkdir(exist_ok=True)
        tmp = out.with_suffix(out.suffix + f".{os.getpid()}.tmp")
        tmp.write_bytes(raw)
        os.chmod(tmp, 0o755)
        os.replace(tmp, out)
    _VERIFIED.add(name)
    return str(out)


def _sha256(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()
