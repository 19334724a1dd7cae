"""Where a binary's packages were built from: the directory of each package's own source files.

Without ``-trimpath`` the file names a Go binary records are absolute, so the directory a module was built
from (a ``replace`` by a relative directory such as ``../libs/dep`` included) can be read back from the
binary. The names are in the pclntab (``runtime/symtab.go``, Go 1.16+): the ``pcHeader`` gives the
offsets of the function name table, the compilation-unit table (``cutab``), the file name table
(``filetab``), the pc-value tables (``pctab``) and the function table. Each function's ``_func`` names
its compilation unit (``cuOffset``) and its pc-file table (``pcfile``), whose first value is the index,
within its unit, of the file the function's first instruction comes from: the function's own file, never
an inlined one. The package is the function name up to the first ``.`` after the last ``/``.

With ``-trimpath`` the names are ``<module path>[@version]/...`` instead: nothing absolute is recorded, and
:func:`package_dirs` leaves such packages out.
"""

from __future__ import annotations

import posixpath
import struct

from soinspect.elf.file import ElfFile

#: pcHeader magics whose layout this module reads (runtime/symtab.go): Go 1.20+ and 1.18-1.19 (same fields)
_MAGICS = (0xFFFFFFF1, 0xFFFFFFF0)
_MAX_FUNCS = 1 << 21
_MAX_NAME = 4096


def package_of(funcname: str) -> str | None:
    """``example.com/dep.(*T).M`` -> ``example.com/dep``; None for linker-made names (``type:.eq...``)."""
    name = funcname.partition("[")[0]
    if not name or ":" in name.split("/", 1)[0]:
        return None
    slash = name.rfind("/")
    dot = name.find(".", slash + 1)
    return name[:dot] if dot > 0 else None


def package_dirs(elf: ElfFile, pclntab: int | None, wanted: tuple[str, ...] = ()) -> dict[str, str]:
    """Each package's absolute source directory, for the packages whose path is one of *wanted* or below
    one of them (every package when *wanted* is empty). Packages whose file names are not absolute
    (``-trimpath``) and binaries whose pclntab cannot be read give nothing."""
    if pclntab is None:
        return {}
    p = elf.ptrsize
    head = elf.read_va(pclntab, 8 + 8 * p)
    if head is None or head[7] != p:
        return {}
    order = "<" if elf.little else ">"
    if struct.unpack_from(order + "I", head)[0] not in _MAGICS:
        return {}
    word = "Q" if p == 8 else "I"
    nfunc, _nfiles, _text, funcname, cu, filetab, pctab, pcln = struct.unpack_from(order + word * 8, head, 8)
    if nfunc > _MAX_FUNCS:
        return {}
    table = elf.read_va(pclntab + pcln, (nfunc + 1) * 8)
    if table is None:
        return {}
    strings: dict[int, str | None] = {}
    # the function name table runs up to the cutab, the file table up to the pctab (the pcHeader's order):
    # each read once, a name cut from it (a name that runs past its table is read on its own, as before)
    tables = {
        pclntab + funcname: elf.read_va(pclntab + funcname, cu - funcname) if 0 < cu - funcname < 1 << 28 else None,
        pclntab + filetab: elf.read_va(pclntab + filetab, pctab - filetab) if 0 < pctab - filetab < 1 << 28 else None,
    }

    def cstring(base: int, off: int) -> str | None:
        va = base + off
        if va not in strings:
            table = tables.get(base)
            end = table.find(b"\0", off, off + _MAX_NAME) if table is not None and 0 <= off < len(table) else -1
            if end >= 0 and table is not None:
                strings[va] = table[off:end].decode("utf-8", "replace")
            else:
                raw = elf.read_va(va, _MAX_NAME) or b""
                end = raw.find(b"\0")
                strings[va] = raw[:end].decode("utf-8", "replace") if end >= 0 else None
        return strings[va]

    out: dict[str, str] = {}
    # a wanted package's function is named "<package>.<name>": most names are dropped by one prefix test
    prefixes = tuple(w + sep for w in wanted for sep in "./")
    funcoffs = struct.unpack_from(f"{order}{2 * nfunc}I", table)[1::2]  # functab: (entryOff, funcOff) pairs
    names = tables[pclntab + funcname]
    funcs = _candidates(elf, pclntab + pcln, funcoffs, names, prefixes) if wanted and names is not None else None
    for i in range(nfunc) if funcs is None else funcs:
        funcoff = funcoffs[i]
        fn = elf.read_va(pclntab + pcln + funcoff, 40)
        if fn is None:
            continue
        # _func: entryOff u32, nameOff i32, args, deferreturn, pcsp, pcfile (at 20), pcln, npcdata, cuOffset (32)
        name_off = struct.unpack_from(order + "i", fn, 4)[0]
        pcfile, cu_off = struct.unpack_from(order + "I", fn, 20)[0], struct.unpack_from(order + "I", fn, 32)[0]
        name = cstring(pclntab + funcname, name_off)
        if wanted and (name is None or not name.startswith(prefixes)):
            continue
        pkg = package_of(name) if name else None
        if pkg is None or pkg in out or (wanted and not any(pkg == w or pkg.startswith(w + "/") for w in wanted)):
            continue
        index = _first_value(elf, pclntab + pctab + pcfile) if pcfile else None
        if index is None or index < 0:
            continue
        entry = elf.read_va(pclntab + cu + 4 * (cu_off + index), 4)
        if entry is None:
            continue
        file_off = struct.unpack_from(order + "I", entry)[0]
        if file_off == 0xFFFFFFFF:
            continue
        path = cstring(pclntab + filetab, file_off)
        if path and path.startswith("/") and path.endswith(".go"):
            out[pkg] = posixpath.dirname(path)
    return out


