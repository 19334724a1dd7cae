#!/usr/bin/env python3
"""Run the real Go hosts (plugin.Open) on the corpus and record what happens.

Decompresses corpus/bin into a temporary directory, runs every (host, plugins)
combination below in its own process (60 s timeout each) and writes
corpus/observed.json. Nothing in observed.json is written by hand.

    python3 corpus/observe.py
"""

from __future__ import annotations

import json
import lzma
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

CORPUS = Path(__file__).resolve().parent
TIMEOUT = 60
MARKER_ENV = "SOINSPECT_INIT_MARKER"

FOUNDATION = [
    "greet.so", "greet-sw.so", "greet-stripped.so", "greet-trimpath.so", "greet-race.so",
    "greet-1.27.2.so", "greet-1.26.6.so", "greet-1.25.5.so", "greet-1.19.so", "greet-arm64.so",
    "greet-noshdr.so", "greet-truncated.so", "cshared.so", "go-exe", "go-pie", "libplain.so",
    "synth-go1.16", "not-elf.txt",
    "hdr-class32.so", "hdr-msb.so", "hdr-osabi.so", "hdr-etrel.so", "hdr-machine.so",
]

SETS = [
    ("host-1.27.3", ["greet.so", "greet.so"]),
    ("host-1.27.3", ["greet.so", "greet-copy.so"]),
    ("host-1.27.3", ["pluginA-1.so", "pluginA-2.so"]),
    ("host-1.27.3", ["greet-trimpath.so", "greet.so"]),
    ("host-1.27.3", ["cshared.so", "greet.so"]),
    ("host-1.27.3", ["libplain.so", "greet.so"]),
    ("host-1.27.3", ["usedep-v1.so", "usedep-v2.so"]),
    ("host-1.27.3", ["usedep-v1.so", "usedep-v1-copy.so"]),
    ("host-1.27.3-dep", ["usedep-v1.so", "usedep-v2.so"]),
    ("host-1.27.3", ["greet.so", "greet-sw.so"]),
    ("host-1.27.3", ["greet.so", "greet-stripped.so"]),
    ("host-1.27.3", ["greet.so", "greet-ldx.so"]),
    ("host-1.27.3", ["greet.so", "greet-1.27.2.so"]),
    ("host-1.27.3", ["greet-race.so", "greet.so"]),
    ("host-1.27.3", ["greet.so", "types.so", "initwrite.so"]),
    ("host-1.27.3", ["greet-trimpath.so", "greet-trimpath.so"]),
    ("host-1.27.3-race", ["greet.so", "greet-race.so"]),
    ("host-1.27.3-race", ["greet.so", "greet-sw.so"]),
    ("host-1.27.3-trimpath", ["greet-trimpath.so", "usedep-trimpath.so"]),
    ("host-1.27.3-nocgo", ["not-elf.txt", "greet.so"]),
    # A library that registers no module data after a good plugin, and other-release plugins after one.
    ("host-1.27.3", ["greet.so", "cshared.so"]),
    ("host-1.27.3", ["greet.so", "libplain.so", "greet-sw.so"]),
    ("host-1.27.3", ["greet.so", "greet-1.26.6.so", "greet-sw.so"]),
    ("host-1.27.3", ["greet-trimpath.so", "cshared.so"]),
    ("host-1.27.3", ["greet-trimpath.so", "greet-sw.so", "libplain.so"]),
    ("host-1.27.3", ["not-elf.txt", "greet-arm64.so", "greet.so"]),
    ("host-1.27.3", ["usedep-v2.so", "usedep-v1.so", "usedep-v1-copy.so"]),
    ("host-1.26.6", ["greet-1.26.6.so", "greet.so"]),
    ("host-1.27.3", ["cgo-absent.so", "cgo-demo.so"]),
    # One inode under two names: dlopen returns the mapped object, no init runs, nothing registers.
    ("host-1.27.3", ["greet-trimpath.so", "greet-trimpath-link.so", "greet.so"]),
    ("host-1.27.3", ["pluginA-1.so", "greet-trimpath-link.so", "libplain.so"]),
    ("host-1.27.3-trimpath", ["greet-trimpath.so", "greet-trimpath-link.so", "libplain.so"]),
]


