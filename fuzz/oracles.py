"""The two other readers soinspect is checked against, and the one place their answers are normalised.

* Go's ``debug/buildinfo`` through ``go version -m -json`` (go1.27.3): build info, field by field.
* pyelftools: the ELF header, program headers, section headers and the dynamic table.

Normalisations, one rule each (every other difference is a disagreement, a bug on one side):

1. Invalid UTF-8: Go's JSON encoder writes one U+FFFD per invalid byte, Python's ``decode("utf-8",
   "replace")`` one per maximal invalid run; runs of U+FFFD are compared as one.
2. (tests/test_buildinfo_differential.py, rule 1) Go 1.22+ finds build info only through the
   ``.go.buildinfo`` section header; soinspect also searches the first writable PT_LOAD without one.
3. (same file, rule 2) Before Go 1.13 there is no blob; soinspect reads ``runtime.buildVersion``.
4. Where ``runtime/debug.ParseBuildInfo`` rejects the module info, Go's reader returns no build info at
   all; soinspect keeps the Go version and says why the rest is missing (``BuildInfoResult.problems``).
   They agree when both reject it.
5. Go's bug, not a normalisation: Go's ``searchMagic`` (debug/buildinfo), after skipping a misaligned copy
   of the magic, goes on in the re-sliced chunk but returns the next match's index as if from the chunk's
   start, so it reads a header at the wrong address and finds no build info. Where the ``.go.buildinfo``
   section holds a misaligned magic before the aligned one, Go's "none" is not compared
   (:func:`go_misses_after_misaligned_magic`; tests/test_regressions.py shows it on the real ``go``).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from soinspect.elf.file import ElfFile
from soinspect.go.buildinfo import ALIGN as BUILDINFO_ALIGN
from soinspect.go.buildinfo import BUILDINFO_MAGIC, BuildInfo, BuildInfoResult

_FFFD_RUN = re.compile("\ufffd+")


def collapse_fffd(value: Any) -> Any:
    """Rule 1: every run of U+FFFD in every string of *value* (dicts, lists) becomes one."""
    if isinstance(value, str):
        return _FFFD_RUN.sub("\ufffd", value)
    if isinstance(value, list):
        return [collapse_fffd(v) for v in value]
    if isinstance(value, dict):
        return {k: collapse_fffd(v) for k, v in value.items()}
    return value


# -- Go ---------------------------------------------------------------------------------------------------


def go_binary() -> str | None:
    env = os.environ.get("SOINSPECT_GO")
    if env:
        return env
    cand = Path(os.environ.get("SOINSPECT_TOOLCHAINS", "/opt/sgo")) / "1.27.3" / "bin" / "go"
    return str(cand) if cand.exists() else None


def _go_module(m: Any) -> dict[str, Any] | None:
    if not m:
        return None
    return {
        "path": m.get("Path", ""),
        "version": m.get("Version", ""),
        "sum": m.get("Sum", ""),
        "replace": _go_module(m.get("Replace")),
    }


def go_fields(go: dict[str, Any]) -> dict[str, Any]:
    """``go version -m -json`` output as soinspect's build info fields."""
    main = _go_module(go.get("Main"))
    if main == {"path": "", "version": "", "sum": "", "replace": None}:
        main = None
    return {
        "go_version": go["GoVersion"],
        "path": go.get("Path", ""),
        "main": main,
        "deps": [_go_module(d) for d in go.get("Deps") or []],
        "settings": [{"key": s["Key"], "value": s.get("Value", "")} for s in go.get("Settings") or []],
    }


def our_fields(b: BuildInfo) -> dict[str, Any]:
    def mod(m: Any) -> dict[str, Any] | None:
        if m is None:
            return None
        return {"path": m.path, "version": m.version, "sum": m.sum, "replace": mod(m.replace)}

    return {
        "go_version": b.go_version,
        "path": b.path,
        "main": mod(b.main),
        "deps": [mod(d) for d in b.deps],
        "settings": [{"key": s.key, "value": s.value} for s in b.settings],
    }


#: the sentinel's module path: greet.so with its path "command-line-arguments" overwritten (same length)
SENTINEL_PATH = "soinspect/fuzz/sentinl"


def make_sentinel(path: str) -> None:
    """A Go plugin whose build info no mutant has: greet.so with :data:`SENTINEL_PATH` as its path."""
    import corpus

    data = Path(corpus.path("greet.so")).read_bytes()
    old = b"\tcommand-line-arguments\n"
    assert data.count(old) == 1 and len(SENTINEL_PATH) == len(old) - 2
    with open(path, "wb") as fh:
        fh.write(data.replace(old, b"\t" + SENTINEL_PATH.encode() + b"\n"))