def _candidates(
    elf: ElfFile, functab: int, funcoffs: tuple[int, ...], names: bytes, prefixes: tuple[str, ...]
) -> list[int] | None:
    """The indexes, in order, of the functions whose name may start with one of *prefixes*: a superset of
    those :func:`package_dirs` keeps, each of them then read as before. Found in bulk, with no string per
    function: every place a prefix occurs in the function name table *names* (a search in C for each),
    then each function's ``nameOff`` tested against them. A name whose offset is outside the table, or so
    near its end that a prefix would run past it (then read past the table, as :func:`package_dirs` does),
    is a candidate too. None (every function a candidate) where the ``_func`` records are not all in one
    read, or a prefix is not plain UTF-8 text (a replacement character would match bytes it does not
    spell)."""
    try:
        needles = [p.encode() for p in prefixes if "\ufffd" not in p]
    except UnicodeEncodeError:  # a lone surrogate
        return None
    if len(needles) != len(prefixes) or not needles or not funcoffs:
        return None
    # _func: entryOff u32, nameOff i32 (at 4), ...: every record's nameOff in one read of the records
    records = elf.read_va(functab, max(funcoffs) + 8)
    if records is None:
        return None
    hits: set[int] = set()
    for needle in needles:
        pos = names.find(needle)
        while pos >= 0:  # bound: find moves forward
            hits.add(pos)
            pos = names.find(needle, pos + 1)
    last = len(names) - max(map(len, needles))  # a name from past here may run out of the table
    name_at = struct.Struct(("<" if elf.little else ">") + "i").unpack_from
    return [i for i, f in enumerate(funcoffs) if (o := name_at(records, f + 4)[0]) in hits or not 0 <= o <= last]


def _first_value(elf: ElfFile, va: int) -> int | None:
    """The first value of a pc-value table: a zig-zag varint delta from -1 (runtime/symtab.go, step)."""
    raw = elf.read_va(va, 10)
    if not raw:
        return None
    u = shift = 0
    for b in raw:
        u |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            break
    else:
        return None
    delta = -((u >> 1) + 1) if u & 1 else u >> 1
    return -1 + delta


def module_dir(dirs: dict[str, str], module: str) -> str | None:
    """The absolute directory *module* was built from, from its packages' directories: a package
    ``<module>/a/b`` lies in ``<dir>/a/b``. None if no package of it has an absolute directory, or if
    they disagree."""
    found: set[str] = set()
    for pkg, d in dirs.items():
        if pkg == module:
            found.add(d)
        elif pkg.startswith(module + "/"):
            sub = pkg[len(module) :]
            if d.endswith(sub):
                found.add(d[: -len(sub)])
    return found.pop() if len(found) == 1 else None