def plan(files: dict) -> list[tuple[str, list[str]]]:
    hosts = [n for n, f in files.items() if f["kind"] == "go-host"]
    others = [n for n, f in files.items() if f["kind"] != "go-host"]
    runs: list[tuple[str, list[str]]] = []

    def add(host, plugins):
        if host in files and all(p in files for p in plugins) and (host, plugins) not in runs:
            runs.append((host, plugins))

    for n in others:  # every plugin with its matching host
        if files[n].get("matching_host"):
            add(files[n]["matching_host"], [n])
    for n in FOUNDATION:  # the foundation list with the reference host, and the no-cgo one
        add("host-1.27.3", [n])
    for n in others:  # every file with the reference host
        add("host-1.27.3", [n])
    for n in FOUNDATION:
        add("host-1.27.3-nocgo", [n])
    for n in others:  # every greet variant with every host
        if n.startswith("greet"):
            for h in hosts:
                add(h, [n])
    for n in others:  # usedep variants with every host that links dep
        if n.startswith("usedep"):
            for h in hosts:
                if "-dep" in h:
                    add(h, [n])
    add("host-1.27.3-nocgo", ["initwrite.so"])
    for host, plugins in SETS:
        add(host, plugins)
    return runs


PLACEHOLDERS = {
    "{path}": "the absolute path of the plugin file as given to plugin.Open",
    "{path_minus_so}": "the same path with its trailing .so cut off, as plugin.Open prints it "
                       "in its own messages (plugin_dlopen.go strips \".so\" before realpath)",
    "{dir}": "the temporary directory the corpus was decompressed into",
}


def scrub(text: str, paths, tmp: str) -> str:
    for p in sorted(paths, key=len, reverse=True):
        text = text.replace(p, "{path}")
    for p in sorted(paths, key=len, reverse=True):
        if p.endswith(".so"):
            text = text.replace(p[:-3], "{path_minus_so}")
    return text.replace(tmp, "{dir}")


def crash_line(stderr: list[str]) -> str | None:
    for line in stderr:
        if line.startswith("fatal error:"):
            return line
    for line in stderr:
        if "SIG" in line or "signal" in line or "fault" in line:
            return line.strip()
    return stderr[0] if stderr else None


def observe(run_index: int, host: str, plugins: list[str], files: dict, tmp: Path) -> dict:
    argv = [str(tmp / host)]
    paths = {}
    for p in plugins:
        if files[p].get("exports"):
            argv += ["-lookup", ",".join(files[p]["exports"])]
        argv.append(str(tmp / p))
        paths[str(tmp / p)] = p
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp), "LANG": "C"}
    marker = None
    if "initwrite.so" in plugins:
        marker = tmp / f"init-marker-{run_index}"
        marker.unlink(missing_ok=True)
        env[MARKER_ENV] = str(marker)
    timed_out = False
    try:
        proc = subprocess.run(argv, capture_output=True, env=env, timeout=TIMEOUT, cwd=tmp)
        out, err, code = proc.stdout, proc.stderr, proc.returncode
    except subprocess.TimeoutExpired as e:
        out, err, code, timed_out = e.stdout or b"", e.stderr or b"", None, True
    stderr = err.decode(errors="replace").splitlines()
    lines = [json.loads(line) for line in out.decode(errors="replace").splitlines()
             if line.startswith("{")]
    results = []
    for i, name in enumerate(plugins):
        if i < len(lines):
            r = lines[i]
            assert r["path"] == str(tmp / name), (r["path"], name)
            oe = r["open_error"]
            results.append({
                "plugin": name,
                "outcome": r["outcome"],
                "open_error": scrub(oe, {str(tmp / name): 1}, str(tmp)) if oe else None,
                "symbols": r["symbols"],
                "lookup_errors": {k: scrub(v, paths, str(tmp))
                                  for k, v in r["lookup_errors"].items()},
            })
        elif i == len(lines):
            line = "timeout after %d s" % TIMEOUT if timed_out else crash_line(stderr)
            results.append({"plugin": name, "outcome": "crash",
                            "open_error": scrub(line, paths, str(tmp)) if line else None,
                            "symbols": {}, "lookup_errors": {}})
        else:
            results.append({"plugin": name, "outcome": "not_reached", "open_error": None,
                            "symbols": {}, "lookup_errors": {}})
    sig = None
    if code is not None and code < 0:
        sig = signal.Signals(-code).name
    record = {
        "host": host,
        "plugins": plugins,
        "results": results,
        "exit": {"code": None if code is None or code < 0 else code, "signal": sig},
        "stderr_head": [scrub(line, paths, str(tmp)) for line in stderr[:8]],
    }
    if timed_out:
        record["exit"]["timeout"] = True
    if marker is not None:
        record["init_marker"] = {"env": MARKER_ENV, "created": marker.exists()}
    return record


