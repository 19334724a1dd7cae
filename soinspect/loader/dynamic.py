"""The dynamic-loader half of ``plugin.Open``, statically, in a sysroot.

``dlopen`` first maps every ``DT_NEEDED`` library, breadth first, then checks symbol versions. This
module mirrors glibc's ``elf/dl-load.c`` (``_dl_map_object``: the search order) and ``elf/dl-version.c``
(``match_symbol``: a needed version node the providing library does not define is an error unless the
need is weak), reading only files under the sysroot and executing nothing.

Search order for a name without a slash, requested by object O (``_dl_map_object``):

1. ``DT_RPATH`` of O, then of the objects that loaded O, up to the plugin, only when O has no
   ``DT_RUNPATH`` (the host executable's ``DT_RPATH`` is not modelled);
2. ``LD_LIBRARY_PATH``: not used (a CI check must not depend on the caller's environment);
3. ``DT_RUNPATH`` of O;
4. ``/etc/ld.so.cache`` of the sysroot, or, when there is none, the directories ``ldconfig`` would have
   cached from ``/etc/ld.so.conf`` (``include`` globs followed);
5. the default directories: the multiarch directories ``/lib/<triplet>``, ``/usr/lib/<triplet>``
   (Debian and Ubuntu's glibc), then ``/lib`` and ``/usr/lib``.

``$ORIGIN`` in a path is the directory of the requesting object. ``$LIB`` and ``$PLATFORM`` depend on the
loader's build and are reported as unknown. A candidate whose ELF class or machine differs is skipped,
as ``open_verify`` skips it.

Messages are glibc's (what ``dlerror`` returns, and so what Go's ``plugin.Open`` error carries):
``libfoo.so: cannot open shared object file: No such file or directory`` and
``/lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.99' not found (required by /path/plugin.so)``.
Undefined symbols themselves are not checked: whether the global scope defines them depends on the host.
"""

from __future__ import annotations

import contextlib
import functools
import glob
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

from soinspect._frozen import frozen
from soinspect.elf import file as _elf
from soinspect.elf.file import ElfFile
from soinspect.elf.structs import (
    DT_NEEDED,
    DT_RPATH,
    DT_RUNPATH,
    DT_SONAME,
    DT_VERDEF,
    DT_VERDEFNUM,
    DT_VERNEED,
    DT_VERNEEDNUM,
)
from soinspect.elf.targets import machine_file, machine_word
from soinspect.errors import FileAccessError, SoinspectError
from soinspect.go.facts import FileFacts

CANNOT_OPEN = "cannot open shared object file: No such file or directory"
VER_FLG_BASE, VER_FLG_WEAK = 1, 2
CACHE_MAGIC_NEW = b"glibc-ld.so.cache1.1"
_CACHE_HEADER = 48  # magic[20], nlibs, len_strings, flags[1], pad[3], extension_offset, unused[3]
_CACHE_ENTRY = 24  # flags int32, key, value, osversion uint32, hwcap uint64
#: ld.so.cache entry flags glibc accepts per machine (FLAG_ELF_LIBC6 | the arch bits, sysdeps/*/ldconfig.h)
_CACHE_FLAGS = {62: 0x0303, 183: 0x0A03, 3: 0x0003}
_TRIPLETS = {62: "x86_64-linux-gnu", 183: "aarch64-linux-gnu", 3: "i386-linux-gnu", 40: "arm-linux-gnueabihf"}
_MAX_OBJECTS = 512  # no real dependency tree comes near this
_MAX_VER_ENTRIES = 4096
_MAX_SYMLINKS = 40  # glibc's and Linux's own bound


@frozen
class Library:
    """One ``DT_NEEDED`` entry and where the loader finds it."""

    needed: str
    required_by: str  # the runtime path of the object that needs it
    path: str | None  # the runtime path (inside the sysroot) it resolves to, or None
    how: str  # RPATH, RUNPATH, ld.so.cache, ld.so.conf, default directories, already loaded


