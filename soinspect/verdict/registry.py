"""The check reference: one record per check id, the single source of ``--list-checks``, ``--explain``,
the SARIF rules and docs/checks.md (``scripts/checks_doc.py`` writes its tables from here;
``tests/test_checks_reference.py`` fails when the two differ).

Each record says why the loader cares, what Go or glibc prints when it matters (quoted from
``go/src/plugin/plugin_dlopen.go``, ``go/src/runtime/plugin.go`` and glibc's ``elf/dl-load.c``; each was seen
from a real host in ``corpus/observed.json`` unless marked *(source)*), the fix that makes the real loader
accept the file, and whether it is a policy check that ``--ignore`` may hide.
"""

from __future__ import annotations

from soinspect._frozen import frozen


@frozen
class CheckInfo:
    """What one check id means: the reference text behind every place the id appears."""

    id: str
    title: str  # one line: what the check asserts
    why: str  # why the loader cares
    says: str  # what Go or glibc prints when it fails ("-" where nothing is printed)
    fix: str  # what makes the real loader accept the file ("-" where there is nothing to fix)
    policy: bool = False  # a policy check: ``--ignore`` may hide it

    @property
    def family(self) -> str:
        return FAMILIES[self.id.split(".", 1)[0]]

    def text(self) -> str:
        """The full reference as plain text (``--explain``, SARIF rule help)."""
        ignore = (
            "a policy check: --ignore may hide it"
            if self.policy
            else "decides or explains what plugin.Open does: --ignore cannot hide it"
        )
        return (
            f"{self.id}: {self.title} ({self.family}).\n"
            f"Why the loader cares: {self.why}\n"
            f"What Go or glibc says: {self.says}\n"
            f"Fix: {self.fix}\n"
            f"Policy: {ignore}."
        )


#: check id prefix -> the family it names (the SARIF tag and the docs section)
FAMILIES = {
    "elf": "ELF identity",
    "dyn": "dynamic linking",
    "sym": "symbols",
    "go": "Go build and plugin identity",
    "plugin": "what the host expects",
    "host": "compatibility with the host",
    "loader": "the loader's verdict",
}

