#!/usr/bin/env python3
"""Build the dynamic-loader corpus (undefined symbols, symbol versions, musl) from corpus/dynamic/src.

Everything is built in the FIXED directory /tmp/soinspect-dynamic (sources copied to its src/, so paths
embedded by builds without -trimpath are the same on every machine) and nothing binary is committed:

    python3 corpus/dynamic/build.py           # build, and check every file against manifest.json (CI)
    python3 corpus/dynamic/build.py --record  # build, and write manifest.json (recipes, sha256, sizes)

A file whose sha256 differs from the manifest fails the build loudly: the runs in observed.json are
evidence for exactly those bytes. The sysroot (sysroot/) is an Alpine-like root: musl's loader (the
`musl` package's libc.so, recorded by sha256 as an input), a library only it has in /usr/lib, and a musl
host with the plugin that needs that library under /app.

Needs: go1.27.3 and go1.26.6 (scripts/go-toolchain.sh), gcc, Debian's musl-tools (musl-gcc).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
SCRATCH = Path("/tmp/soinspect-dynamic")
SRC = SCRATCH / "src"
OUT = SCRATCH / "out"
SYSROOT = SCRATCH / "sysroot"
MANIFEST = HERE / "manifest.json"
#: musl's loader and C library as Debian's musl package installs it (the Alpine-like sysroot's loader)
MUSL_LIBC = Path("/usr/lib/x86_64-linux-musl/libc.so")
MUSL_INTERP = "/lib/ld-musl-x86_64.so.1"



def load(path: Path, name: str):
    """A script of the corpus as a module (corpus/build.py and this build.py share the name build)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_main_build = load(HERE.parent / "build.py", "corpus_build")  # the main corpus's Go environment
COMMON_ENV, go_binary = _main_build.COMMON_ENV, _main_build.go_binary

GO_ENV = {**COMMON_ENV, "GOPATH": str(SCRATCH / "gopath"), "GOMODCACHE": str(SCRATCH / "gopath/pkg/mod"),
          "GOCACHE": str(SCRATCH / "gocache")}
MUSL = {"CC": "musl-gcc"}
GLIBC = {"CC": "gcc"}


def go(name, kind, dir, files, env, note, *, version="1.27.3", flags=(), buildmode="plugin"):
    return {"name": name, "kind": kind, "type": "go", "go": version, "dir": dir, "files": list(files),
            "env": dict(env), "flags": list(flags), "buildmode": buildmode, "note": note}


def cc(name, argv, note, *, kind="c-shared"):
    return {"name": name, "kind": kind, "type": "cc", "dir": "c", "argv": argv, "note": note}