@frozen
class DynamicResolution:
    """What ``dlopen`` does with the file's dependencies in a sysroot."""

    sysroot: str
    libraries: tuple[Library, ...]
    #: the first failure, as dlerror reports it (None: every library found and every version defined)
    error: str | None
    #: set when the outcome cannot be decided (an unreadable library, $PLATFORM in a path, ...)
    unknown: str | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "sysroot": self.sysroot,
            "error": self.error,
            "unknown": self.unknown,
            "libraries": [
                {"needed": lib.needed, "required_by": lib.required_by, "path": lib.path, "how": lib.how}
                for lib in self.libraries
            ],
        }


@dataclass
class _Object:
    name: str  # runtime path (l_name)
    elf: ElfFile
    loader: _Object | None

    # read once per object: the search asks each loaded object's soname for every DT_NEEDED
    @cached_property
    def runpath(self) -> list[str]:
        return [p for v in self.elf.dyn_strings(DT_RUNPATH) for p in v.split(":") if p]

    @cached_property
    def rpath(self) -> list[str]:
        return [p for v in self.elf.dyn_strings(DT_RPATH) for p in v.split(":") if p]

    @cached_property
    def soname(self) -> str | None:
        return next(iter(self.elf.dyn_strings(DT_SONAME)), None)


class _Unknown(Exception):
    pass


class _Snapshot:
    """What one run has read of its sysroots: the walks of runtime paths, keyed by (sysroot, path), and
    open_verify's answers, keyed by (sysroot, path, ELF class, machine)."""

    def __init__(self) -> None:
        self.walks: dict[tuple[str, str], str | None] = {}
        self.verified: dict[tuple[str, str, int, int], bool] = {}


#: the run's :class:`_Snapshot` (:func:`one_snapshot`), or None: every resolution reads afresh
_snapshot: _Snapshot | None = None


@contextlib.contextmanager
def one_snapshot() -> Iterator[None]:
    """Within this block, the sysroot is read as one snapshot: each runtime path is walked (its symlinks
    followed) once, and each candidate library opened to check its class and machine once, per process,
    and the answers are kept for every file resolved after it. A command-line run judges its files
    against one state of the sysroot this way (a scan's workers, forked in the block, each keep their
    own); outside it (the library's calls) every resolution reads the sysroot afresh. A library's
    contents are still read again if its size or modification time changes (:func:`_load_library`)."""
    global _snapshot
    outer, _snapshot = _snapshot, _Snapshot() if _snapshot is None else _snapshot
    try:
        yield
    finally:
        _snapshot = outer


def resolve(elf: ElfFile, runtime_path: str, sysroot: str = "/") -> DynamicResolution:
    """Resolve every ``DT_NEEDED`` of *elf* (loaded as *runtime_path*) and check symbol versions."""
    root = os.path.abspath(sysroot)
    r = _Resolver(root, elf)
    try:
        error = r.run(_Object(runtime_path, elf, None))
    except _Unknown as exc:
        return DynamicResolution(root, tuple(r.found), None, str(exc))
    return DynamicResolution(root, tuple(r.found), error)