_RECORDS = (
    CheckInfo(
        "elf.format",
        "The file is an ELF file whose headers can be read",
        "dlopen reads the ELF header first.",
        'plugin.Open("F"): F: invalid ELF header (not ELF); file too short (source)',
        "ship the real .so; a Mach-O or PE file is named as such.",
    ),
    CheckInfo(
        "elf.complete",
        "Every loadable segment and section lies inside the file",
        "a PT_LOAD segment that runs past the end of the file is mapped anyway; touching it kills the process.",
        "SIGBUS: bus error (the host dies; plugin.Open returns nothing)",
        "copy the file again: it was truncated.",
    ),
    CheckInfo(
        "elf.class",
        "ELF class (32/64-bit) matches the target",
        "a 32-bit file cannot load in a 64-bit process, nor the reverse.",
        "wrong ELF class: ELFCLASS32 (source)",
        "build the plugin for the host's GOARCH.",
    ),
    CheckInfo(
        "elf.byteorder",
        "Byte order matches the target",
        "the byte order must match the process.",
        "ELF file data encoding not little-endian (source)",
        "build the plugin for the host's GOARCH.",
    ),
    CheckInfo(
        "elf.osabi",
        "OS/ABI is one glibc's loader accepts (SYSV or GNU/Linux)",
        "glibc accepts only the SYSV and GNU/Linux OS/ABI bytes.",
        "ELF file OS ABI invalid",
        "build the plugin with GOOS=linux.",
    ),
    CheckInfo(
        "elf.type",
        "File type is a shared object (ET_DYN) and not a PIE executable",
        "only shared objects load; an executable or a position-independent executable is refused.",
        "cannot dynamically load executable; cannot dynamically load position-independent executable",
        "build with go build -buildmode=plugin.",
    ),
    CheckInfo(
        "elf.machine",
        "Machine matches the target",
        "glibc skips a file of another machine as if it did not exist.",
        "F: cannot open shared object file: No such file or directory (misleading: the file exists)",
        "build the plugin for the host's GOARCH (--target judges another platform).",
    ),
    CheckInfo(
        "dyn.linkage",
        "Dynamically linked shared object: PT_DYNAMIC present, no PT_INTERP",
        "a plugin is a dynamically linked shared object: a dynamic section and no program interpreter.",
        "as elf.type",
        "build with go build -buildmode=plugin.",
    ),
    CheckInfo(
        "dyn.needed",
        "Libraries the object needs (DT_NEEDED, RPATH/RUNPATH, SONAME)",
        "(information) the libraries dlopen must find; dyn.resolve says whether it finds them.",
        "F: LIB: cannot open shared object file",
        "install the library on the target, or ship it beside the plugin with RUNPATH $ORIGIN.",
        policy=True,
    ),
    CheckInfo(
        "dyn.resolve",
        "Every needed library is found in the sysroot as the loader that runs would (glibc's or musl's), with "
        "every needed symbol version (glibc)",
        "dlopen with RTLD_NOW must find every DT_NEEDED library (RPATH/RUNPATH with $ORIGIN, ld.so.cache, the "
        "default directories, inside --sysroot) and every needed symbol version, before any plugin code runs.",
        'plugin.Open("F"): LIB: cannot open shared object file: No such file or directory; '
        "LIB: version `GLIBC_2.34' not found (required by F)",
        "ship the library beside the plugin with RUNPATH $ORIGIN, or build against the target's glibc.",
    ),
    CheckInfo(
        "sym.bind",
        "Every undefined, non-weak symbol binds in the loader's global scope (RTLD_NOW)",
        "dlopen with RTLD_NOW binds every undefined, non-weak symbol its relocations use before it returns: "
        "in the host's exports, the host's libraries, earlier RTLD_GLOBAL plugins and the plugin's own "
        "libraries. glibc matches the symbol version too; musl the name only. A weak reference may stay unbound.",
        'glibc: plugin.Open("F"): F: undefined symbol: NAME (", version V" for a versioned one); musl: '
        'plugin.Open("F"): Error relocating F: NAME: symbol not found',
        "export NAME from the host (link it with -rdynamic, or //export it in its cgo), link the plugin against "
        "the library that defines it, or stop calling it.",
    ),
    CheckInfo(
        "sym.dynsym",
        "The dynamic symbol table the loader and Lookup use is present",
        "Lookup and the loader's symbol binding use .dynsym.",
        "plugin: symbol NAME not found in plugin PATH",
        "rebuild: something removed the dynamic symbol table.",
    ),
    CheckInfo(
        "sym.symtab",
        "The static symbol table (.symtab) is present or stripped",
        ".symtab is not needed: a -ldflags='-s -w' or strip --strip-all plugin loads (seen here); it is "
        "information, and a failure only under --strict.",
        "- (plugin.Open does not need it)",
        "build without -s and do not strip, or drop --strict.",
        policy=True,
    ),
    CheckInfo(
        "go.buildinfo",
        "Go build info (.go.buildinfo) is present and readable",
        "the Go release, module, dependencies and settings the plugin was built with (equals go version -m); "
        "the causes of a fingerprint mismatch are read from it.",
        "- (information)",
        "-",
    ),
    CheckInfo(
        "go.buildmode",
        "Built with -buildmode=plugin",
        "only -buildmode=plugin registers module data with the host.",
        "a c-shared or C library: fatal error: runtime: no plugin module data (the host dies)",
        "build with go build -buildmode=plugin.",
    ),
    CheckInfo(
        "go.platform",
        "The plugin's own Go release builds plugins (and -race) for its platform",
        "each Go release builds plugins for its own set of linux platforms (BuildModeSupported: go1.19 has no "
        "loong64 or riscv64, only go1.27 has ppc64) and runs -race on fewer (RaceDetectorSupported); a file "
        "that claims a release and a platform that release refuses was not built by that stock release, so "
        "its build info is not what the toolchain wrote. soinspect/elf/platforms.py holds both, read from "
        "each release's sources; a release not in it is unknown, never guessed.",
        "go build: -buildmode=plugin not supported on linux/ppc64; -race is not supported on linux/arm",
        "build the plugin with a Go release that supports its platform (go1.27 for linux/ppc64).",
    ),
    CheckInfo(
        "go.pluginpath",
        "The plugin path Go identifies the plugin by",
        "Go keys loaded plugins by it: plugin/unnamed-<hash> for a list of files, else the import path.",
        "empty: fatal error: runtime: plugin has empty pluginpath (source)",
        "-",
    ),
    CheckInfo(
        "go.moduledata",
        "The plugin registers its Go module data with the host runtime",
        "the plugin's init array calls runtime.addmoduledata, which links its runtime.moduledata into the "
        "host's module list; without it the runtime finds no plugin.",
        "fatal error: runtime: no plugin module data (the host dies)",
        "build with go build -buildmode=plugin.",
    ),
    CheckInfo(
        "go.exports",
        "Exported symbols Lookup can find",
        "exported names <pluginpath>.<Name> in .dynsym are what Lookup finds; a plugin that exports nothing "
        "loads, and every Lookup fails (at worst a warning).",
        "plugin: symbol NAME not found in plugin PATH",
        "export the symbol from package main.",
        policy=True,
    ),
    CheckInfo(
        "go.pkghashes",
        "Package fingerprints the loader compares with the host's",
        "the per-package fingerprints (go:link.pkghashbytes.<pkg>) that host.pkghash compares.",
        "-",
        "-",
    ),
    CheckInfo(
        "go.advisory",
        "The Go release that runs the plugin has no known plugin-loading defect",
        "a known defect of the Go release whose runtime runs the plugin (the host's with --host, else the "
        "plugin's own), from soinspect/go/advisories.json, each entry verified with Go's own regression test "
        "(scripts/verify_advisories.sh); plugin.Open still succeeds, so it is a warning that fails only under "
        "--strict. golang/go#81303 (go1.27.0, go1.27.1): after plugins load, a type switch in the host can take "
        "the wrong branch.",
        "nothing at plugin.Open; later, wrong behaviour (Go's test panics: ast.Walk: unexpected node type "
        "*ast.GenDecl)",
        "build the host and the plugins with the fixed release (go1.27.2 or later for golang/go#81303).",
        policy=True,
    ),
    CheckInfo(
        "host.plugin_support",
        "The host can call plugin.Open at all",
        "a host built with CGO_ENABLED=0 has the stub plugin package; a program that does not link package "
        "plugin cannot call it.",
        "plugin: not implemented (for every file, garbage included)",
        "rebuild the host with CGO_ENABLED=1 (and a C toolchain).",
    ),
    CheckInfo(
        "host.runtime",
        "Host and plugin runtimes agree on the module data layout",
        "the plugin's runtime.addmoduledata stores its module data where its own runtime keeps "
        "moduledata.next; a host whose runtime lays moduledata out differently (another Go minor release) "
        "never sees it, or reads it at the wrong offsets.",
        "fatal error: runtime: no plugin module data (the host dies; no error is returned); after another "
        "plugin: plugin already loaded",
        "build the plugin with the host's Go minor release (go version -m HOST names it).",
    ),
    CheckInfo(
        "host.pluginpath",
        "No plugin with the same plugin path is already loaded",
        "Go loads one plugin per plugin path in a process.",
        'plugin.Open("F"): plugin already loaded',
        "give each plugin its own package path (rename its module: go mod edit -module=...); do not load "
        "copies of one plugin. -ldflags=-pluginpath=UNIQUE alone is no fix: the exported symbols keep the "
        "package's name and plugin.Open then fails with could not find symbol (seen in the recipe test).",
    ),
    CheckInfo(
        "host.pkghash",
        "Every package the plugin shares with the process has the same fingerprint",
        "every package the plugin was linked against is compared with the fingerprint the process already "
        "exports (go:link.pkghash.<pkg>, resolved as the dynamic loader does: the host first, then earlier "
        "plugins); soinspect lists every difference with its likely cause.",
        'the first difference in the plugin\'s table order only: plugin.Open("F"): plugin was built with a '
        "different version of package X",
        "build the plugin like the host: the same Go release, the same -race, -trimpath, -gcflags, "
        "GOEXPERIMENT and -tags, the same dependency versions and (without -trimpath) the same directories "
        "on disk; the report names what differs.",
    ),
    CheckInfo(
        "loader.verdict",
        "What Go's plugin.Open does with this file",
        "the predicted outcome: ok, error (Go's message), crash (the fatal error line), not reached (an "
        "earlier file killed the host), or unknown (with the reason).",
        "the open_error of the report",
        "see the failed checks and the report's why: line.",
    ),
    CheckInfo(
        "plugin.expect",
        "Exported symbols named with --expect exist with the Go types the host asserts",
        "--expect NAME=TYPE (or expect in the config, or the expect of a host manifest) states the host's "
        "type assertion on Lookup(NAME); it is decided as the runtime decides it, from the plugin's type "
        "descriptors: Go type identity with import paths (api.Logger of example.com/fake/api is not the "
        "host's), an interface by the symbol's method table; short package names resolve against --host. "
        "Unknown where the bytes do not tell (--strict rejects it); docs/host.md.",
        "a wrong type: sym.(T) panics with interface conversion: plugin.Symbol is func() string, not "
        "func() int, and v, ok := sym.(T) gives ok == false; a missing name: plugin: symbol NAME not found "
        "in plugin PATH",
        "export NAME with the type the host asserts.",
    ),
)

#: every check soinspect can emit, by id, in report order
CHECKS: dict[str, CheckInfo] = {c.id: c for c in _RECORDS}


def list_checks() -> str:
    """One line per check: its id, ``policy`` for the checks ``--ignore`` may hide, and its title."""
    width = max(len(cid) for cid in CHECKS)
    return "".join(f"{cid:<{width}}  {'policy' if c.policy else '      '}  {c.title}\n" for cid, c in CHECKS.items())