RECIPES = [
    cc("libhostlib.so", ["gcc", "-shared", "-fPIC", "-O2", "-Wl,-soname,libhostlib.so", "-o", "{out}",
                         "hostlib.c"], "the library host-glibc-hostlib links; it defines hostlib_fn"),
    cc("vernew/libver.so", ["gcc", "-shared", "-fPIC", "-O2", "-Wl,-soname,libver.so",
                            "-Wl,--version-script=ver-new.map", "-o", "{out}", "ver.c"],
       "libver.so as ver.so was linked against: ver_fn@@VER_2 (build only, not observed)"),
    cc("libver.so", ["gcc", "-shared", "-fPIC", "-O2", "-Wl,-soname,libver.so",
                     "-Wl,--version-script=ver-old.map", "-o", "{out}", "ver.c"],
       "libver.so beside ver*.so at run time: defines VER_2 (other_fn) but ver_fn only at VER_1"),
    cc("libsysonly.so", ["musl-gcc", "-shared", "-fPIC", "-O2", "-Wl,-soname,libsysonly.so", "-o", "{out}",
                         "sysonly.c"], "a musl library, installed only in the sysroot's /usr/lib"),
    go("host-glibc", "go-exe", "host", ["main.go", "plain.go"], GLIBC, "oracle host, glibc, exports no C symbol",
       buildmode="exe"),
    go("host-glibc-export", "go-exe", "host", ["main.go", "export.go"], GLIBC,
       "oracle host, glibc, defines host_fn in its cgo preamble and links with -rdynamic", buildmode="exe"),
    go("host-glibc-hostlib", "go-exe", "host", ["main.go", "hostlib.go"], GLIBC,
       "oracle host, glibc, links libhostlib.so (RUNPATH $ORIGIN)", buildmode="exe"),
    go("host-musl", "go-exe", "host", ["main.go", "plain.go"], MUSL, "oracle host, musl (CC=musl-gcc)",
       buildmode="exe"),
    go("host-musl-export", "go-exe", "host", ["main.go", "export.go"], MUSL,
       "oracle host, musl, defines host_fn and links with -rdynamic", buildmode="exe"),
    go("hostfn.so", "go-plugin", "plugins", ["hostfn.go"], GLIBC, "glibc cgo plugin calling host_fn"),
    go("hostfn-musl.so", "go-plugin", "plugins", ["hostfn.go"], MUSL, "musl cgo plugin calling host_fn"),
    go("provides.so", "go-plugin", "plugins", ["provides.go"], GLIBC,
       "glibc cgo plugin defining host_fn (exported from its .dynsym)"),
    go("provides-musl.so", "go-plugin", "plugins", ["provides.go"], MUSL, "the same as provides.so, musl"),
    go("libfn.so", "go-plugin", "plugins", ["libfn.go"], GLIBC,
       "glibc cgo plugin calling hostlib_fn without linking libhostlib.so"),
    go("weak.so", "go-plugin", "plugins", ["weak.go"], GLIBC, "glibc cgo plugin with a weak undefined weak_fn"),
    go("ver.so", "go-plugin", "plugins", ["ver.go"], GLIBC,
       "glibc cgo plugin needing ver_fn@VER_2 of libver.so (RUNPATH $ORIGIN)"),
    go("ver-musl.so", "go-plugin", "plugins", ["ver.go"], MUSL, "the same as ver.so, built with musl-gcc"),
    go("sysonly-musl.so", "go-plugin", "plugins", ["sysonly.go"], MUSL,
       "musl cgo plugin needing libsysonly.so (no RUNPATH)"),
    go("greet-musl.so", "go-plugin", "greet", ["greet.go"], MUSL, "greet plugin, musl"),
    go("greet-musl-sw.so", "go-plugin", "greet", ["greet.go"], MUSL, "greet plugin, musl, -ldflags=-s -w",
       flags=["-ldflags=-s -w"]),
    go("greet-musl-trimpath.so", "go-plugin", "greet", ["greet.go"], MUSL, "greet plugin, musl, -trimpath",
       flags=["-trimpath"]),
    go("greet-musl-1.26.6.so", "go-plugin", "greet", ["greet.go"], MUSL, "greet plugin, musl, go1.26.6",
       version="1.26.6"),
    go("greet-glibc.so", "go-plugin", "greet", ["greet.go"], GLIBC, "greet plugin, glibc"),
    {"name": "greet-musl-copy.so", "kind": "go-plugin", "type": "copy", "from": "greet-musl.so",
     "note": "a byte copy of greet-musl.so at another path (the same plugin path)"},
]
GREET = ["Greet", "V"]
EXPORTS = {"hostfn.so": ["CallHost"], "hostfn-musl.so": ["CallHost"], "libfn.so": ["CallLib"],
           "weak.so": ["CallWeak"], "ver.so": ["CallVer"], "ver-musl.so": ["CallVer"],
           "sysonly-musl.so": ["CallSysonly"],
           "provides.so": ["Provide"], "provides-musl.so": ["Provide"]}


def run(argv, cwd, env):
    print("+", " ".join(argv), f"(in {cwd})", file=sys.stderr, flush=True)
    subprocess.run(argv, cwd=cwd, env=env, check=True)


def prepare_sources() -> None:
    if SRC.exists():
        shutil.rmtree(SRC)
    shutil.copytree(HERE / "src", SRC)
    # The oracle host's main program and the greet plugin are the main corpus's own sources.
    shutil.copy2(REPO / "corpus/src/host/main.go", SRC / "host/main.go")
    shutil.copytree(REPO / "corpus/src/greet", SRC / "greet")
    (OUT / "vernew").mkdir(parents=True, exist_ok=True)


