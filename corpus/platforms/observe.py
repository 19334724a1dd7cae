#!/usr/bin/env python3
"""Run the real Go hosts of corpus/platforms (plugin.Open, under qemu-user or natively) and record what
happened in corpus/platforms/observed.json. Nothing in observed.json is written by hand.

    python3 corpus/platforms/build.py && python3 corpus/platforms/observe.py

Each platform's programs run here as Debian's packages allow: arm64, arm, ppc64le, s390x and riscv64 under
qemu-user-static with the cross C library as the prefix (-L /usr/<triplet>); linux/386 natively, through the
i686 cross loader (Go programs crash under qemu-i386). The record has corpus/observe.py's shape.
"""

from __future__ import annotations

import importlib.util
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


corpus_observe = _load("corpus_observe", HERE.parent / "observe.py")  # scrub, crash_line, PLACEHOLDERS
platforms_build = _load("platforms_build", HERE / "build.py")
MANIFEST, OUT, PLATFORMS = platforms_build.MANIFEST, platforms_build.OUT, platforms_build.PLATFORMS

TIMEOUT = 120

#: how a program of each platform runs here
RUNNERS = {
    "arm64": ["qemu-aarch64-static", "-L", "/usr/aarch64-linux-gnu"],
    "arm": ["qemu-arm-static", "-L", "/usr/arm-linux-gnueabihf"],
    "386": ["/usr/i686-linux-gnu/lib/ld-linux.so.2", "--library-path", "/usr/i686-linux-gnu/lib"],
    "ppc64le": ["qemu-ppc64le-static", "-L", "/usr/powerpc64le-linux-gnu"],
    "s390x": ["qemu-s390x-static", "-L", "/usr/s390x-linux-gnu"],
    "riscv64": ["qemu-riscv64-static", "-L", "/usr/riscv64-linux-gnu"],
}

#: for each platform, another platform whose plugin its host is given (another class or byte order)
OTHER = {"arm64": "arm", "arm": "arm64", "386": "arm64", "ppc64le": "s390x", "s390x": "ppc64le",
         "riscv64": "386"}


def plan(files: dict) -> list[tuple[str, list[str]]]:
    runs: list[tuple[str, list[str]]] = []
    for a in PLATFORMS:
        host, old = f"{a}/host", f"{a}/host-1.26.6"
        for p in ("greet.so", "greet-sw.so", "greet-trimpath.so", "usedep-v2.so", "greet-race.so",
                  "greet-1.26.6.so"):
            runs.append((host, [f"{a}/{p}"]))
        for p in ("greet-1.26.6.so", "greet-sw-1.26.6.so", "usedep-v2-1.26.6.so", "greet.so"):
            runs.append((old, [f"{a}/{p}"]))
        runs.append((host, [f"{a}/greet.so", f"{a}/greet.so"]))  # the same file twice
        runs.append((host, [f"{a}/greet.so", f"{a}/greet-copy.so"]))  # a byte copy: the same plugin path
        runs.append((old, [f"{a}/greet-1.26.6.so", f"{a}/greet-copy-1.26.6.so"]))
        runs.append((host, [f"{OTHER[a]}/greet.so"]))  # another platform's plugin
    known = set(files) | {copy_name(n) for n in files if n in COPIED or n.endswith(COPIED)}
    return [(h, ps) for h, ps in runs if all(p in known for p in [h, *ps])]


#: the plugins laid out a second time under another name (a byte copy: the same plugin path, another file)
COPIED = ("/greet.so", "/greet-1.26.6.so")


def copy_name(name: str) -> str:
    return name.replace("/greet", "/greet-copy")


def lay_out(files: dict, tmp: Path) -> None:
    """Every built file, and the byte copies the runs name, under *tmp*/<goarch>/."""
    for name, f in files.items():
        dst = tmp / name
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(OUT / name, dst)
        dst.chmod(0o755)
    for name in [n for n in files if n.endswith(COPIED)]:
        shutil.copyfile(tmp / name, tmp / copy_name(name))


