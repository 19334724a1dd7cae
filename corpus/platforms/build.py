#!/usr/bin/env python3
"""Build soinspect's cross-platform ground truth (hosts and plugins for every linux platform Go builds
plugins for) from corpus/src, reproducibly, and check every file against the recorded sha256.

Sources are copied to a FIXED directory (/tmp/soinspect-platforms/src, the same on every machine) and
built with fixed flags (-buildvcs=false, GOFLAGS empty, no proxy), so that a rebuild gives the same bytes
and the real loads recorded in corpus/platforms/observed.json stay evidence for exactly those bytes.
Nothing here is committed but the recipes, the sha256 sums and the observations: CI rebuilds the files.

    python3 corpus/platforms/build.py            # build what is missing, check every sha256 (CI)
    python3 corpus/platforms/build.py --record   # rebuild everything, write manifest.json (a maintainer)

A file whose bytes differ from manifest.json fails the run (exit 1), naming the file.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parent
REPO = CORPUS.parent
MANIFEST = HERE / "manifest.json"
ROOT = Path(os.environ.get("SOINSPECT_PLATFORMS_DIR", "/tmp/soinspect-platforms"))
SRC = ROOT / "src"
OUT = ROOT / "out"
SOURCES = ("host", "greet", "usedep", "dep-v1", "dep-v2")

COMMON_ENV = {
    "GOPROXY": "off", "GOFLAGS": "-buildvcs=false", "GOTOOLCHAIN": "local", "GOWORK": "off",
    "GOENV": "off", "GOTELEMETRY": "off", "CGO_ENABLED": "1",
    "GOPATH": str(ROOT / "gopath"), "GOMODCACHE": str(ROOT / "gopath/pkg/mod"),
    "GOCACHE": str(ROOT / "gocache"), "HOME": str(ROOT / "home"),
}

#: Each platform: its C cross compiler (cgo), extra Go environment, and how its programs run here.
PLATFORMS = {
    "arm64": {"cc": "aarch64-linux-gnu-gcc", "env": {}},
    "arm": {"cc": "arm-linux-gnueabihf-gcc", "env": {"GOARM": "7"}},
    "386": {"cc": "i686-linux-gnu-gcc", "env": {}},
    "ppc64le": {"cc": "powerpc64le-linux-gnu-gcc", "env": {}},
    "s390x": {"cc": "s390x-linux-gnu-gcc", "env": {}},
    "riscv64": {"cc": "riscv64-linux-gnu-gcc", "env": {}},
}
#: RaceDetectorSupported on linux (internal/platform/supported.go), for the platforms above.
RACE = {"arm64", "ppc64le", "s390x", "riscv64"}

GREET, USEDEP = ["Greet", "V"], ["Message"]
RELEASES = ("1.27.3", "1.26.6")


def recipes() -> dict[str, dict]:
    """Every file: "<goarch>/<name>" to its recipe (Go release, source dir, flags, exports)."""
    out: dict[str, dict] = {}

    def add(arch, name, version, src, target, *, flags=(), buildmode="plugin", exports=None, tags=()):
        flags = list(flags) + ([f"-tags={','.join(tags)}"] if tags else [])
        out[f"{arch}/{name}"] = {"goarch": arch, "go": version, "dir": src, "target": list(target),
                                 "buildmode": buildmode, "flags": flags, "exports": exports,
                                 "env": {"GOOS": "linux", "GOARCH": arch, "CC": PLATFORMS[arch]["cc"],
                                         **PLATFORMS[arch]["env"]}}

    for arch in PLATFORMS:
        for v in RELEASES:
            sfx = "" if v == RELEASES[0] else f"-{v}"
            # The host links example.com/dep (dep-v1): a plugin against dep-v2 differs in that package.
            add(arch, f"host{sfx}", v, "host", ["."], buildmode="exe", tags=["soinspect_dep"])
            add(arch, f"greet{sfx}.so", v, "greet", ["greet.go"], exports=GREET)
            add(arch, f"greet-sw{sfx}.so", v, "greet", ["greet.go"], flags=["-ldflags=-s -w"], exports=GREET)
            add(arch, f"usedep-v2{sfx}.so", v, "usedep", ["usedep.go"], flags=["-modfile=go.dep-v2.mod"],
                exports=USEDEP)
        add(arch, "greet-trimpath.so", RELEASES[0], "greet", ["greet.go"], flags=["-trimpath"], exports=GREET)
        if arch in RACE:
            add(arch, "greet-race.so", RELEASES[0], "greet", ["greet.go"], flags=["-race"], exports=GREET)
    return out


def go_binary(version: str) -> str:
    proc = subprocess.run([str(REPO / "scripts/go-toolchain.sh"), version], check=True,
                          capture_output=True, text=True)
    return proc.stdout.strip().splitlines()[-1]


def prepare_sources() -> None:
    if SRC.exists():
        shutil.rmtree(SRC)
    for d in SOURCES:
        shutil.copytree(CORPUS / "src" / d, SRC / d)


def build(name: str, r: dict) -> None:
    out = OUT / name
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GO", "CGO_", "CC"))}
    env.update(COMMON_ENV)
    env.update(r["env"])
    argv = [go_binary(r["go"]), "build", f"-buildmode={r['buildmode']}", *r["flags"], "-o", str(out),
            *r["target"]]
    print("+", name, " ".join(argv[1:]), file=sys.stderr, flush=True)
    subprocess.run(argv, cwd=SRC / r["dir"], env=env, check=True)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--record", action="store_true", help="rebuild everything and write manifest.json")
    ap.add_argument("names", nargs="*", help="only these files (goarch/name)")
    args = ap.parse_args(argv)
    todo = recipes()
    if args.names:
        todo = {n: todo[n] for n in args.names}
    recorded = {} if args.record else json.loads(MANIFEST.read_text())["files"]
    prepare_sources()
    bad = []
    for name, r in todo.items():
        out = OUT / name
        want = recorded.get(name, {}).get("sha256")
        if args.record or not out.exists() or sha256(out) != want:
            build(name, r)
        if not args.record and sha256(out) != want:
            bad.append(f"{name}: sha256 {sha256(out)}, manifest.json records {want}")
    if args.record:
        files = {n: {"sha256": sha256(OUT / n), "size": (OUT / n).stat().st_size, **r}
                 for n, r in todo.items()}
        old = json.loads(MANIFEST.read_text())["files"] if MANIFEST.exists() and args.names else {}
        MANIFEST.write_text(json.dumps({
            "generated_by": "corpus/platforms/build.py --record", "dir": str(ROOT),
            "common_env": COMMON_ENV, "files": {**old, **files}}, indent=1) + "\n")
    for line in bad:
        print(f"corpus/platforms/build.py: {line}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