def build_one(spec) -> dict:
    out = OUT / spec["name"]
    out.unlink(missing_ok=True)
    if spec["type"] == "copy":
        shutil.copyfile(OUT / spec["from"], out)
        recipe = {"copy_of": spec["from"]}
    elif spec["type"] == "cc":
        argv = [a.replace("{out}", str(out)) for a in spec["argv"]]
        run(argv, SRC / spec["dir"], {"PATH": os.environ["PATH"], "LANG": "C"})
        recipe = {"dir": spec["dir"], "argv": spec["argv"]}
    else:
        gobin = go_binary(spec["go"])
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GO", "CGO_", "CC"))}
        env.update(GO_ENV)
        env.update(spec["env"])
        env["HOME"] = str(SCRATCH / "home")
        argv = ["go", "build", f"-buildmode={spec['buildmode']}", *spec["flags"], "-o", str(out), *spec["files"]]
        run([gobin, *argv[1:]], SRC / spec["dir"], env)
        recipe = {"go": spec["go"], "dir": spec["dir"], "env": spec["env"], "argv": argv}
    data = out.read_bytes()
    return {"kind": spec["kind"], "note": spec["note"], "sha256": hashlib.sha256(data).hexdigest(),
            "size": len(data), "exports": EXPORTS.get(spec["name"], GREET if "greet" in spec["name"] else None),
            "recipe": recipe}


def make_sysroot() -> dict:
    """The Alpine-like root: /lib/ld-musl-x86_64.so.1, /usr/lib/libsysonly.so, /app/{host-musl,sysonly-musl.so}."""
    if SYSROOT.exists():
        shutil.rmtree(SYSROOT)
    for d in ("lib", "usr/lib", "app", "etc", "tmp"):
        (SYSROOT / d).mkdir(parents=True)
    shutil.copyfile(MUSL_LIBC, SYSROOT / MUSL_INTERP.lstrip("/"))
    os.chmod(SYSROOT / MUSL_INTERP.lstrip("/"), 0o755)
    shutil.copyfile(OUT / "libsysonly.so", SYSROOT / "usr/lib/libsysonly.so")
    for name in ("host-musl", "sysonly-musl.so"):
        shutil.copy2(OUT / name, SYSROOT / "app" / name)
    data = (SYSROOT / MUSL_INTERP.lstrip("/")).read_bytes()
    return {"interp": MUSL_INTERP, "from": str(MUSL_LIBC), "sha256": hashlib.sha256(data).hexdigest(),
            "size": len(data), "files": ["/lib/ld-musl-x86_64.so.1", "/usr/lib/libsysonly.so",
                                         "/app/host-musl", "/app/sysonly-musl.so"]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--record", action="store_true", help="write manifest.json instead of checking against it")
    args = ap.parse_args()
    prepare_sources()
    files = {spec["name"]: build_one(spec) for spec in RECIPES}
    sysroot = make_sysroot()
    doc = {"scratch": str(SCRATCH), "files": files, "sysroot": sysroot}
    if args.record:
        MANIFEST.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
        return 0
    recorded = json.loads(MANIFEST.read_text())
    bad = [f"{name}: built {files.get(name, {}).get('sha256')}, recorded {e['sha256']}"
           for name, e in recorded["files"].items() if files.get(name, {}).get("sha256") != e["sha256"]]
    if sysroot["sha256"] != recorded["sysroot"]["sha256"]:
        bad.append(f"sysroot {MUSL_INTERP} (from {MUSL_LIBC}): {sysroot['sha256']}, "
                   f"recorded {recorded['sysroot']['sha256']}")
    if bad:
        print("corpus/dynamic: the build differs from manifest.json (the observed runs are evidence for the "
              "recorded bytes only):\n  " + "\n  ".join(bad), file=sys.stderr)
        return 1
    print(f"corpus/dynamic: {len(files)} files and the sysroot match manifest.json", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
