"""What differs between a plugin's build info and a host's, for the settings that matter to loading.

The package fingerprints decide whether ``plugin.Open`` accepts a plugin (see :mod:`soinspect.loader.causes`);
the build info only explains them. This module lists, side by side, the build-info fields a user compares
when a fingerprint differs: the Go release, the build settings that change a fingerprint or the runtime
(``-race``, ``-trimpath``, ``CGO_ENABLED``, ``-tags``, ``-gcflags``, ``GOEXPERIMENT``, the ``GOAMD64``-style
architecture level), and each dependency both sides link whose version, content or replacement differs.
"""

from __future__ import annotations

from typing import Literal

from soinspect._frozen import frozen
from soinspect.go.buildinfo import BuildInfo, Module, is_local_source

#: The build settings shown for a host and compared with a plugin's, in this order. ``-asan`` and ``-msan``
#: change every instrumented package like ``-race``; the GOARCH level (``GOAMD64``, ``GOARM64``, ...) is
#: shown but was seen not to break loading (``GOAMD64=v3``, docs/matrix.md).
LOADING_SETTINGS = (
    "-race",
    "-asan",
    "-msan",
    "-trimpath",
    "CGO_ENABLED",
    "-tags",
    "-gcflags",
    "-asmflags",
    "-pgo",
    "GOEXPERIMENT",
)
#: per-package flags (``[pattern=]args``): without a pattern they reach only the packages named on the
#: command line (a main package, which a host and a plugin never share), so they cannot change a
#: fingerprint the other side checks (greet-noopt-main.so, ``-N -l`` on its main package, loads)
PER_PACKAGE_FLAGS = ("-gcflags", "-asmflags")


@frozen
class Difference:
    """One build-info field whose value differs: what it is, the plugin's value and the host's."""

    field: str  # "Go release", a setting key ("-trimpath"), or "module <path>"
    plugin: str
    host: str


def split_go_version(v: str) -> tuple[str, str]:
    """``go1.27.3-X:arenas`` -> (``go1.27.3``, ``arenas``): experiments show in the version string."""
    base, _, exp = v.partition(" ")[0].partition("-X:")
    return base, exp


def _arch_level_key(bi: BuildInfo) -> str | None:
    arch = bi.setting("GOARCH")
    return f"GO{arch.upper()}" if arch else None


def flag_pattern(value: str) -> str | None:
    """The package pattern of a per-package flag's value (``all=-N -l`` -> ``all``); None without one
    (cmd/go: a value that starts with ``-`` applies to the command line's packages)."""
    value = value.strip()
    if not value or value.startswith("-") or "=" not in value:
        return None
    return value.split("=", 1)[0]


def reaches_shared(value: str | None, plugin: BuildInfo, other: BuildInfo) -> bool:
    """Whether a ``-gcflags``/``-asmflags`` value reaches a package both builds link: ``all``, ``std``,
    a standard-library path or pattern (both link the runtime), a relative pattern (it may name packages of
    a module both link, as for a plugin inside the host's module), or a path of a module both list."""
    pattern = flag_pattern(value) if value else None
    if pattern is None or pattern == "cmd":
        return False
    if pattern in ("all", "std") or pattern.startswith("."):
        return True
    literal, wildcard = pattern.split("...", 1)[0], "..." in pattern
    if "." not in literal.split("/", 1)[0]:
        return True  # a standard-library package (or pattern): both sides link the runtime and its imports
    shared = {m.path for m in plugin.deps} & {m.path for m in other.deps}
    if plugin.main is not None and other.main is not None and plugin.main.path == other.main.path:
        shared.add(plugin.main.path)  # a plugin built inside the host's own module
    return any(literal == m or literal.startswith(m + "/") or (wildcard and m.startswith(literal)) for m in shared)


def effective_setting(bi: BuildInfo, key: str, other: BuildInfo) -> str | None:
    """*bi*'s setting *key* as far as it can change a fingerprint *other* checks: a per-package flag that
    reaches no shared package counts as unset."""
    value = setting(bi, key)
    if key in PER_PACKAGE_FLAGS and not reaches_shared(value, bi, other):
        return None
    return value


