#!/usr/bin/env python3
"""Run the real hosts of the dynamic-loader corpus and record what plugin.Open did: observed.json.

Run corpus/dynamic/build.py first (the files are in /tmp/soinspect-dynamic/out). Each run is one real
host process opening its plugins in order; musl hosts run natively through /lib/ld-musl-x86_64.so.1
(Debian's musl package). The sysroot run executes the musl host inside the Alpine-like root with chroot
(root only), so the loader reads that root's /lib and /usr/lib. Placeholders as in corpus/observed.json:
`{path}` is the plugin's absolute path, `{path_minus_so}` the same without `.so`.
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from build import OUT, SYSROOT, load  # noqa: E402  (this directory's build.py)

_main_observe = load(HERE.parent / "observe.py", "corpus_observe")  # the main corpus's rules
crash_line, scrub = _main_observe.crash_line, _main_observe.scrub

TIMEOUT = 60

#: (host, plugins, what the run shows)
RUNS = [
    ("host-glibc", ["greet-glibc.so"], "baseline: a glibc plugin in a glibc host"),
    ("host-glibc", ["hostfn.so"], "the plugin calls host_fn; the host does not export it"),
    ("host-glibc-export", ["hostfn.so"], "the host exports host_fn (-rdynamic)"),
    ("host-glibc", ["provides.so", "hostfn.so"], "an earlier plugin (RTLD_GLOBAL) provides host_fn"),
    ("host-glibc-hostlib", ["libfn.so"], "a library the host links provides hostlib_fn"),
    ("host-glibc", ["libfn.so"], "no object in the process defines hostlib_fn"),
    ("host-glibc", ["ver.so"], "ver_fn exists in libver.so only at another version"),
    ("host-glibc", ["weak.so"], "a weak undefined symbol stays unbound"),
    ("host-glibc", ["greet-musl.so"], "a musl plugin in a glibc host: libc.so is glibc's linker script"),
    ("host-glibc", ["hostfn-musl.so"], "a musl plugin calling host_fn in a glibc host"),
    ("host-musl", ["greet-musl.so"], "a musl plugin in a musl host"),
    ("host-musl", ["greet-musl-sw.so"], "-s -w"),
    ("host-musl", ["greet-musl-trimpath.so"], "-trimpath on the plugin only"),
    ("host-musl", ["greet-musl-1.26.6.so"], "another Go release"),
    ("host-musl", ["greet-musl.so", "greet-musl-copy.so"], "a byte copy at another path"),
    ("host-musl", ["greet-glibc.so"], "a glibc plugin in a musl host"),
    ("host-musl", ["hostfn-musl.so"], "musl: the host does not export host_fn"),
    ("host-musl-export", ["hostfn-musl.so"], "musl: the host exports host_fn"),
    ("host-musl", ["provides-musl.so", "hostfn-musl.so"], "musl: an earlier plugin provides host_fn"),
    ("host-musl", ["hostfn.so"], "a glibc plugin calling host_fn in a musl host that does not export it"),
    ("host-musl", ["libfn.so"], "musl: nothing defines hostlib_fn"),
    ("host-musl", ["ver-musl.so"], "musl checks no symbol version: ver_fn@VER_1 serves a VER_2 reference"),
    ("host-musl", ["ver.so"], "a glibc plugin with the versioned reference, in a musl host"),
    ("host-musl", ["weak.so"], "musl: a weak undefined symbol"),
    ("host-musl", ["sysonly-musl.so"], "libsysonly.so is on none of this machine's musl paths"),
]
#: run inside the sysroot (chroot): host and plugins are under /app there
SYSROOT_RUNS = [
    ("host-musl", ["sysonly-musl.so"], "in the Alpine-like sysroot, /usr/lib/libsysonly.so is found"),
]


def exports() -> dict:
    return {name: e.get("exports") for name, e in json.loads((HERE / "manifest.json").read_text())["files"].items()}


def observe(host: str, plugins: list[str], note: str, *, sysroot: bool) -> dict:
    where = Path("/app") if sysroot else OUT
    argv = ["chroot", str(SYSROOT)] if sysroot else []
    argv.append(str(where / host))
    ex = exports()
    for p in plugins:
        if ex.get(p):
            argv += ["-lookup", ",".join(ex[p])]
        argv.append(str(where / p))
    proc = subprocess.run(argv, capture_output=True, timeout=TIMEOUT, cwd="/" if sysroot else OUT,
                          env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C"})
    stderr = proc.stderr.decode(errors="replace").splitlines()
    lines = [json.loads(x) for x in proc.stdout.decode(errors="replace").splitlines() if x.startswith("{")]
    paths = {str(where / p): 1 for p in plugins}
    results = []
    for i, name in enumerate(plugins):
        if i < len(lines):
            r = lines[i]
            oe = r["open_error"]
            results.append({"plugin": name, "outcome": r["outcome"],
                            "open_error": scrub(oe, {str(where / name): 1}, str(where)) if oe else None,
                            "symbols": r["symbols"]})
        elif i == len(lines):
            line = crash_line(stderr)
            results.append({"plugin": name, "outcome": "crash",
                            "open_error": scrub(line, paths, str(where)) if line else None, "symbols": {}})
        else:
            results.append({"plugin": name, "outcome": "not_reached", "open_error": None, "symbols": {}})
    return {"host": host, "plugins": plugins, "sysroot": sysroot, "note": note, "results": results,
            "exit": proc.returncode, "stderr_head": [scrub(x, paths, str(where)) for x in stderr[:4]]}


def main() -> int:
    runs = [observe(h, p, n, sysroot=False) for h, p, n in RUNS]
    runs += [observe(h, p, n, sysroot=True) for h, p, n in SYSROOT_RUNS]
    musl = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "musl"], capture_output=True, text=True).stdout
    glibc = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "libc6"], capture_output=True, text=True).stdout
    doc = {"placeholders": {"{path}": "the plugin's absolute path", "{path_minus_so}": "the same without .so"},
           "machine": {"platform": platform.platform(), "musl": musl, "libc6": glibc}, "runs": runs}
    (HERE / "observed.json").write_text(json.dumps(doc, indent=1) + "\n")
    for r in runs:
        for res in r["results"]:
            print(f"{r['host']:18} {res['plugin']:24} {res['outcome']:6} {res['open_error']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