class _Resolver:
    def __init__(self, root: str, elf: ElfFile) -> None:
        self.root = root
        self.machine = elf.header.machine
        self.elf_class = elf.header.elf_class
        self.found: list[Library] = []
        self._cache: dict[str, tuple[str, ...]] | None = None
        self._host_paths: dict[str, str | None] = {}
        self._conf_dirs: list[str] | None = None

    # -- paths inside the sysroot ---------------------------------------------------------------------
    def host_path(self, runtime_path: str) -> str | None:
        """Where *runtime_path* lives on this machine, following symlinks inside the sysroot; walked once
        per path in one resolution (the search finds a library, then the walk opens it), or in one
        :func:`one_snapshot`."""
        if runtime_path not in self._host_paths:
            walks = _snapshot.walks if _snapshot is not None else {}
            key = (self.root, runtime_path)
            if key not in walks:
                walks[key] = self._walk(runtime_path)
            self._host_paths[runtime_path] = walks[key]
        return self._host_paths[runtime_path]

    def _walk(self, runtime_path: str) -> str | None:
        parts = [p for p in runtime_path.split("/") if p]
        cur = self.root
        links = 0
        while parts:
            part = parts.pop(0)
            if part == ".":
                continue
            if part == "..":
                cur = os.path.dirname(cur) if cur != self.root else cur
                continue
            nxt = os.path.join(cur, part)
            if os.path.islink(nxt):
                links += 1
                if links > _MAX_SYMLINKS:
                    return None
                target = os.readlink(nxt)
                base = self.root if target.startswith("/") else cur
                parts = [p for p in target.split("/") if p] + parts
                cur = base
                continue
            cur = nxt
        return cur if os.path.isfile(cur) else None

    def _matches(self, runtime_path: str) -> bool:
        """open_verify: the file exists and has the process's ELF class and machine (asked once per
        :func:`one_snapshot`)."""
        if _snapshot is None:
            return self._verify(runtime_path)
        key = (self.root, runtime_path, self.elf_class, self.machine)
        if key not in _snapshot.verified:
            _snapshot.verified[key] = self._verify(runtime_path)
        return _snapshot.verified[key]

    def _verify(self, runtime_path: str) -> bool:
        hp = self.host_path(runtime_path)
        if hp is None:
            return False
        try:
            with open(hp, "rb") as fh:
                ident = fh.read(20)
        except OSError:
            return False
        if len(ident) < 20 or ident[:4] != b"\x7fELF" or ident[4] != self.elf_class:
            return False
        order = "<" if ident[5] == 1 else ">"
        return bool(struct.unpack(order + "H", ident[18:20])[0] == self.machine)

    # -- the search --------------------------------------------------------------------------------------
    def run(self, top: _Object) -> str | None:
        loaded: list[_Object] = [top]
        queue = [top]
        deps: dict[int, list[tuple[str, _Object]]] = {}
        while queue:
            obj = queue.pop(0)
            deps[id(obj)] = []
            for needed in obj.elf.dyn_strings(DT_NEEDED):
                already = next((o for o in loaded if needed in (o.name, o.soname)), None)
                if already is not None:
                    self.found.append(Library(needed, obj.name, already.name, "already loaded"))
                    deps[id(obj)].append((needed, already))
                    continue
                where, how = self.search(needed, obj)
                self.found.append(Library(needed, obj.name, where, how))
                if where is None:
                    return f"{needed}: {CANNOT_OPEN}"
                hp = self.host_path(where)
                assert hp is not None
                try:
                    lib_elf = _load_library(hp)
                except SoinspectError as exc:
                    raise _Unknown(f"{where} (needed by {obj.name}) cannot be analysed: {exc.problem}") from None
                dep = _Object(where, lib_elf, obj)
                loaded.append(dep)
                deps[id(obj)].append((needed, dep))
                queue.append(dep)
                if len(loaded) > _MAX_OBJECTS:
                    raise _Unknown(f"more than {_MAX_OBJECTS} libraries in the dependency tree")
        for obj in loaded:
            err = self.check_versions(obj, deps[id(obj)])
            if err is not None:
                return err
        return None

    def search(self, needed: str, obj: _Object) -> tuple[str | None, str]:
        if "/" in needed:
            path = self.expand(needed, obj)
            return (path, "path in DT_NEEDED") if self._matches(path) else (None, "path in DT_NEEDED")
        if not obj.runpath:
            o: _Object | None = obj
            while o is not None:
                for d in o.rpath:
                    cand = os.path.join(self.expand(d, o), needed)
                    if self._matches(cand):
                        return cand, f"DT_RPATH of {o.name}"
                o = o.loader
        for d in obj.runpath:
            cand = os.path.join(self.expand(d, obj), needed)
            if self._matches(cand):
                return cand, f"DT_RUNPATH of {obj.name}"
        cache = self.ld_cache()
        if cache is not None:
            for value in cache.get(needed, ()):  # the entries of that name, in cache order
                if self._matches(value):
                    return value, "/etc/ld.so.cache"
        else:
            for d in self.conf_dirs():
                cand = os.path.join(d, needed)
                if self._matches(cand):
                    return cand, "/etc/ld.so.conf"
        for d in self.default_dirs():
            cand = os.path.join(d, needed)
            if self._matches(cand):
                return cand, "default directories"
        return None, "not found"

    def expand(self, path: str, obj: _Object) -> str:
        for token in ("$LIB", "${LIB}", "$PLATFORM", "${PLATFORM}"):
            if token in path:
                raise _Unknown(f"{token} in {path!r} ({obj.name}) depends on the loader's build")
        origin = os.path.dirname(obj.name)
        path = path.replace("${ORIGIN}", origin).replace("$ORIGIN", origin)
        return os.path.normpath(path) if path.startswith("/") else os.path.normpath(os.path.join("/", path))

    def default_dirs(self) -> list[str]:
        triplet = _TRIPLETS.get(self.machine)
        multi = [f"/lib/{triplet}", f"/usr/lib/{triplet}"] if triplet else []
        return [*multi, "/lib", "/usr/lib"]

    # -- ld.so.cache and ld.so.conf ----------------------------------------------------------------------
    def ld_cache(self) -> dict[str, tuple[str, ...]] | None:
        """soname -> its paths, in cache order, of the sysroot's /etc/ld.so.cache for this machine."""
        if self._cache is not None:
            return self._cache
        hp = self.host_path("/etc/ld.so.cache")
        if hp is None:
            return None
        self._cache = _ld_cache_by_name(hp, _stat_key(hp), self.machine)
        return self._cache

    def conf_dirs(self) -> list[str]:
        if self._conf_dirs is None:
            out: list[str] = []
            self._read_conf("/etc/ld.so.conf", out, 0, set())
            self._conf_dirs = out
        return self._conf_dirs

    def _read_conf(self, runtime_path: str, out: list[str], depth: int, seen: set[str]) -> None:
        hp = self.host_path(runtime_path)
        # Each file is read once: a file included again only repeats directories already listed (the
        # search takes the first), and files that include each other made the reading exponential. In an
        # include cycle the first reading of a file counts (the cycle has no order of its own to mirror).
        if hp is None or depth > 8 or hp in seen:
            return
        seen.add(hp)
        with open(hp, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                line = line.split("#", 1)[0].strip()
                if not line:
                    continue
                if line.startswith("include"):
                    pattern = line.split(None, 1)[1] if len(line.split(None, 1)) == 2 else ""
                    if not pattern.startswith("/"):
                        pattern = os.path.join(os.path.dirname(runtime_path), pattern)
                    for m in sorted(glob.glob(os.path.join(self.root, pattern.lstrip("/")))):
                        self._read_conf("/" + os.path.relpath(m, self.root), out, depth + 1, seen)
                elif line.startswith("/"):
                    out.append(line.split("=", 1)[0].rstrip("/") or "/")

    # -- versions ----------------------------------------------------------------------------------------
    def check_versions(self, obj: _Object, deps: list[tuple[str, _Object]]) -> str | None:
        """``_dl_check_map_versions``: every version *obj* needs must be defined by the library named."""
        needs = _library_version_needs(obj.elf) if obj.loader is not None else tuple(version_needs(obj.elf))
        for file, name, weak in needs:
            provider = next((d for n, d in deps if file in (n, d.soname, d.name)), None)
            if provider is None:
                continue  # glibc looks the file up among all loaded objects; the dependency list has it
            defined = version_definitions(provider.elf)
            if defined is None or name in defined or weak:
                continue  # no .gnu.version_d: glibc only warns in verbose mode
            return f"{provider.name}: version `{name}' not found (required by {obj.name})"
        return None


def _stat_key(path: str) -> tuple[int, int, int, int]:
    st = os.stat(path)
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def _load_library(path: str) -> ElfFile:
    """A library of the sysroot, parsed once per process while the file is unchanged (libc is 2 MB)."""
    return _load_library_cached(path, _stat_key(path))


@functools.lru_cache(maxsize=64)
def _load_library_cached(path: str, key: tuple[int, int, int, int]) -> ElfFile:
    del key  # only part of the cache key: a changed file is parsed again
    return _elf.load(path)


@functools.lru_cache(maxsize=8)
def _ld_cache_entries(hp: str, key: tuple[int, int, int, int], machine: int) -> list[tuple[str, str]]:
    """(soname, path) entries of an ld.so.cache file for *machine*, parsed once while it is unchanged."""
    del key
    with open(hp, "rb") as fh:
        data = fh.read(64 << 20)
    return parse_ld_cache(data, machine, hp)


@functools.lru_cache(maxsize=8)
def _ld_cache_by_name(hp: str, key: tuple[int, int, int, int], machine: int) -> dict[str, tuple[str, ...]]:
    """The entries of :func:`_ld_cache_entries` by soname: each name's paths in cache order (the search
    tries them in turn, as glibc's walks the cache)."""
    out: dict[str, list[str]] = {}
    for name, value in _ld_cache_entries(hp, key, machine):
        out.setdefault(name, []).append(value)
    return {name: tuple(values) for name, values in out.items()}


def parse_ld_cache(data: bytes, machine: int, hp: str) -> list[tuple[str, str]]:
    """(soname, path) entries for *machine* of the ld.so.cache bytes *data* (read from *hp*)."""
    base = data.find(CACHE_MAGIC_NEW)
    if base < 0 or len(data) < base + _CACHE_HEADER:
        raise _Unknown(f"{hp}: not a glibc-ld.so.cache1.1 file")
    nlibs = struct.unpack_from("<I", data, base + 20)[0]
    if base + _CACHE_HEADER + nlibs * _CACHE_ENTRY > len(data):
        raise _Unknown(f"{hp}: {nlibs} entries run past the end of the {len(data)}-byte file")
    want = _CACHE_FLAGS.get(machine)
    out: list[tuple[str, str]] = []
    for i in range(nlibs):
        flags, name_off, value = struct.unpack_from("<iII", data, base + _CACHE_HEADER + i * _CACHE_ENTRY)
        if want is not None and flags != want:
            continue
        out.append((_cstr(data, base + name_off), _cstr(data, base + value)))
    return out


def version_needs(elf: ElfFile) -> list[tuple[str, str, bool]]:
    """``.gnu.version_r``: (library file name, version name, weak) for every needed version node."""
    addr, count = elf.dyn(DT_VERNEED), elf.dyn(DT_VERNEEDNUM)
    if addr is None or not count:
        return []
    e = elf.endian
    out: list[tuple[str, str, bool]] = []
    strtab = elf.dynstr
    for _ in range(min(count, _MAX_VER_ENTRIES)):
        raw = elf.read_va(addr, 16)
        if raw is None:
            raise _Unknown(f"{elf.path}: .gnu.version_r entry at {addr:#x} lies outside the file")
        _ver, cnt, file_off, aux, nxt = struct.unpack(e + "HHIII", raw)
        file = elf.dynstr_at(strtab, file_off)
        a = addr + aux
        for _j in range(min(cnt, _MAX_VER_ENTRIES)):
            araw = elf.read_va(a, 16)
            if araw is None:
                raise _Unknown(f"{elf.path}: .gnu.version_r aux entry at {a:#x} lies outside the file")
            _hash, flags, _other, name_off, anext = struct.unpack(e + "IHHII", araw)
            out.append((file, elf.dynstr_at(strtab, name_off), bool(flags & VER_FLG_WEAK)))
            if anext == 0:
                break
            a += anext
        if nxt == 0:
            break
        addr += nxt
    return out


@functools.lru_cache(maxsize=64)
def _library_version_needs(elf: ElfFile) -> tuple[tuple[str, str, bool], ...]:
    """:func:`version_needs` of a sysroot library (parsed once per process: :func:`_load_library`)."""
    return tuple(version_needs(elf))


@functools.lru_cache(maxsize=64)
def version_definitions(elf: ElfFile) -> frozenset[str] | None:
    """``.gnu.version_d``: the version names *elf* defines (without the base entry), None if none.

    Cached: the providers are the sysroot's libraries, themselves parsed once per process."""
    addr, count = elf.dyn(DT_VERDEF), elf.dyn(DT_VERDEFNUM)
    if addr is None or not count:
        return None
    e = elf.endian
    strtab = elf.dynstr
    out: set[str] = set()
    for _ in range(min(count, _MAX_VER_ENTRIES)):
        raw = elf.read_va(addr, 20)
        if raw is None:
            raise _Unknown(f"{elf.path}: .gnu.version_d entry at {addr:#x} lies outside the file")
        _ver, flags, _ndx, _cnt, _hash, aux, nxt = struct.unpack(e + "HHHHIII", raw)
        araw = elf.read_va(addr + aux, 8)
        if araw is None:
            raise _Unknown(f"{elf.path}: .gnu.version_d aux at {addr + aux:#x} lies outside the file")
        name_off, _anext = struct.unpack(e + "II", araw)
        if not flags & VER_FLG_BASE:
            out.add(elf.dynstr_at(strtab, name_off))
        if nxt == 0:
            break
        addr += nxt
    return frozenset(out)


def _cstr(data: bytes, off: int) -> str:
    if off < 0 or off >= len(data):
        return ""
    end = data.find(b"\0", off)
    return data[off : end if end >= 0 else len(data)].decode("utf-8", "replace")


#: ``os.uname().machine`` -> ELF machine: the platform whose libraries the default sysroot ``/`` holds
_NATIVE = {"x86_64": 62, "aarch64": 183, "i686": 3, "i386": 3, "armv7l": 40}


@functools.cache
def _native_machine() -> int | None:
    return _NATIVE.get(os.uname().machine)


def resolve_facts(f: FileFacts, sysroot: str | None = None) -> DynamicResolution | None:
    """:func:`resolve` for a file soinspect read; None when it is not an ELF file it could parse.

    ``sysroot=None`` means ``/`` for a file of this machine's architecture; for a file of another
    architecture ``/`` holds no libraries it could use, so the result is unknown until a sysroot is given.
    """
    if f.elf is None or f.invalid is not None:
        return None
    if sysroot is None:
        native = _native_machine()
        if f.elf.header.machine != native:
            h = f.elf.header
            mine = f"{machine_word(native)} libraries" if native is not None else "this machine's libraries"
            why = (
                f"{machine_file(h.elf_class, h.data_encoding, h.machine)}, and / holds {mine}: give --sysroot, a "
                "directory with the libraries of the file's platform"
            )
            return DynamicResolution("", (), None, f"libraries not resolved: {why}")
        sysroot = "/"
    try:
        return resolve(f.elf, f.realpath, sysroot)
    except OSError as exc:
        return DynamicResolution(os.path.abspath(sysroot), (), None, f"reading the sysroot failed: {exc}")


def check_sysroot(sysroot: str | None) -> None:
    """Raise :class:`~soinspect.errors.FileAccessError` unless *sysroot* is None or a directory."""
    if sysroot is not None and not os.path.isdir(sysroot):
        raise FileAccessError(sysroot, "the sysroot is not a directory")