def loading_settings(bi: BuildInfo) -> tuple[tuple[str, str], ...]:
    """The settings of :data:`LOADING_SETTINGS` that *bi* sets (a flag that is off is left out), then the
    architecture level (``GOAMD64=v1``). ``GOEXPERIMENT`` comes from the version string when the settings
    do not carry it."""
    out: list[tuple[str, str]] = []
    for key in LOADING_SETTINGS:
        value = bi.setting(key)
        if key == "GOEXPERIMENT" and not value:
            value = split_go_version(bi.go_version)[1] or None
        if value is None or (key.startswith("-") and value == "false"):
            continue
        out.append((key, value))
    level = _arch_level_key(bi)
    if level is not None and bi.setting(level) is not None:
        out.append((level, bi.setting(level) or ""))
    return tuple(out)


def differences(plugin: BuildInfo, host: BuildInfo) -> tuple[Difference, ...]:
    """The build-info fields that differ between *plugin* and *host*: the Go release, the loading settings,
    and every module both link whose version, sum or replacement differs (modules only one side links
    cannot conflict; the main modules are different programs and are not compared)."""
    out: list[Difference] = []
    if plugin.go_version != host.go_version:
        out.append(Difference("Go release", plugin.go_version, host.go_version))
    p, h = dict(loading_settings(plugin)), dict(loading_settings(host))
    for key in PER_PACKAGE_FLAGS:
        for mine, bi, against in ((p, plugin, host), (h, host, plugin)):
            if key in mine and effective_setting(bi, key, against) is None:
                del mine[key]  # reaches no package the other side links: not a difference
    for key in dict.fromkeys([*p, *h]):
        if p.get(key) != h.get(key):
            out.append(Difference(key, p.get(key, "unset"), h.get(key, "unset")))
    host_deps = {m.path: m for m in host.deps}
    for m in plugin.deps:
        other = host_deps.get(m.path)
        if other is not None and module_kind(m, other, plugin, host) is not None:
            out.append(Difference(f"module {m.path}", describe_module(m, plugin), describe_module(other, host)))
    return tuple(out)


def describe_module(m: Module, bi: BuildInfo | None = None) -> str:
    """``v1.0.0 (h1:...) => ../dep-v1 (devel)``: a module's version, sum and replacement, as one string;
    with *bi*, a module built from a directory (a local replacement, a go.work module) also names the
    absolute directory *bi* records for it, in brackets."""
    text = m.version + (f" ({m.sum})" if m.sum else "")
    if m.replace is not None:
        r = m.replace
        text += f" => {r.path}" + (f" {r.version}" if r.version else "")
    where = bi.dir_of(m.path) if bi is not None else None
    if where is not None and (m.replace is None or where != m.replace.path):
        text += f" [{where}]"
    return text


def trimmed(bi: BuildInfo) -> bool:
    return bi.setting("-trimpath") == "true"


def module_kind(
    pm: Module, om: Module, plugin: BuildInfo, other: BuildInfo
) -> Literal["version", "replace", "content", "vendor"] | None:
    """How one module differs between two builds, as far as a fingerprint can tell it; None if it does not.

    Modules built from a directory (a local replacement, a go.work module) are compared as directories, not
    spellings: without -trimpath on both sides by the absolute directories the binaries record
    (``../libs/dep`` and ``../../libs/dep`` can be one directory); with -trimpath the files are named
    ``<module>@<required version>``, so the required version counts and the directory does not."""
    if is_local_source(pm) and is_local_source(om):
        if trimmed(plugin) or trimmed(other):
            # trimmed, the files are named <module path>@<required version>: the version counts, the directory
            # does not (with -trimpath on one side only, that difference is the cause of the rest)
            return "version" if pm.version != om.version else None
        pd, od = plugin.dir_of(pm.path), other.dir_of(om.path)
        if pd is not None and od is not None:
            return "replace" if pd != od else None
        spelled = (pm.replace or pm).path, (om.replace or om).path
        return "replace" if spelled[0] != spelled[1] and all(p.startswith("/") for p in spelled) else None
    if pm.version != om.version:
        return "version"
    pr, orr = pm.replace, om.replace
    if (pr is None) != (orr is None):
        return "replace"
    if pr is not None and orr is not None and (pr.path, pr.version) != (orr.path, orr.version):
        return "replace"
    if pm.sum and om.sum and pm.sum != om.sum:
        return "content"
    if bool(pm.sum) != bool(om.sum) and pr is None and orr is None and not (trimmed(plugin) or trimmed(other)):
        # -mod=vendor records no sums: one side built it from vendor/, the other from the module cache, and
        # without -trimpath the directory is part of the fingerprint
        return "vendor"
    return None


