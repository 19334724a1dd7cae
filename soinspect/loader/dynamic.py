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

musl's loader (``ldso/dynlink.c``, ``load_library``) is modelled beside it when the loader that runs is musl's
(:class:`Loader`): a name ``lib`` + ``c``, ``pthread``, ``rt``, ``m``, ``dl``, ``util`` or ``xnet`` + ``.`` is
answered by the loader itself (``libc.so``, ``libc.so.6``, ``libpthread.so.0`` ...), as is the loader's own
path and any file that is the same inode (Alpine's ``libc.musl-x86_64.so.1``); otherwise the ``RPATH`` or
``RUNPATH`` (one of them, RUNPATH winning) of the object and of each object that loaded it, then the
sysroot's ``/etc/ld-musl-$ARCH.path`` (entries split at ``:`` and newlines), or ``/lib:/usr/local/lib:/usr/lib``
when there is none. The first file that exists is taken, ELF or not. musl checks no symbol version. Its
message: ``Error loading shared library libfoo.so: No such file or directory (needed by /path/plugin.so)``.

:func:`bind` then binds every undefined, non-weak symbol the new objects' relocations refer to, as
``RTLD_NOW`` does, in the global scope (the host, earlier ``RTLD_GLOBAL`` plugins, the plugin's own tree):
glibc matches the version too (``elf/dl-lookup.c``, ``check_match``), musl the name only.
"""

from __future__ import annotations

import contextlib
import functools
import glob
import os
import re
import struct
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
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
    STB_GLOBAL,
    STB_WEAK,
)
from soinspect.elf.targets import machine_file, machine_word
from soinspect.errors import FileAccessError, SoinspectError
from soinspect.go.facts import FileFacts

CANNOT_OPEN = "cannot open shared object file: No such file or directory"
_ENOENT = "No such file or directory"
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

GLIBC, MUSL = "glibc", "musl"
#: ELF machine -> musl's LDSO_ARCH: its loader is /lib/ld-musl-$ARCH.so.1, its path file /etc/ld-musl-$ARCH.path
_MUSL_ARCH = {62: "x86_64", 183: "aarch64", 3: "i386", 40: "armhf", 21: "powerpc64le", 22: "s390x", 243: "riscv64"}
#: musl's load_library answers "lib" + one of these + "." with itself (``reserved[]`` in ldso/dynlink.c)
MUSL_RESERVED = ("c.", "pthread.", "rt.", "m.", "dl.", "util.", "xnet.")
MUSL_DEFAULT_PATH = "/lib:/usr/local/lib:/usr/lib"
#: the DT_NEEDED names a musl build's C library goes by (Debian's musl-gcc: libc.so; Alpine: libc.musl-ARCH.so.1)
_MUSL_LIBC_PREFIXES = ("libc.musl-", "ld-musl-")


@frozen
class Loader:
    """The dynamic loader that runs ``dlopen``: glibc's or musl's, and the program interpreter that names it."""

    flavor: str  # GLIBC or MUSL
    interp: str | None  # the interpreter's path (PT_INTERP), when known
    why: str  # how soinspect knows which loader runs

    @property
    def musl(self) -> bool:
        return self.flavor == MUSL


def musl_interp(machine: int) -> str | None:
    arch = _MUSL_ARCH.get(machine)
    return f"/lib/ld-musl-{arch}.so.1" if arch else None


def loader_of_host(interp: str | None, machine: int | None) -> Loader:
    """The loader a host process runs: the one its ``PT_INTERP`` names (musl's is ``ld-musl-*``)."""
    if interp is None:
        return Loader(GLIBC, None, "the host names no interpreter here (a version-1 manifest): glibc assumed")
    flavor = MUSL if os.path.basename(interp).startswith("ld-musl-") else GLIBC
    return Loader(flavor, interp, f"the host's PT_INTERP {interp}")


def loader_of_plugin(elf: ElfFile) -> Loader:
    """Without a host, the loader the plugin was built for: the C library its ``DT_NEEDED`` names
    (``libc.so`` or ``libc.musl-*``: musl; ``libc.so.6``: glibc)."""
    for needed in elf.dyn_strings(DT_NEEDED):
        if needed == "libc.so" or needed.startswith(_MUSL_LIBC_PREFIXES):
            interp = musl_interp(elf.header.machine)
            return Loader(MUSL, interp, f"the plugin needs {needed}: it was built for musl")
        if needed == "libc.so.6":
            return Loader(GLIBC, None, "the plugin needs libc.so.6: it was built for glibc")
    return Loader(GLIBC, None, "the plugin names no C library: glibc assumed")


def musl_reserved(name: str) -> bool:
    """musl's loader answers this DT_NEEDED name with itself."""
    return name.startswith("lib") and name[3:].startswith(MUSL_RESERVED)


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
    loader: Loader = field(default_factory=lambda: Loader(GLIBC, None, "glibc assumed"))
    #: every object of the tree, the file first: (runtime path, its ELF, part of the C library)
    objects: tuple[tuple[str, ElfFile, bool], ...] = field(default=(), compare=False, repr=False)

    def to_json(self) -> dict[str, object]:
        return {
            "sysroot": self.sysroot,
            "loader": self.loader.flavor,
            "interp": self.loader.interp,
            "loader_why": self.loader.why,
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
    libc: bool = False  # the C library (the host has it loaded already: its relocations are done)

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

    @cached_property
    def musl_rpath(self) -> list[str]:
        """musl keeps one search path per object: DT_RUNPATH if there is one, else DT_RPATH."""
        return self.runpath or self.rpath


class _Fatal(Exception):
    """The loader stops with this text (a candidate it cannot use, found where it looked)."""


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


def resolve(elf: ElfFile, runtime_path: str, sysroot: str = "/", loader: Loader | None = None) -> DynamicResolution:
    """Resolve every ``DT_NEEDED`` of *elf* (loaded as *runtime_path*) as *loader* does (glibc's when not
    given), and check symbol versions (glibc)."""
    root = os.path.abspath(sysroot)
    loader = loader or Loader(GLIBC, None, "glibc assumed")
    r = _Resolver(root, elf, loader)
    try:
        error = r.run(_Object(runtime_path, elf, None))
    except _Unknown as exc:
        return DynamicResolution(root, tuple(r.found), None, str(exc), loader)
    objects = tuple((o.name, o.elf, o.libc) for o in r.loaded)
    return DynamicResolution(root, tuple(r.found), error, None, loader, objects)


class _Resolver:
    def __init__(self, root: str, elf: ElfFile, loader: Loader | None = None) -> None:
        self.root = root
        self.loader = loader or Loader(GLIBC, None, "glibc assumed")
        self.machine = elf.header.machine
        self.elf_class = elf.header.elf_class
        self.found: list[Library] = []
        self.loaded: list[_Object] = []
        self._musl_self: _Object | None = None
        self._musl_path: list[str] | None = None
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
        if len(ident) < 20:
            raise _Fatal(f"{runtime_path}: file too short")
        if ident[:4] != b"\x7fELF":
            # open_verify signals this (seen: a musl plugin's libc.so is glibc's linker script)
            raise _Fatal(f"{runtime_path}: invalid ELF header")
        if ident[4] != self.elf_class:
            return False
        order = "<" if ident[5] == 1 else ">"
        return bool(struct.unpack(order + "H", ident[18:20])[0] == self.machine)

    # -- the search --------------------------------------------------------------------------------------
    def run(self, top: _Object) -> str | None:
        loaded = self.loaded
        loaded.append(top)
        queue = [top]
        deps: dict[int, list[tuple[str, _Object]]] = {}
        musl = self.loader.musl
        while queue:
            obj = queue.pop(0)
            deps[id(obj)] = []
            for needed in obj.elf.dyn_strings(DT_NEEDED):
                if musl and (musl_reserved(needed) or needed == self.loader.interp):
                    me = self.musl_self()
                    self.found.append(Library(needed, obj.name, me.name, "musl's loader itself"))
                    deps[id(obj)].append((needed, me))
                    continue
                if musl:
                    # musl knows a loaded library by the name it was searched under (its shortname)
                    already = next((o for o in loaded if needed in (o.name, os.path.basename(o.name))), None)
                else:
                    already = next((o for o in loaded if needed in (o.name, o.soname)), None)
                if already is not None:
                    self.found.append(Library(needed, obj.name, already.name, "already loaded"))
                    deps[id(obj)].append((needed, already))
                    continue
                try:
                    where, how = self.musl_search(needed, obj) if musl else self.search(needed, obj)
                except _Fatal as exc:
                    self.found.append(Library(needed, obj.name, None, "not usable"))
                    return str(exc)
                self.found.append(Library(needed, obj.name, where, how))
                if where is None:
                    if musl:
                        return f"Error loading shared library {needed}: {_ENOENT} (needed by {obj.name})"
                    return f"{needed}: {CANNOT_OPEN}"
                hp = self.host_path(where)
                assert hp is not None
                try:
                    lib_elf = _load_library(hp)
                except SoinspectError as exc:
                    if musl and not _is_elf_object(hp):
                        return f"Error loading shared library {needed}: Exec format error (needed by {obj.name})"
                    raise _Unknown(f"{where} (needed by {obj.name}) cannot be analysed: {exc.problem}") from None
                if musl and self._is_musl_self(hp, lib_elf):
                    # the same inode as the loader, or a C library (__libc_start_main and stdin): musl
                    # answers it with itself (load_library)
                    me = self.musl_self()
                    self.found[-1] = Library(needed, obj.name, me.name, f"{how}: musl's loader itself")
                    deps[id(obj)].append((needed, me))
                    continue
                dep = _Object(where, lib_elf, obj, libc=not musl and _glibc_part(where, lib_elf))
                loaded.append(dep)
                deps[id(obj)].append((needed, dep))
                queue.append(dep)
                if len(loaded) > _MAX_OBJECTS:
                    raise _Unknown(f"more than {_MAX_OBJECTS} libraries in the dependency tree")
        if musl:
            return None  # musl checks no symbol version
        for obj in loaded:
            err = self.check_versions(obj, deps[id(obj)])
            if err is not None:
                return err
        return None

    # -- musl --------------------------------------------------------------------------------------------
    def musl_self(self) -> _Object:
        """musl's loader, which is its C library: the interpreter's file in the sysroot."""
        if self._musl_self is None:
            interp = self.loader.interp
            hp = self.host_path(interp) if interp else None
            if interp is None or hp is None:
                raise _Unknown(f"musl's loader {interp or '(unknown machine)'} is not in the sysroot {self.root}: "
                               "the C library's symbols cannot be read (give --sysroot)")
            try:
                self._musl_self = _Object(interp, _load_library(hp), None, libc=True)
            except SoinspectError as exc:
                raise _Unknown(f"musl's loader {interp} cannot be analysed: {exc.problem}") from None
            self.loaded.append(self._musl_self)
        return self._musl_self

    def _is_musl_self(self, hp: str, elf: ElfFile) -> bool:
        interp = self.loader.interp
        me = self.host_path(interp) if interp else None
        if me is not None and os.path.samefile(me, hp):
            return True
        return elf.find_symbol("__libc_start_main") is not None and elf.find_symbol("stdin") is not None

    def musl_search(self, needed: str, obj: _Object) -> tuple[str | None, str]:
        """``load_library``'s search: the first file that exists (musl opens it; it does not check the ELF
        class or machine while searching)."""
        if "/" in needed:
            return (needed, "path in DT_NEEDED") if self.host_path(needed) else (None, "path in DT_NEEDED")
        o: _Object | None = obj
        while o is not None:
            for d in o.musl_rpath:
                cand = os.path.join(self.expand(d, o), needed)
                if self.host_path(cand) is not None:
                    return cand, f"{'DT_RUNPATH' if o.runpath else 'DT_RPATH'} of {o.name}"
            o = o.loader
        dirs, how = self.musl_path()
        for d in dirs:
            cand = os.path.join(d, needed)
            if self.host_path(cand) is not None:
                return cand, how
        return None, "not found"

    def musl_path(self) -> tuple[list[str], str]:
        """The sysroot's /etc/ld-musl-$ARCH.path (``:`` or newline separated), else musl's default path."""
        arch = _MUSL_ARCH.get(self.machine, "")
        name = f"/etc/ld-musl-{arch}.path"
        hp = self.host_path(name)
        if hp is None:
            return [d for d in MUSL_DEFAULT_PATH.split(":")], f"musl's default path {MUSL_DEFAULT_PATH}"
        with open(hp, encoding="utf-8", errors="replace") as fh:
            text = fh.read(1 << 20)
        return [d for d in text.replace("\n", ":").split(":") if d.strip()], name

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
        if not needs:
            return None
        # file name -> the first dependency it names (by DT_NEEDED, soname or path)
        providers: dict[str | None, _Object] = {}
        for n, d in deps:
            providers.setdefault(n, d)
            providers.setdefault(d.soname, d)
            providers.setdefault(d.name, d)
        for file, name, weak in needs:
            provider = providers.get(file)
            if provider is None:
                continue  # glibc looks the file up among all loaded objects; the dependency list has it
            defined = version_definitions(provider.elf)
            if defined is None or name in defined or weak:
                continue  # no .gnu.version_d: glibc only warns in verbose mode
            return f"{provider.name}: version `{name}' not found (required by {obj.name})"
        return None


def _is_elf_object(path: str) -> bool:
    """musl's map_library refuses a file (ENOEXEC, "Exec format error") that is no ELF shared object."""
    with open(path, "rb") as fh:
        head = fh.read(18)
    return len(head) == 18 and head[:4] == b"\x7fELF" and head[16 if head[5] == 1 else 17] in (2, 3)


def _glibc_part(runtime_path: str, elf: ElfFile) -> bool:
    """glibc's C library itself (libc.so.6 or the loader): the host has it mapped and relocated already."""
    name = next(iter(elf.dyn_strings(DT_SONAME)), os.path.basename(runtime_path))
    return name == "libc.so.6" or name.startswith("ld-linux")


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
    """``.gnu.version_r``: (library file name, version name, weak) for every needed version node; an entry
    outside the file raises :class:`_Unknown`."""
    nodes, outside = _vernaux(elf)
    if outside is not None:
        raise _Unknown(outside)
    return [(file, name, bool(flags & VER_FLG_WEAK)) for file, name, flags, _other in nodes]


_VernauxWalk = tuple[tuple[tuple[str, str, int, int], ...], str | None]
#: each object's :func:`_vernaux` walk while the object lives (a plugin's is read by the version check and
#: again by binding)
_VERNAUX: weakref.WeakKeyDictionary[ElfFile, _VernauxWalk] = weakref.WeakKeyDictionary()


def _vernaux(elf: ElfFile) -> _VernauxWalk:
    """(library file name, version name, vna_flags, vna_other) of every ``.gnu.version_r`` node, in order,
    and the first entry found outside the file (None: none). Such an entry is skipped: a file entry ends
    the walk, a node entry ends its file's nodes. Bound: at most ``_MAX_VER_ENTRIES`` files and as many
    nodes each. Walked once per object (:data:`_VERNAUX`)."""
    walked = _VERNAUX.get(elf)
    if walked is not None:
        return walked
    nodes: list[tuple[str, str, int, int]] = []
    outside: str | None = None
    addr, count = elf.dyn(DT_VERNEED), elf.dyn(DT_VERNEEDNUM)
    e, strtab = elf.endian, elf.dynstr
    for _ in range(min(count or 0, _MAX_VER_ENTRIES)):
        raw = elf.read_va(addr, 16) if addr is not None else None
        if raw is None or addr is None:
            if addr is not None:
                outside = outside or f"{elf.path}: .gnu.version_r entry at {addr:#x} lies outside the file"
            break
        _ver, cnt, file_off, aux, nxt = struct.unpack(e + "HHIII", raw)
        file = elf.dynstr_at(strtab, file_off)
        a = addr + aux
        for _j in range(min(cnt, _MAX_VER_ENTRIES)):
            araw = elf.read_va(a, 16)
            if araw is None:
                outside = outside or f"{elf.path}: .gnu.version_r aux entry at {a:#x} lies outside the file"
                break
            _hash, flags, other, name_off, anext = struct.unpack(e + "IHHII", araw)
            nodes.append((file, elf.dynstr_at(strtab, name_off), flags, other))
            if anext == 0:
                break
            a += anext
        if nxt == 0:
            break
        addr += nxt
    walked = _VERNAUX[elf] = (tuple(nodes), outside)
    return walked


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


def resolve_facts(f: FileFacts, sysroot: str | None = None, loader: Loader | None = None) -> DynamicResolution | None:
    """:func:`resolve` for a file soinspect read; None when it is not an ELF file it could parse. *loader*
    is the host's (:func:`loader_of_host`); without one, the loader the file was built for
    (:func:`loader_of_plugin`).

    ``sysroot=None`` means ``/`` for a file of this machine's architecture; for a file of another
    architecture ``/`` holds no libraries it could use, so the result is unknown until a sysroot is given.
    """
    if f.elf is None or f.invalid is not None:
        return None
    loader = loader or loader_of_plugin(f.elf)
    if sysroot is None:
        native = _native_machine()
        if f.elf.header.machine != native:
            h = f.elf.header
            mine = f"{machine_word(native)} libraries" if native is not None else "this machine's libraries"
            why = (
                f"{machine_file(h.elf_class, h.data_encoding, h.machine)}, and / holds {mine}: give --sysroot, a "
                "directory with the libraries of the file's platform"
            )
            return DynamicResolution("", (), None, f"libraries not resolved: {why}", loader)
        sysroot = "/"
    try:
        return resolve(f.elf, f.realpath, sysroot, loader)
    except OSError as exc:
        return DynamicResolution(os.path.abspath(sysroot), (), None, f"reading the sysroot failed: {exc}", loader)


def check_sysroot(sysroot: str | None) -> None:
    """Raise :class:`~soinspect.errors.FileAccessError` unless *sysroot* is None or a directory."""
    if sysroot is not None and not os.path.isdir(sysroot):
        raise FileAccessError(sysroot, "the sysroot is not a directory")


# -- symbol binding (RTLD_NOW) --------------------------------------------------------------------------
_STB_GNU_UNIQUE = 10
_BINDS = (STB_GLOBAL, STB_WEAK, _STB_GNU_UNIQUE)
_C_IDENTIFIER = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_HIDDEN = 0x8000


def c_identifier(name: str) -> bool:
    """*name* can be a C symbol (host manifests record only these: Go's own names are never undefined in a
    plugin, which defines its whole runtime and every package it links)."""
    return _C_IDENTIFIER.fullmatch(name) is not None


@frozen
class Binding:
    """What ``RTLD_NOW`` does with the undefined symbols of the new objects (the plugin and its libraries)."""

    #: the loader's text for the first symbol that binds nowhere (None: every one binds)
    error: str | None
    #: set when it cannot be told (the host's exports are not known, a library could not be read)
    unknown: str | None
    checked: int  # undefined, non-weak references looked up
    #: (symbol, provider) for every reference bound outside the plugin's own tree (the host, an earlier plugin)
    from_outside: tuple[tuple[str, str], ...] = ()
    #: every reference that binds nowhere: (name, version or None, the object that needs it)
    unbound: tuple[tuple[str, str | None, str], ...] = ()
    loader: str = GLIBC

    def to_json(self) -> dict[str, object]:
        return {
            "loader": self.loader,
            "error": self.error,
            "unknown": self.unknown,
            "checked": self.checked,
            "from_outside": [{"symbol": s, "provider": p} for s, p in self.from_outside],
            "unbound": [{"symbol": n, "version": v, "required_by": r} for n, v, r in self.unbound],
        }


@functools.lru_cache(maxsize=64)
def _version_index_names(elf: ElfFile) -> dict[int, str]:
    """Version index -> name: ``.gnu.version_d`` (vd_ndx, the base entry included) and ``.gnu.version_r``
    (vna_other), as glibc fills ``l_versions``."""
    out: dict[int, str] = {}
    e, strtab = elf.endian, elf.dynstr
    addr, count = elf.dyn(DT_VERDEF), elf.dyn(DT_VERDEFNUM)
    for _ in range(min(count or 0, _MAX_VER_ENTRIES)):
        raw = elf.read_va(addr, 20) if addr is not None else None
        if raw is None or addr is None:
            break
        _v, _flags, ndx, _cnt, _hash, aux, nxt = struct.unpack(e + "HHHHIII", raw)
        araw = elf.read_va(addr + aux, 8)
        if araw is None:
            break
        out[ndx & 0x7FFF] = elf.dynstr_at(strtab, struct.unpack(e + "II", araw)[0])
        if nxt == 0:
            break
        addr += nxt
    return out


def _needed_versions(elf: ElfFile) -> dict[int, str]:
    """vna_other -> version name of every version node *elf* needs (its references' versions)."""
    return {other & 0x7FFF: name for _file, name, _flags, other in _vernaux(elf)[0]}


def undefined_references(elf: ElfFile, *, musl: bool) -> list[tuple[str, str | None]]:
    """(name, version or None) of every undefined, non-weak symbol a dynamic relocation of *elf* refers to,
    in the order the loader meets them. Weak references may stay unbound; a reference without a relocation
    is never looked up."""
    versions = _needed_versions(elf) if elf.versym_raw is not None and not musl else {}
    # most relocations name the plugin's own, defined symbols: those are not read
    entries = elf.dynsym_names_binds(elf.undefined_relocation_symbols(plt_first=musl))
    refs = [(i, name) for i, name, bind in entries if bind == STB_GLOBAL and name]
    if not versions:  # no version named: None whatever the index
        return [(name, None) for _i, name in refs]
    ndxs = (m & 0x7FFF for m in elf.versym_of([i for i, _name in refs]))
    return [(name, versions.get(ndx) if ndx >= 2 else None) for (_i, name), ndx in zip(refs, ndxs, strict=True)]


def elf_defines(elf: ElfFile, name: str, version: str | None, *, musl: bool) -> bool:
    """Does *elf*'s ``.dynsym`` define *name* so that the loader binds a reference at *version* to it?

    musl: any definition that is not hidden (``versym`` bit 15). glibc (``check_match``): a versioned
    reference takes a definition at that version, or one whose version index names no version of the
    object (an unversioned object, or index 0) unless hidden; an unversioned one takes index 0-2, or the
    only non-hidden versioned definition."""
    entries = [(i, s) for i, s in elf.defined_entries(name) if s.bind in _BINDS]
    if not entries:
        return False
    vs = elf.versym
    if vs is None:
        return True
    marks = [vs[i] if i < len(vs) else 0 for i, _ in entries]
    if musl:
        return any(not m & _HIDDEN for m in marks)
    names = _version_index_names(elf)
    if version is None:
        return any(m & 0x7FFF < 3 for m in marks) or sum(1 for m in marks if not m & _HIDDEN) == 1
    return any(names.get(m & 0x7FFF) == version or (m & 0x7FFF not in names and not m & _HIDDEN) for m in marks)


@functools.lru_cache(maxsize=4096)
def _library_defines(elf: ElfFile, name: str, version: str | None, musl: bool) -> bool:
    """:func:`elf_defines` for a sysroot library (parsed once per process, :func:`_load_library`): every
    plugin asks the C library for the same few dozen names."""
    return elf_defines(elf, name, version, musl=musl)


#: :func:`elf_defines`' answers for each plugin while it lives: a host's scan binds the references of every
#: plugin in the plugins loaded before it, and each of those is asked for the same C library names again
_PLUGIN_DEFINES: weakref.WeakKeyDictionary[ElfFile, dict[tuple[str, str | None, bool], bool]] = (
    weakref.WeakKeyDictionary()
)


def _plugin_defines(elf: ElfFile, name: str, version: str | None, musl: bool) -> bool:
    """:func:`elf_defines` for a plugin, each question answered once."""
    answers = _PLUGIN_DEFINES.get(elf)
    if answers is None:
        answers = _PLUGIN_DEFINES[elf] = {}
    key = (name, version, musl)
    found = answers.get(key)
    if found is None:
        found = answers[key] = elf_defines(elf, name, version, musl=musl)
    return found


def exported_names(elf: ElfFile) -> set[str]:
    """The C-identifier symbols *elf* exports to the global scope, as host manifests record them: ``name``
    (unversioned), ``name@@V`` (the default version V), ``name@V`` (hidden: only a reference at V binds)."""
    vs = elf.versym
    names = _version_index_names(elf) if vs is not None else {}
    out: set[str] = set()
    for i, sym in enumerate(elf.iter_dynsym()):
        if not sym.defined or sym.bind not in _BINDS or not c_identifier(sym.name):
            continue
        mark = vs[i] if vs is not None and i < len(vs) else 0
        ver = names.get(mark & 0x7FFF)
        if ver is None:
            if not mark & _HIDDEN:
                out.add(sym.name)
        else:
            out.add(f"{sym.name}{'@' if mark & _HIDDEN else '@@'}{ver}")
    return out


def names_define(names: frozenset[str], name: str, version: str | None, *, musl: bool) -> bool:
    """:func:`elf_defines` over recorded :func:`exported_names` (a host manifest's)."""
    if name in names:
        return True  # unversioned: glibc binds any reference to it, musl too
    if version is not None and not musl and (f"{name}@@{version}" in names or f"{name}@{version}" in names):
        return True
    prefix = f"{name}@@"
    if musl or version is None:
        return any(n.startswith(prefix) for n in names) if len(names) < 64 else _any_default(names, name)
    return False


@functools.lru_cache(maxsize=8)
def _defaults(names: frozenset[str]) -> frozenset[str]:
    return frozenset(n.split("@@", 1)[0] for n in names if "@@" in n)


def _any_default(names: frozenset[str], name: str) -> bool:
    return name in _defaults(names)


def bind(
    dyn: DynamicResolution,
    host_exports: frozenset[str] | None,
    earlier: Sequence[DynamicResolution] = (),
    *,
    host_note: str | None = None,
) -> Binding | None:
    """Bind every undefined, non-weak reference of the new objects of *dyn* (the plugin and the libraries it
    brings, not the C library the host has loaded) in the global scope, as ``RTLD_NOW`` does: the host's
    exports (*host_exports*: C identifiers, :func:`exported_names`; None when not known, *host_note* says
    why), the trees of earlier ``RTLD_GLOBAL`` plugins, then *dyn*'s own tree. None when *dyn* could not
    be resolved (its error or unknown says why).

    The first reference that binds nowhere gives the loader's text: glibc relocates the new objects
    dependencies first (``dl-open.c``), each table in order (RELA, REL, then the PLT), and says
    ``OBJ: undefined symbol: NAME`` (``, version V``); musl relocates the plugin first, the PLT first, and
    says ``Error relocating OBJ: NAME: symbol not found``."""
    if dyn.error is not None or dyn.unknown is not None or not dyn.objects:
        return None
    musl = dyn.loader.musl
    new = [(name, elf) for name, elf, libc in dyn.objects if not libc]
    order = new if musl else new[::-1]
    outside = [(name, elf) for d in earlier for name, elf, libc in d.objects if not libc]
    own = [(name, elf) for name, elf, _ in dyn.objects]
    plugins = {id(d.objects[0][1]) for d in (*earlier, dyn) if d.objects}

    def defines(e: ElfFile, name: str, version: str | None) -> bool:
        if id(e) in plugins:
            return _plugin_defines(e, name, version, musl)
        return _library_defines(e, name, version, musl)

    checked = 0
    unbound: list[tuple[str, str | None, str]] = []
    from_outside: dict[str, str] = {}
    unknown: str | None = None
    for requirer, elf in order:
        # the object that needs it does not define it (its .dynsym entry is the undefined one)
        others = [(e, id(e) in plugins) for _, e in own if e is not elf]
        for name, version in undefined_references(elf, musl=musl):
            checked += 1
            if host_exports and names_define(host_exports, name, version, musl=musl):  # an empty set: none
                from_outside.setdefault(name, "the host")
                continue
            if outside:
                provider = next((n for n, e in outside if defines(e, name, version)), None)
                if provider is not None:
                    from_outside.setdefault(name, provider)
                    continue
            bound = False
            for e, plugin in others:  # defines(), inlined: a plugin has a few dozen references to look up
                if _plugin_defines(e, name, version, musl) if plugin else _library_defines(e, name, version, musl):
                    bound = True
                    break
            if bound:
                continue
            if host_exports is None or host_note is not None:
                why = host_note or "a version-1 host manifest records no exported symbols"
                unknown = unknown or f"whether the host provides {name} is not known: {why}"
                continue
            if not c_identifier(name):
                unknown = unknown or f"{name} binds nowhere else, and soinspect reads only the C symbols a host exports"
                continue
            unbound.append((name, version, requirer))
    error = None
    if unbound:
        name, version, requirer = unbound[0]
        if musl:
            error = f"Error relocating {requirer}: {name}: symbol not found"
        else:
            error = f"{requirer}: undefined symbol: {name}" + (f", version {version}" if version else "")
    return Binding(error, None if error else unknown, checked, tuple(from_outside.items()), tuple(unbound),
                   dyn.loader.flavor)