def go_version_m(files: Sequence[str], sentinel: str) -> dict[str, dict[str, Any] | None]:
    """``go version -m -json`` of many files in one run: file -> its JSON, or None where Go reads none.

    Go prints the JSON objects of the files it could read, in argument order, with no file name, and for
    a file it cannot read it may print nothing at all. So every file is followed by *sentinel*
    (:func:`make_sentinel`): the objects between two sentinel objects are the one file's between them.
    """
    go = go_binary()
    if go is None:
        raise RuntimeError("no Go toolchain: set SOINSPECT_GO")
    env = dict(os.environ, GOTOOLCHAIN="local", GOFLAGS="", GOPROXY="off")
    argv = [a for f in files for a in (f, sentinel)]
    proc = subprocess.run([go, "version", "-m", "-json", *argv], capture_output=True, env=env, timeout=300)
    decoder = json.JSONDecoder()
    text = proc.stdout.decode("utf-8")
    groups: list[list[dict[str, Any]]] = [[]]
    pos = 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            break
        obj, pos = decoder.raw_decode(text, pos)
        if obj.get("Path") == SENTINEL_PATH:
            groups.append([])
        else:
            groups[-1].append(obj)
    groups.pop()  # after the last sentinel: nothing
    if len(groups) != len(files) or any(len(g) > 1 for g in groups):
        raise RuntimeError(f"go version -m: cannot match its output to {len(files)} files: {proc.stderr!r}")
    return {f: (g[0] if g else None) for f, g in zip(files, groups, strict=True)}


class GoBatch:
    """Mutants waiting for ``go version -m``: Go is run once per *size* mutants (one process each would
    cost more than soinspect's own reading)."""

    def __init__(self, size: int = 32) -> None:
        self.size = size
        self.dir = tempfile.mkdtemp(prefix="soinspect-fuzz-go-")
        self.sentinel = os.path.join(self.dir, "sentinel")
        make_sentinel(self.sentinel)
        self.pending: list[tuple[str, bytes, BuildInfoResult | None, bool]] = []

    def add(self, elf: ElfFile, ours: BuildInfoResult | None, tag: bytes = b"") -> list[tuple[bytes, tuple[str, str]]]:
        """Queue a mutant (known to the caller as *tag*) with soinspect's build info; when the batch is
        full, compare them all: (tag, (part, what differs)) for every disagreement."""
        path = os.path.join(self.dir, f"m{len(self.pending)}")
        with open(path, "wb") as fh:
            fh.write(elf.data)
        self.pending.append((path, tag, ours, go_misses_after_misaligned_magic(elf)))
        return self.flush() if len(self.pending) >= self.size else []

    def flush(self) -> list[tuple[bytes, tuple[str, str]]]:
        pending, self.pending = self.pending, []
        if not pending:
            return []
        theirs = go_version_m([p for p, _, _, _ in pending], self.sentinel)
        return [
            (tag, why) for path, tag, ours, bug in pending if (why := compare_buildinfo(theirs[path], ours, bug))
        ]


def go_misses_after_misaligned_magic(elf: ElfFile) -> bool:
    """Rule 5: the first build info magic in ``.go.buildinfo`` (where Go's reader looks, from the section's
    first 16-byte-aligned address) is misaligned, and an aligned one follows it."""
    sec = elf.section(".go.buildinfo")
    if sec is None:
        return False
    data = elf.section_bytes(sec)
    skip = (-sec.addr) % BUILDINFO_ALIGN
    first = data.find(BUILDINFO_MAGIC, skip)
    if first < 0 or (first - skip) % BUILDINFO_ALIGN == 0:
        return False
    at = data.find(BUILDINFO_MAGIC, first + 1)
    while at >= 0 and (at - skip) % BUILDINFO_ALIGN:
        at = data.find(BUILDINFO_MAGIC, at + 1)
    return at >= 0


def compare_buildinfo(
    go: dict[str, Any] | None, result: BuildInfoResult | None, go_search_bug: bool = False
) -> tuple[str, str] | None:
    """None when soinspect's build info is what Go's reader gives, else (which part, what differs)."""
    ours = result.info if result is not None else None
    if go is None:
        if ours is None:
            return None
        if ours.source.startswith("segment scan") or ours.format == "buildversion":
            return None  # rules 2 and 3
        if result is not None and result.problems:
            return None  # rule 4
        if go_search_bug:
            return None  # rule 5: Go's bug
        return "only-soinspect-reads", f"go reads no build info, soinspect reads {our_fields(ours)}"
    if ours is None:
        return "only-go-reads", f"go reads {go_fields(go)}, soinspect none ({result.reason if result else ''})"
    if result is not None and result.problems:
        return "soinspect-rejects", f"go reads {go_fields(go)}, soinspect rejects it: {result.problems[0]}"
    want, got = collapse_fffd(go_fields(go)), collapse_fffd(our_fields(ours))
    if want == got:
        return None
    diffs = [k for k in want if want[k] != got.get(k)]
    return diffs[0], "; ".join(f"{k}: go {want[k]!r}, soinspect {got[k]!r}" for k in diffs)


# -- pyelftools -------------------------------------------------------------------------------------------