# -- the same comparison as data, for the fix (soinspect.verdict.fix) ----------------------------------------

#: Build settings that change package fingerprints and are ``go build`` flags, in the order a recipe gives them.
FINGERPRINT_FLAGS = ("-race", "-msan", "-asan", "-trimpath", "-tags", "-gcflags", "-asmflags", "-pgo")
#: Build settings that change package fingerprints (or whether a plugin can be built at all) and are
#: environment variables. The GOAMD64-style levels did not break loading here, but they are the host's.
FINGERPRINT_ENV = (
    "CGO_ENABLED",
    "GOOS",
    "GOARCH",
    "GOEXPERIMENT",
    "GOAMD64",
    "GOARM",
    "GOARM64",
    "GO386",
    "GOMIPS",
    "GOMIPS64",
    "GOPPC64",
    "GORISCV64",
    "CGO_CFLAGS",
    "CGO_CPPFLAGS",
    "CGO_CXXFLAGS",
    "CGO_LDFLAGS",
)


@frozen
class SettingDifference:
    """One build setting on which the two builds disagree (None: not set on that side)."""

    key: str  # "go" for the release, else the build-info key (``-race``, ``GOEXPERIMENT``, ...)
    plugin: str | None
    other: str | None


@frozen
class ModuleDifference:
    """How the module that provides a mismatching package differs between the two builds."""

    path: str
    kind: Literal["version", "replace", "content", "vendor", "only_plugin", "only_other"]
    plugin: Module | None
    other: Module | None


def setting(bi: BuildInfo, key: str) -> str | None:
    """A build setting as the fix reads it: GOEXPERIMENT also from the version string (``go1.27.3-X:arenas``)."""
    value = bi.setting(key)
    if key == "GOEXPERIMENT" and not value:
        value = split_go_version(bi.go_version)[1] or None
    return value


def setting_differences(plugin: BuildInfo, other: BuildInfo) -> list[SettingDifference]:
    """Every fingerprint-relevant setting on which *plugin* and *other* disagree, the release first."""
    out: list[SettingDifference] = []
    pv, ov = split_go_version(plugin.go_version)[0], split_go_version(other.go_version)[0]
    if pv != ov:
        out.append(SettingDifference("go", pv, ov))
    for key in FINGERPRINT_FLAGS + FINGERPRINT_ENV:
        p, o = effective_setting(plugin, key, other), effective_setting(other, key, plugin)
        if (p or "") != (o or "") and not (key.startswith("-") and {p, o} <= {None, "false"}):
            out.append(SettingDifference(key, p, o))
    return out


def module_difference(package: str, plugin: BuildInfo, other: BuildInfo) -> ModuleDifference | None:
    """How the module providing *package* differs between the builds; None if their build info agrees
    (or neither side names a module for it, as for the standard library)."""
    pm, om = module_of(package, plugin), module_of(package, other)
    if pm is None and om is None:
        return None
    if pm is None or om is None:
        m = pm or om
        assert m is not None
        return ModuleDifference(m.path, "only_plugin" if pm is not None else "only_other", pm, om)
    kind = module_kind(pm, om, plugin, other)
    return ModuleDifference(pm.path, kind, pm, om) if kind is not None else None


def module_of(package: str, bi: BuildInfo) -> Module | None:
    """The module of *bi* (main or dependency) that provides *package*: the longest matching path."""
    best: Module | None = None
    for m in ((bi.main,) if bi.main else ()) + bi.deps:
        if (package == m.path or package.startswith(m.path + "/")) and (best is None or len(m.path) > len(best.path)):
            best = m
    return best