def observe(host: str, plugins: list[str], files: dict, tmp: Path) -> dict:
    arch = files[host]["goarch"]
    argv = [*RUNNERS[arch], str(tmp / host)]
    paths = {}
    for p in plugins:
        exports = files.get(p, files.get(p.replace("-copy", ""), {})).get("exports")
        if exports:
            argv += ["-lookup", ",".join(exports)]
        argv.append(str(tmp / p))
        paths[str(tmp / p)] = p
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp), "LANG": "C"}
    timed_out = False
    try:
        proc = subprocess.run(argv, capture_output=True, env=env, timeout=TIMEOUT, cwd=tmp)
        out, err, code = proc.stdout, proc.stderr, proc.returncode
    except subprocess.TimeoutExpired as e:
        out, err, code, timed_out = e.stdout or b"", e.stderr or b"", None, True
    stderr = err.decode(errors="replace").splitlines()
    lines = [json.loads(line) for line in out.decode(errors="replace").splitlines() if line.startswith("{")]
    results = []
    scrub = corpus_observe.scrub
    for i, name in enumerate(plugins):
        if i < len(lines):
            r = lines[i]
            assert r["path"] == str(tmp / name), (r["path"], name)
            oe = r["open_error"]
            results.append({"plugin": name, "outcome": r["outcome"],
                            "open_error": scrub(oe, {str(tmp / name): 1}, str(tmp)) if oe else None,
                            "symbols": r["symbols"],
                            "lookup_errors": {k: scrub(v, paths, str(tmp)) for k, v in r["lookup_errors"].items()}})
        elif i == len(lines):
            line = f"timeout after {TIMEOUT} s" if timed_out else corpus_observe.crash_line(stderr)
            results.append({"plugin": name, "outcome": "crash",
                            "open_error": scrub(line, paths, str(tmp)) if line else None,
                            "symbols": {}, "lookup_errors": {}})
        else:
            results.append({"plugin": name, "outcome": "not_reached", "open_error": None, "symbols": {},
                            "lookup_errors": {}})
    sig = signal.Signals(-code).name if code is not None and code < 0 else None
    record = {"host": host, "runner": " ".join(RUNNERS[arch]), "plugins": plugins, "results": results,
              "exit": {"code": None if code is None or code < 0 else code, "signal": sig},
              "stderr_head": [scrub(line, paths, str(tmp)) for line in stderr[:8]]}
    if timed_out:
        record["exit"]["timeout"] = True
    return record


def tool_versions() -> dict:
    def first(argv: list[str]) -> str | None:
        try:
            return subprocess.run(argv, capture_output=True, text=True).stdout.splitlines()[0]
        except (OSError, IndexError):
            return None
    return {"qemu": first(["qemu-aarch64-static", "--version"]),
            "glibc": os.confstr("CS_GNU_LIBC_VERSION"), "kernel": platform.release(),
            "arch": platform.machine()}


def main() -> None:
    files = json.loads(MANIFEST.read_text())["files"]
    tmp = Path(tempfile.mkdtemp(prefix="soinspect-platforms-observe-"))
    try:
        lay_out(files, tmp)
        runs = plan(files)
        print(f"{len(runs)} runs", file=sys.stderr)
        with ThreadPoolExecutor(max_workers=2) as pool:
            records = list(pool.map(lambda a: observe(*a, files, tmp), runs))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    doc = {"generated_by": "corpus/platforms/observe.py", "machine": tool_versions(), "timeout_seconds": TIMEOUT,
           "placeholders": corpus_observe.PLACEHOLDERS, "runs": records}
    (HERE / "observed.json").write_text(json.dumps(doc, indent=1) + "\n")
    outcomes: dict[str, int] = {}
    for r in records:
        for res in r["results"]:
            outcomes[res["outcome"]] = outcomes.get(res["outcome"], 0) + 1
    print(f"wrote corpus/platforms/observed.json: {len(records)} runs, {outcomes}", file=sys.stderr)


if __name__ == "__main__":
    main()