def _enum_value(value: Any, *enums: Mapping[str, int]) -> int:
    if isinstance(value, int):
        return value
    for e in enums:
        if value in e:
            return e[value]
    raise KeyError(value)


def elftools_facts(data: bytes) -> dict[str, Any]:
    """What pyelftools reads from *data*: each of header, segments, sections, dynamic, or absent where
    pyelftools cannot parse that part (any exception it raises there)."""
    from elftools.elf import enums
    from elftools.elf.elffile import ELFFile

    out: dict[str, Any] = {}
    try:
        ef = ELFFile(io.BytesIO(data))
        h = ef.header
        ident = h["e_ident"]
        out["header"] = {
            "elf_class": _enum_value(ident["EI_CLASS"], enums.ENUM_EI_CLASS),
            "data_encoding": _enum_value(ident["EI_DATA"], enums.ENUM_EI_DATA),
            "os_abi": _enum_value(ident["EI_OSABI"], enums.ENUM_EI_OSABI),
            "file_type": _enum_value(h["e_type"], enums.ENUM_E_TYPE),
            "machine": _enum_value(h["e_machine"], enums.ENUM_E_MACHINE),
            "entry": h["e_entry"],
            "phoff": h["e_phoff"],
            "phnum": ef.num_segments(),
            "shoff": h["e_shoff"],
            "shnum": ef.num_sections(),
            "flags": h["e_flags"],
        }
    except Exception:
        return out
    p_types = {**enums.ENUM_P_TYPE_BASE, **enums.ENUM_P_TYPE_ARM, **enums.ENUM_P_TYPE_AARCH64}
    try:
        segs = list(ef.iter_segments())
        out["segments"] = [
            {
                "type": _enum_value(s["p_type"], p_types),
                "flags": s["p_flags"],
                "offset": s["p_offset"],
                "vaddr": s["p_vaddr"],
                "filesz": s["p_filesz"],
                "memsz": s["p_memsz"],
            }
            for s in segs
        ]
    except Exception:
        segs = None
    sh_types = {**enums.ENUM_SH_TYPE_BASE, **enums.ENUM_SH_TYPE_AMD64, **enums.ENUM_SH_TYPE_AARCH64}
    with contextlib.suppress(Exception):  # pyelftools cannot parse the section headers
        out["sections"] = [
            {
                "name": s.name,
                "type": _enum_value(s["sh_type"], sh_types),
                "flags": s["sh_flags"],
                "addr": s["sh_addr"],
                "offset": s["sh_offset"],
                "size": s["sh_size"],
                "entsize": s["sh_entsize"],
            }
            for s in ef.iter_sections()
        ]
    if segs is not None:
        try:
            dyn = [s for s in segs if s["p_type"] == "PT_DYNAMIC"]
            tags: list[dict[str, int]] = []
            if dyn:
                d_tags = {**enums.ENUM_D_TAG, **enums.ENUM_D_TAG_AARCH64}
                for t in dyn[0].iter_tags():  # type: ignore[attr-defined]
                    tags.append({"tag": _enum_value(t.entry.d_tag, d_tags), "value": t.entry.d_val})
            out["dynamic"] = tags
        except Exception:
            pass
    return out


def soinspect_elf_facts(elf: ElfFile) -> dict[str, Any]:
    h = elf.header
    return {
        "header": {k: getattr(h, k) for k in h.__dataclass_fields__},
        "segments": [{k: getattr(s, k) for k in s.__dataclass_fields__} for s in elf.segments],
        "sections": [{k: getattr(s, k) for k in s.__dataclass_fields__} for s in elf.sections],
        "dynamic": [{"tag": e.tag, "value": e.value} for e in elf.dynamic],
    }


def compare_elf(elf: ElfFile) -> list[tuple[str, str]]:
    """(part.field, what differs) for every part pyelftools could parse where soinspect reads otherwise."""
    theirs = elftools_facts(elf.data)
    ours = soinspect_elf_facts(elf)
    out: list[tuple[str, str]] = []
    for part, their in theirs.items():
        our = ours[part]
        if our == their:
            continue
        if isinstance(our, dict):
            for k in our:
                if our[k] != their.get(k):
                    out.append((f"{part}.{k}", f"pyelftools {their.get(k)!r}, soinspect {our[k]!r}"))
            continue
        if len(our) != len(their):
            out.append((f"{part}.count", f"pyelftools {len(their)}, soinspect {len(our)}"))
            continue
        for i, (a, b) in enumerate(zip(their, our, strict=True)):
            for k in b:
                if a.get(k) != b[k]:
                    out.append((f"{part}.{k}", f"[{i}] pyelftools {a.get(k)!r}, soinspect {b[k]!r}"))
                    break
            else:
                continue
            break
    return out


if __name__ == "__main__":  # a quick look: python -m fuzz.oracles FILE
    from soinspect.elf.file import load

    for f in sys.argv[1:]:
        print(f, compare_elf(load(f)))
