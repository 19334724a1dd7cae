"""Why a package fingerprint differs: a likely cause from the build info of both sides.

The fingerprint (``go:link.pkghashbytes.<pkg>``) covers a package's export data, including file positions,
so the Go release, ``-race``, ``-trimpath``, ``-gcflags``, ``GOEXPERIMENT``, build tags, dependency
versions, and (without ``-trimpath``) the directory a dependency was built from all change it
(golang/go#31278, #63230, #68349). Build info is informational, not exhaustive: when nothing in it
differs, the cause is said to be unknown rather than guessed.
"""

from __future__ import annotations

from soinspect.go.buildinfo import BuildInfo, Module, is_local_source
from soinspect.loader.differences import describe_module as _describe
from soinspect.loader.differences import effective_setting, module_kind, trimmed
from soinspect.loader.differences import module_of as _module_of
from soinspect.loader.differences import split_go_version as _split_version

#: (setting, why it changes fingerprints, what to do); the first that differs is the likely cause
_FLAG_SETTINGS = (
    ("-race", "the race runtime changes every instrumented package", "build both with the same -race setting"),
    ("-trimpath", "file paths are part of the fingerprint", "build both with or both without -trimpath"),
    (
        "-pgo",
        "a profile changes inlining in every package it touches, the standard library included",
        "build both with the same profile (-pgo=FILE) or both without (-pgo=off)",
    ),
    ("-gcflags", "compiler flags change export data", "use the same -gcflags on both sides"),
    ("-asmflags", "assembler flags change the objects of the packages they reach", "use the same -asmflags"),
    ("GOEXPERIMENT", "experiments change the runtime and export data", "build both with the same experiments"),
    ("-tags", "build tags select other source files", "build both with the same -tags"),
    ("-asan", "the address sanitizer changes every instrumented package", "build both with the same -asan"),
    ("-msan", "the memory sanitizer changes every instrumented package", "build both with the same -msan"),
    ("CGO_ENABLED", "cgo selects other source files", "build both with the same CGO_ENABLED"),
)
#: settings that are on or off: said as "set on one side and not on the other"
_BOOL_FLAGS = ("-race", "-trimpath", "-asan", "-msan")


def diagnose(package: str, pb: BuildInfo | None, ob: BuildInfo | None, label: str = "host") -> str:
    """One line: the most likely reason *package* differs between a plugin (build info *pb*) and the side
    that provides the process's fingerprint (*ob*: the host's, or an earlier plugin's)."""
    if pb is None or ob is None:
        return "cause unknown: build info missing on one side"
    pv, pexp = _split_version(pb.go_version)
    ov, oexp = _split_version(ob.go_version)
    if pv != ov:
        return (
            f"different Go release (plugin {pv}, {label} {ov}): build both with the same Go minor release and toolchain"
        )
    if pexp != oexp:
        return (
            f"different GOEXPERIMENT (plugin: {pexp or 'none'}, {label}: {oexp or 'none'}): build both with "
            "the same experiments"
        )
    pm, om = _module_of(package, pb), _module_of(package, ob)
    if pm is not None or om is not None:
        module_cause = _module_cause(package, pm, om, pb, ob)
        if not module_cause.startswith("same:"):
            return module_cause.replace("other ", f"{label} ").replace("other side", label)
    differing = [
        (key, why, todo, p, h)
        for key, why, todo in _FLAG_SETTINGS
        if ((p := effective_setting(pb, key, ob)) or "") != ((h := effective_setting(ob, key, pb)) or "")
        and not (key in _BOOL_FLAGS and {p, h} <= {None, "false"})
    ]
    if differing:
        key, why, todo, p, h = differing[0]
        if key in _BOOL_FLAGS:
            on, off = ("plugin", label) if p == "true" else (label, "plugin")
            text = f"{key} is set on the {on} and not on the {off}: {why}; {todo}"
        else:
            text = f"different {key} (plugin: {p or 'unset'}, {label}: {h or 'unset'}): {why}; {todo}"
        # Several settings differ: any of them may be what changed this package; name them all.
        others = [d[0] for d in differing[1:]]
        return text + (f" ({', '.join(others)} also differ{'s' if len(others) == 1 else ''})" if others else "")
    if pm is not None:
        return module_cause[len("same: ") :]
    if "." not in package.split("/", 1)[0]:
        return (
            "same Go version and flags: the standard library was built differently (e.g. a toolchain "
            "installed elsewhere without -trimpath, or a modified GOROOT)"
        )
    return "cause unknown: the build info of both sides agrees for this package"


def _module_cause(package: str, pm: Module | None, om: Module | None, pb: BuildInfo, ob: BuildInfo) -> str:
    if pm is None or om is None:
        side = "plugin" if pm is not None else "other side"
        m = pm or om
        assert m is not None
        return f"module {m.path} appears only in the {side}'s build info; the package's source differs"
    kind = module_kind(pm, om, pb, ob)
    if kind == "version":
        return f"module {pm.path} at different versions (plugin {pm.version}, other {om.version}): align go.mod"
    pr, orr = pm.replace, om.replace
    if kind == "replace" and is_local_source(pm) and is_local_source(om):
        return (
            f"module {pm.path} is built from different directories (plugin {_where(pm, pb)}, other "
            f"{_where(om, ob)}): without -trimpath even a byte-identical copy elsewhere on disk changes the fingerprint"
        )
    if kind == "replace" and (pr is None) != (orr is None):
        return f"module {pm.path} is replaced on one side only ({_describe(pm)} vs {_describe(om)})"
    if kind == "replace" and pr is not None and orr is not None:
        return f"module {pm.path} is replaced by different modules ({pr.path} {pr.version} vs {orr.path} {orr.version})"
    if kind == "content":
        return f"module {pm.path} {pm.version} has different content (sum {pm.sum} vs {om.sum})"
    if kind == "vendor":
        vendored = "plugin" if not pm.sum else "other side"
        return (
            f"module {pm.path} {pm.version} comes from a vendor/ directory on the {vendored} (-mod=vendor records no "
            "sum) and from the module cache on the other: without -trimpath the directory is part of the fingerprint"
        )
    if pr is not None and orr is not None and (trimmed(pb) or trimmed(ob)) and pr.path != orr.path:
        return (
            f"same: module {pm.path} comes from a local directory on both sides ({pr.path} and {orr.path}, each "
            "relative to its own module); a -trimpath build does not record where that is, so whether they are "
            "one directory cannot be told: its source files differ between the two builds, or it was built "
            "from different directories"
        )
    if pr is not None:
        where = pb.dir_of(pm.path)
        return (
            f"same: module {pm.path} comes from the local directory {where or pr.path} on both sides: its source "
            "files differ between the two builds"
            + ("" if where else " (or were built from different absolute paths)")
        )
    return (
        f"same: module {pm.path} {pm.version} agrees in build info: the package's source or build environment differs"
    )


def _where(m: Module, bi: BuildInfo) -> str:
    """The directory *m* was built from: the absolute one *bi* records, else its replacement's spelling."""
    return bi.dir_of(m.path) or (m.replace.path if m.replace is not None else "its go.work directory")