def go_version_m(files: dict, tmp: Path) -> dict:
    """What `go version -m` (the reference toolchain's build info reader) says of each file."""
    gobin = files["host-1.27.3"]["recipe"]["go_binary"]
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp), "GOTOOLCHAIN": "local", "GOFLAGS": "",
           "GOENV": "off", "GOTELEMETRY": "off"}
    version = subprocess.run([gobin, "version"], capture_output=True, text=True, env=env)
    out = {"go": version.stdout.strip(), "files": {}}
    for name in files:
        path = str(tmp / name)
        proc = subprocess.run([gobin, "version", "-m", path], capture_output=True, text=True,
                              env=env, timeout=TIMEOUT)
        out["files"][name] = {"exit": proc.returncode,
                              "stdout": scrub(proc.stdout, [path], str(tmp)),
                              "stderr": scrub(proc.stderr, [path], str(tmp))}
    return out


def machine() -> dict:
    libc = os.confstr("CS_GNU_LIBC_VERSION") if hasattr(os, "confstr") else None
    return {"glibc": libc, "kernel": platform.release(), "arch": platform.machine()}


def main():
    files = json.loads((CORPUS / "manifest.json").read_text())["files"]
    tmp = Path(tempfile.mkdtemp(prefix="soinspect-observe-"))
    try:
        for name, f in files.items():
            raw = (CORPUS / f["stored"]).read_bytes()
            data = lzma.decompress(raw) if f["compressed"] == "xz" else raw
            (tmp / name).write_bytes(data)
            (tmp / name).chmod(0o755)
        for name, f in files.items():  # second names of one inode, as build.py made them
            if f.get("hardlink_of"):
                (tmp / name).unlink()
                os.link(tmp / f["hardlink_of"], tmp / name)
        runs = plan(files)
        print(f"{len(runs)} runs", file=sys.stderr)
        with ThreadPoolExecutor(max_workers=2) as pool:
            records = list(pool.map(lambda a: observe(a[0], *a[1], files, tmp),
                                    enumerate(runs)))
        buildinfo = go_version_m(files, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    doc = {"generated_by": "corpus/observe.py", "machine": machine(), "timeout_seconds": TIMEOUT,
           "placeholders": PLACEHOLDERS,
           "runs": records, "go_version_m": buildinfo}
    (CORPUS / "observed.json").write_text(json.dumps(doc, indent=1) + "\n")
    outcomes = {}
    for r in records:
        for res in r["results"]:
            outcomes[res["outcome"]] = outcomes.get(res["outcome"], 0) + 1
    print(f"wrote corpus/observed.json: {len(records)} runs, {outcomes}", file=sys.stderr)


if __name__ == "__main__":
    main()
