"""The fix for a rejection: what to rebuild, and how, so that the real loader accepts the file.

A :class:`Fix` is data (the toolchain, environment, ``go build`` flags and ``go mod edit`` commands) and
text (``steps``, sentences a Go developer can follow). It is derived from the same comparison of both
sides' build info that explains each fingerprint mismatch and shows the differences side by side
(:mod:`soinspect.loader.differences`), and from the
facts behind the verdict: the host's refusal, glibc's ``dlopen`` checks, the file's kind and dependencies.

Rules (docs/json.md, "fix"):

- ``build_flags`` is the whole flag list for ``go build`` (no ``-o``: the user adds the output path and
  the package); ``env`` is what to set on top of the build environment: ``CGO_ENABLED=1`` and each
  setting whose value differs from the file's own build (an empty value unsets it).
- A duplicate plugin path is fixed by renaming the plugin's package (``go mod edit -module=...`` when it
  is its module's root): ``-ldflags=-pluginpath=...`` alone is no fix, since the compiler names the
  exported symbols after the import path and ``plugin.Open`` then cannot find them (seen here).
- With ``--host``, the recipe is the host's build: its Go release, its fingerprint-relevant settings
  (``-race``, ``-trimpath``, ``-tags``, ``-gcflags``, ``-asmflags``, ``-msan``, ``-asan``, ``GOEXPERIMENT``,
  ``CGO_*``, ``GOOS``/``GOARCH`` and their levels) and, for dependencies, only the modules whose packages
  actually mismatch.
- Without ``--host`` the verdict assumes a host built like the file itself, so the fix only repairs what
  makes the file unloadable in itself (not a plugin, wrong platform, damaged, a missing library), keeping
  the file's own release and settings (``basis`` says so).
- When the cause is unknown, ``known`` is False, the recipe fields stay empty and ``steps`` says what is
  known: no recipe is invented.
"""

from __future__ import annotations

import posixpath
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import field
from typing import Literal

from soinspect._frozen import frozen
from soinspect.elf.file import not_elf_fix
from soinspect.elf.targets import Target, target_for
from soinspect.go.advisories import affecting, parse_release
from soinspect.go.buildinfo import BuildInfo, is_local_source
from soinspect.go.facts import FileFacts, go_build_id
from soinspect.go.sourcedirs import module_dir, package_dirs
from soinspect.loader.differences import (
    FINGERPRINT_ENV,
    FINGERPRINT_FLAGS,
    ModuleDifference,
    SettingDifference,
    effective_setting,
    module_difference,
    setting,
    setting_differences,
    trimmed,
)
from soinspect.loader.differences import split_go_version as split_version
from soinspect.loader.dynamic import Binding, DynamicResolution, loader_of_plugin
from soinspect.loader.prediction import Verdict
from soinspect.loader.process import (
    ALREADY_LOADED,
    DIFFERENT_VERSION,
    EMPTY_PLUGINPATH,
    MISREAD,
    NO_MODULE_DATA,
    NOT_IMPLEMENTED,
    HostModel,
    dlopen_failure,
    no_host_model,
)

Rebuild = Literal["plugin", "host", "other", "none"]
REBUILDS: tuple[Rebuild, ...] = ("plugin", "host", "other", "none")


@frozen
class Fix:
    """What makes the real loader accept a rejected file."""

    #: what to change: the plugin, the host, another file (an earlier plugin), or nothing to rebuild
    rebuild: Rebuild
    #: False: soinspect cannot tell what to change; the recipe fields are empty and ``steps`` says why
    known: bool
    #: the Go release to build with (``go1.27.3``), or None if it does not matter or is unknown
    toolchain: str | None = None
    #: variables to set on top of the build environment (an empty value means: unset it)
    env: dict[str, str] = field(default_factory=dict)
    #: the whole ``go build`` flag list, without ``-o`` and the package
    build_flags: tuple[str, ...] = ()
    #: ``go mod edit`` commands, to run in the plugin's module directory before building
    go_mod_edits: tuple[str, ...] = ()
    #: the import path the plugin's package main must get (a new package directory inside its module, for a
    #: second, different build of a plugin path that is a package inside a larger module); None: unchanged
    package_path: str | None = None
    #: sentences, in order
    steps: tuple[str, ...] = ()
    #: what the fix was derived from (the host's build info, or the file's own build without --host)
    basis: str = ""

    def command(self) -> str | None:
        """The ``go build`` command line the recipe gives (``-o`` left for the user), or None."""
        if not self.build_flags:
            return None
        env = " ".join(f"{k}={shlex.quote(v)}" for k, v in self.env.items())
        go = f"go build {' '.join(shlex.quote(f) for f in self.build_flags)} -o OUTPUT.so ."
        return f"{env} {go}" if env else go


def derive_fix(
    f: FileFacts,
    verdict: Verdict,
    *,
    host: HostModel | None,
    target: Target,
    dyn: DynamicResolution | None = None,
    binding: Binding | None = None,
    providers: Mapping[str, FileFacts] | None = None,
    failed_checks: Sequence[tuple[str, str]] = (),
    plugin_module: str | None = None,
) -> Fix | None:
    """The fix for *f*'s rejection; None if it is loadable.

    *host* is None (or implicit) without ``--host``. *providers* maps an earlier plugin's path to its facts
    (a fingerprint that an earlier plugin provides first). *failed_checks* are (id, message) of the failed
    checks, for a file only the policy rejects. *plugin_module* is the plugin's module directory
    (``--plugin-module``): ``go mod edit -replace`` paths are then relative to it.
    """
    if verdict.loadable:
        return None
    real_host = host if host is not None and not host.implicit else None
    basis = _basis(real_host, target)
    pb = f.buildinfo.info if f.buildinfo is not None else None
    hb = real_host.buildinfo if real_host is not None else None
    if verdict.outcome == "not_reached":
        return Fix(
            "other",
            True,
            steps=(f"{verdict.reason}: fix or remove that file, then check this one again.",),
            basis=basis,
        )
    if real_host is not None and real_host.refusal is not None:
        return _host_fix(real_host, hb, basis)
    if verdict.outcome == "unknown":
        return _unknown(f"soinspect cannot predict what plugin.Open does: {verdict.reason}", basis)
    dl = dlopen_failure(f, target)
    if dl is not None:
        return _dlopen_fix(f, dl[2], target, pb, hb, basis, real_host is not None)
    if dyn is not None and dyn.error is not None and verdict.open_error and dyn.error in verdict.open_error:
        return _c_library_fix(f, dyn, real_host, basis) or _library_fix(f, dyn, basis)
    if binding is not None and binding.error is not None and verdict.open_error and binding.error in verdict.open_error:
        return _symbol_fix(f, binding, dyn, real_host, basis)
    err = verdict.open_error or ""
    if verdict.outcome == "crash" and err in (NO_MODULE_DATA, MISREAD):
        return _module_data_fix(f, verdict, real_host, pb, hb, basis)
    if err.endswith(ALREADY_LOADED):
        return _already_loaded_fix(f, verdict, real_host, pb, hb, basis, providers or {})
    if err == EMPTY_PLUGINPATH:
        return _unknown(
            "the plugin's module data has an empty plugin path, which go build does not produce: the file was "
            "built or altered by something else; soinspect cannot tell how to rebuild it",
            basis,
        )
    if err.endswith("(previous failure)"):
        return Fix(
            "other",
            True,
            steps=(
                "plugin.Open returns the cached error of an earlier attempt to open this same file in this process: "
                "the fix of that first attempt applies.",
            ),
            basis=basis,
        )
    if verdict.mismatches and DIFFERENT_VERSION in err:
        return _fingerprint_fix(f, verdict, real_host, providers or {}, pb, basis, plugin_module)
    if verdict.outcome == "ok" and failed_checks:
        return _policy_fix(failed_checks, pb, hb, basis)
    return _unknown(f"no fix is known for this rejection: {verdict.reason}", basis)


def expectation_fix(problems: Sequence[str]) -> Fix:
    """``--expect`` failed on a file that loads: the plugin must export the symbols with those types."""
    return Fix(
        "plugin",
        True,
        steps=(
            *(f"{p}." for p in problems),
            "Export each expected symbol from the plugin's package main with exactly the expected type "
            "(a function as a func, a variable as its pointer type), or change what the host expects.",
        ),
        basis="the symbols named with --expect",
    )


# -- the recipe: a build like the host's ---------------------------------------------------------------


def _bi(f: FileFacts | None) -> BuildInfo | None:
    return f.buildinfo.info if f is not None and f.buildinfo is not None else None


def _basis(host: HostModel | None, target: Target) -> str:
    if host is not None:
        return f"the build info of the host {host.name}"
    return (
        f"no --host: {no_host_model(target.name)}; the fix repairs only what makes the "
        "file unloadable in itself, with its own Go release and settings"
    )


def _flag(key: str, value: str | None) -> str | None:
    if not value or value == "false":
        return None
    return key if value == "true" else f"{key}={value}"


def _recipe(
    model: BuildInfo | None,
    plugin: BuildInfo | None,
    *,
    buildmode: str = "plugin",
    target: Target | None = None,
) -> tuple[str | None, dict[str, str], list[str]]:
    """(toolchain, env, build flags) of a build like *model*, set on top of *plugin*'s own build.

    The plugin's own ``-ldflags`` are kept (they do not change fingerprints); everything that does is
    *model*'s. *target* overrides GOOS/GOARCH (the wrong-platform fix).
    """
    toolchain = split_version(model.go_version)[0] if model is not None else None
    flags = [f"-buildmode={buildmode}"]
    if model is not None:
        # a -gcflags/-asmflags without a package pattern reached only the model's own main package: not copied
        # into another file's build (a file rebuilt like itself keeps its own flags)
        against = model if plugin is None or plugin is model else plugin
        flags += [
            f
            for key in FINGERPRINT_FLAGS
            if (f := _flag(key, setting(model, key) if against is model else effective_setting(model, key, against)))
            is not None
        ]
        if model is not plugin and plugin is not None and setting(plugin, "-pgo") and not setting(model, "-pgo"):
            flags.append("-pgo=off")  # the model has no profile; go build would use the plugin's default.pgo
    own_ldflags = plugin.setting("-ldflags") if plugin is not None else None
    if own_ldflags:
        flags.append(f"-ldflags={own_ldflags}")
    env = {"CGO_ENABLED": "1"}
    for key in FINGERPRINT_ENV:
        if key == "CGO_ENABLED":
            continue
        want = setting(model, key) if model is not None else None
        if target is not None and key in ("GOOS", "GOARCH"):
            want = target.name.split("/")[0 if key == "GOOS" else 1]
        have = setting(plugin, key) if plugin is not None else None
        if want is not None and (want or "") != (have or ""):
            env[key] = want
        elif model is not None and want is None and have and key in ("GOEXPERIMENT",):
            env[key] = ""  # the plugin has experiments the model has not: unset them
    return toolchain, env, flags


def _difference_steps(diffs: Sequence[SettingDifference], label: str) -> list[str]:
    out = []
    for d in diffs:
        if d.key == "go":
            out.append(
                f"Build with {d.other}: the plugin was built with {d.plugin}, and a plugin must be built by the "
                f"{label}'s Go release."
            )
        elif d.key == "-pgo":
            if d.other:
                out.append(
                    f"Build with the {label}'s profile, -pgo={d.other}: the {label} was built with that file "
                    f"(profile-guided optimization changes the standard library too); the plugin's builder needs "
                    f"a copy of it{' (the plugin used ' + d.plugin + ')' if d.plugin else ''}: pass its path."
                )
            else:
                out.append(
                    f"Build with -pgo=off: the {label} was built without a profile, and the plugin used {d.plugin} "
                    "(go build uses a default.pgo in the main package's directory unless told otherwise)."
                )
        elif d.key in ("-race", "-msan", "-asan", "-trimpath"):
            if d.other == "true":
                out.append(f"Add {d.key}: the {label} was built with it.")
            else:
                out.append(f"Drop {d.key}: the {label} was built without it.")
        elif d.key in FINGERPRINT_FLAGS:
            if d.other:
                out.append(f"Use {d.key}={d.other!r} as the {label} does (the plugin has {d.plugin or 'none'}).")
            else:
                out.append(f"Drop {d.key}={d.plugin!r}: the {label} was built without it.")
        elif not d.other:
            out.append(f"Unset {d.key}: the {label} has none (the plugin has {d.plugin}).")
        else:
            out.append(f"Set {d.key}={d.other} as the {label} has it (the plugin has {d.plugin or 'none'}).")
    return out


def _module_edits(
    diffs: Sequence[ModuleDifference], label: str, ob: BuildInfo, plugin_dir: str | None
) -> tuple[list[str], list[str], bool]:
    """(go mod edit commands, steps, every difference has a recipe). Each command runs in the plugin's
    module directory: a directory the other side builds from is given relative to *plugin_dir* (the plugin's
    module directory, when known), else as the absolute directory the other side recorded; a directory it
    did not record (-trimpath) gets no command."""
    edits: list[str] = []
    steps: list[str] = []
    complete = True
    for d in diffs:
        pm, om = d.plugin, d.other
        if d.kind == "only_plugin":
            steps.append(f"Module {d.path} is in the plugin's build info but not the {label}'s.")
            complete = False
            continue
        if d.kind == "only_other" or om is None:
            steps.append(
                f"Module {d.path} is in the {label}'s build info but not the plugin's: build the plugin "
                f"against the {label}'s {d.path}."
            )
            complete = False
            continue
        if d.kind == "content":
            steps.append(
                f"Module {d.path} {om.version} has different content on the two sides (sum {pm.sum if pm else '?'} "
                f"vs {om.sum}): fetch it from the same source as the {label} (GOPROXY, GOPRIVATE, vendor/)."
            )
            complete = False
            continue
        if d.kind == "vendor":
            if pm is not None and not pm.sum:
                steps.append(
                    f"The plugin built {d.path} from its vendor/ directory (-mod=vendor records no sum), the {label} "
                    "from the module cache: build the plugin with -mod=mod, from the same module cache "
                    f"(GOMODCACHE) as the {label}."
                )
            else:
                steps.append(
                    f"The {label} built {d.path} from its vendor/ directory (-mod=vendor records no sum), the plugin "
                    f"from the module cache: build the plugin from the {label}'s module tree with -mod=vendor (its "
                    f"package inside the {label}'s module, so that both read the same vendor/), or build both with "
                    "-trimpath."
                )
                complete = False
            continue
        r = om.replace
        if is_local_source(om):
            edit, step = _local_replace(d.path, r.path if r is not None else "", ob, label, plugin_dir)
            steps.append(step)
            if edit is None:
                complete = False
            else:
                edits.append(edit)
            if om.version != "(devel)" and (pm is None or pm.version != om.version):
                edits.append(f"go mod edit -require={d.path}@{om.version}")
            continue
        if r is not None:
            if r.version:
                edits.append(f"go mod edit -replace={d.path}={r.path}@{r.version}")
                steps.append(f"Replace {d.path} by {r.path} {r.version}, as the {label} does.")
            if om.version and om.version != "(devel)" and (pm is None or pm.version != om.version):
                edits.append(f"go mod edit -require={d.path}@{om.version}")
            continue
        if pm is not None and pm.replace is not None:
            edits.append(f"go mod edit -dropreplace={d.path}")
            steps.append(f"Drop the plugin's replacement of {d.path}: the {label} uses {d.path} {om.version}.")
        if om.version == "(devel)":
            steps.append(
                f"The {label} builds {d.path} from its own source tree (version (devel)): build the plugin against "
                f"that same source (a replace directive pointing at the {label}'s checkout)."
            )
            complete = False
            continue
        edits.append(f"go mod edit -require={d.path}@{om.version}")
        if pm is not None and pm.version != om.version:
            steps.append(f"Require {d.path} {om.version}, as the {label} does (the plugin has {pm.version}).")
    if any("-require=" in e or "@" in e.partition("-replace=")[2] for e in edits):
        steps.append(
            "Then run `go mod download` for those modules (or build with -mod=mod) so that go.sum records them; "
            "check with `go version -m` on the new plugin that each module has the version above."
        )
    return edits, steps, complete


def _local_replace(
    module: str, spelled: str, ob: BuildInfo, label: str, plugin_dir: str | None
) -> tuple[str | None, str]:
    """(the ``go mod edit -replace`` command, or None if no command can be right; the step) that makes the
    plugin build *module* from the directory the other side built it from (*spelled*: its replacement as its
    go.mod writes it; empty for a module of its go.work workspace)."""
    how = f"{spelled} in its go.mod" if spelled else "a module of its go.work workspace"
    target = ob.dir_of(module) if not trimmed(ob) else None
    if target is None and spelled.startswith("/"):
        target = spelled
    if target is None:
        where = f"the local directory {spelled}, relative to the {label}'s own module directory" if spelled else how
        return None, (
            f"The {label} builds {module} from {where}, which its build does not record (-trimpath): in the "
            f"plugin's module, point the replacement at that same directory, `go mod edit -replace={module}=DIR` "
            "with DIR its path relative to the plugin's module (or absolute)."
        )
    if plugin_dir is None:
        return f"go mod edit -replace={module}={target}", (
            f"The {label} builds {module} from the directory {target} ({how}): replace it by that same directory "
            "(an absolute path works from any directory)."
        )
    rel = posixpath.relpath(target, plugin_dir)
    rel = rel if rel.startswith("../") or rel == ".." else f"./{rel}"
    return f"go mod edit -replace={module}={rel}", (
        f"The {label} builds {module} from the directory {target} ({how}): replace it by that same directory, "
        f"{rel} from the plugin's module {plugin_dir}."
    )


def plugin_module_dir(f: FileFacts, pb: BuildInfo | None, given: str | None = None) -> str | None:
    """The plugin's module directory: *given* (``--plugin-module``), else the absolute directory the plugin's
    untrimmed build records for its main module, or (a plugin built from files) the directory of its
    package, or the nearest parent of it, from which the plugin's own relative replacements resolve to the
    directories it recorded for them; None if nothing says."""
    if given:
        return posixpath.normpath(given)
    if pb is None or trimmed(pb) or f.elf is None or f.go is None:
        return None
    if pb.main is not None:
        known = pb.dir_of(pb.main.path)
        return known or module_dir(package_dirs(f.elf, f.go.pclntab, (pb.main.path,)), pb.main.path)
    own = package_dirs(f.elf, f.go.pclntab, (f.pluginpath,)).get(f.pluginpath or "") if f.pluginpath else None
    relative = [
        (m.replace.path, where)
        for m in pb.deps
        if m.replace is not None and m.replace.path.startswith(".") and (where := pb.dir_of(m.path)) is not None
    ]
    candidate = own
    while relative and candidate and candidate != "/":
        if all(posixpath.normpath(posixpath.join(candidate, s)) == w for s, w in relative):
            return candidate
        candidate = posixpath.dirname(candidate)
    return None


def _build_step(toolchain: str | None, env: Mapping[str, str], flags: Sequence[str], what: str = "plugin") -> str:
    envs = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    cmd = " ".join(["go", "build", *(shlex.quote(x) for x in flags), "-o", "OUTPUT", "."])
    tc = f" with {toolchain}" if toolchain else ""
    return f"Rebuild the {what}{tc}: {envs + ' ' if envs else ''}{cmd}"


def _rebuild_fix(
    steps: Sequence[str], recipe: tuple[str | None, dict[str, str], list[str]], basis: str, what: str = "plugin"
) -> Fix:
    """A known fix whose last step is the ``go build`` command of *recipe* (toolchain, env, flags)."""
    toolchain, env, flags = recipe
    return Fix(
        "host" if what == "host" else "plugin",
        True,
        toolchain=toolchain,
        env=env,
        build_flags=tuple(flags),
        steps=(*steps, _build_step(toolchain, env, flags, what)),
        basis=basis,
    )


def _fingerprint_fix(
    f: FileFacts,
    v: Verdict,
    host: HostModel | None,
    providers: Mapping[str, FileFacts],
    pb: BuildInfo | None,
    basis: str,
    plugin_module: str | None = None,
) -> Fix:
    """Packages whose fingerprints differ: build like whoever provides them (the host, or an earlier plugin)."""
    by_provider: dict[str, list[str]] = {}
    for m in v.mismatches:
        by_provider.setdefault(m.provider, []).append(m.package)
    if len(by_provider) != 1:
        return _unknown(
            "the mismatching packages come from several files ("
            + ", ".join(sorted(by_provider))
            + "): no one build matches them all; build the host and every plugin with the same release, settings "
            "and module versions",
            basis,
        )
    provider, packages = next(iter(by_provider.items()))
    label = "host" if provider == "host" else f"earlier plugin {provider}"
    ob = (host.buildinfo if host is not None else None) if provider == "host" else _bi(providers.get(provider))
    if pb is None or ob is None:
        return _unknown(f"build info is missing on one side (the plugin or the {label}): the cause is unknown", basis)
    settings = setting_differences(pb, ob)
    modules: dict[str, ModuleDifference] = {}
    unexplained = []
    for pkg in packages:
        md = module_difference(pkg, pb, ob)
        if md is not None:
            modules.setdefault(md.path, md)
        elif not settings:
            unexplained.append(pkg)
    if unexplained and not modules:
        return _unknown(
            f"{len(unexplained)} package(s) differ ({_names(unexplained)}) but the build info of the plugin and "
            f"the {label} agrees on the Go release, the settings and their modules: what differs is not "
            "recorded (source files, a modified GOROOT, or paths on disk without -trimpath)",
            basis if provider == "host" else f"the build info of the {label}",
        )
    toolchain, env, flags = _recipe(ob, pb)
    edits, module_steps, complete = _module_edits(
        list(modules.values()), label, ob, plugin_module_dir(f, pb, plugin_module)
    )
    if any(m.kind == "vendor" and m.plugin is not None and not m.plugin.sum for m in modules.values()):
        flags.append("-mod=mod")  # the plugin's vendor/ is another directory than the module cache the host read
    steps = [*_difference_steps(settings, label), *module_steps]
    if unexplained:
        complete = False
        steps.append(
            f"For {_names(unexplained)} the build info of both sides agrees: soinspect cannot tell what else differs."
        )
    steps.append(_build_step(toolchain, env, flags))
    return Fix(
        "plugin",
        complete,
        toolchain=toolchain,
        env=env,
        build_flags=tuple(flags),
        go_mod_edits=tuple(edits),
        steps=tuple(steps),
        basis=basis if provider == "host" else f"the build info of the {label}, which provides the packages first",
    )


def _names(pkgs: Sequence[str], limit: int = 3) -> str:
    shown = ", ".join(pkgs[:limit])
    return shown + (f" and {len(pkgs) - limit} more" if len(pkgs) > limit else "")


# -- the other rejections -------------------------------------------------------------------------------


def _unknown(why: str, basis: str) -> Fix:
    return Fix("none", False, steps=(f"Cause unknown: {why}.",), basis=basis)


def _host_fix(host: HostModel, hb: BuildInfo | None, basis: str) -> Fix:
    assert host.refusal is not None
    if hb is None:
        return Fix(
            "host",
            True,
            steps=(
                f"The host {host.name} is not a Go program: only a Go program that imports package plugin, "
                "built with cgo, can load Go plugins.",
            ),
            basis=basis,
        )
    toolchain, _env, flags = _recipe(hb, hb, buildmode=hb.setting("-buildmode") or "exe")
    flags = [x for x in flags if x != "-buildmode=exe"]
    if host.refusal[1] == NOT_IMPLEMENTED:
        return _rebuild_fix(
            [
                f"The host {host.name} was built with CGO_ENABLED=0: its plugin package is a stub that answers "
                "'plugin: not implemented' for every file.",
                "Rebuild the host with CGO_ENABLED=1 (a C compiler such as gcc must be installed); the plugins "
                "then need no change.",
            ],
            (toolchain, {"CGO_ENABLED": "1"}, flags),
            basis,
            "host",
        )
    return Fix(
        "host",
        True,
        steps=(
            f"The host {host.name} does not link package plugin, so it never calls plugin.Open: the program that "
            "should load the plugins is another one, or it must import \"plugin\".",
        ),
        basis=basis,
    )


def _dlopen_fix(
    f: FileFacts, why: str, target: Target, pb: BuildInfo | None, hb: BuildInfo | None, basis: str, given: bool
) -> Fix:
    h = f.header
    own = target_for(h.elf_class, h.data_encoding, h.machine) if h is not None else None
    is_platform = h is not None and (
        (h.elf_class, h.data_encoding, h.machine) != (target.elf_class, target.data_encoding, target.machine)
    )
    if is_platform:
        what = own.name if own is not None else f"ELF machine {h.machine if h else '?'}"
        # "the host runs on" only for a --host; without one the platform is the target, never a host's
        where = f"the host runs on {target.name}" if given else f"the target is {target.name}"
        if pb is None:
            return Fix(
                "plugin",
                True,
                steps=(
                    f"The file is for {what}, {where}: use a build of it for {target.name}.",
                ),
                basis=basis,
            )
        return _rebuild_fix(
            [
                f"The plugin is built for {what}, {where}: rebuild it for {target.name} "
                f"with GOOS and GOARCH set, cgo on, and a C compiler for {target.name} (CC)."
            ],
            _recipe(hb or pb, pb, target=target),
            basis,
        )
    if f.kind in ("go-exe", "go-pie", "go-c-shared", "go-shared", "go-other") and pb is not None:
        return _rebuild_as_plugin(f, pb, hb, basis)
    if f.kind in ("executable", "pie-executable", "c-shared", "elf-other"):
        return _not_go(f, basis)
    if f.invalid is not None and f.invalid.kind == "not-elf":  # an HTML page, an archive, an LFS pointer, ...
        step, build = not_elf_fix(f.invalid.problem)
        return Fix("plugin" if build else "none", True, steps=(step,), basis=basis)
    return Fix(
        "plugin",
        True,
        steps=(f"The file is damaged or was altered after the build ({why}): rebuild it, or copy it again whole.",),
        basis=basis,
    )


def _rebuild_as_plugin(f: FileFacts, pb: BuildInfo, hb: BuildInfo | None, basis: str) -> Fix:
    mode = pb.setting("-buildmode") or "?"
    return _rebuild_fix(
        [
            f"The file is a Go {f.kind.removeprefix('go-')} (built with -buildmode={mode}), not a plugin: build its "
            "package main with -buildmode=plugin."
        ],
        _recipe(hb or pb, pb),
        basis,
    )


def _not_go(f: FileFacts, basis: str) -> Fix:
    return Fix(
        "plugin",
        True,
        steps=(
            f"The file is not a Go plugin ({f.kind}): plugin.Open only loads Go packages main built with "
            "-buildmode=plugin. A C library is loaded with cgo or dlopen instead.",
        ),
        basis=basis,
    )


def _c_library_fix(f: FileFacts, dyn: DynamicResolution, host: HostModel | None, basis: str) -> Fix | None:
    """A plugin built for one C library (musl or glibc) given to the other's loader: rebuild it with the
    host's C toolchain. (Installing the other C library does not help: glibc finds musl's ``libc.so`` as
    its own linker script, and musl answers every ``libc.*`` name with itself.)"""
    if f.elf is None:
        return None
    built = loader_of_plugin(f.elf)
    if built.flavor == dyn.loader.flavor:
        return None
    cc = "musl-gcc" if dyn.loader.musl else "gcc"
    interp = dyn.loader.interp
    where = f"the host's loader {interp}" if host is not None and interp else "the target's loader"
    return Fix(
        "plugin",
        True,
        env={"CGO_ENABLED": "1", "CC": cc},
        steps=(
            f"The plugin was built for {built.flavor} ({built.why.split(': ')[0]}), and {where} is "
            f"{dyn.loader.flavor}'s: dlopen fails: {dyn.error}.",
            f"Rebuild the plugin with the host's C toolchain ({dyn.loader.flavor}: CC={cc}, or the host's own "
            f"build image, such as its {'Alpine' if dyn.loader.musl else 'glibc'} builder), with CGO_ENABLED=1 and "
            "the host's Go release and flags.",
        ),
        basis=basis,
    )


def _symbol_fix(f: FileFacts, b: Binding, dyn: DynamicResolution | None, host: HostModel | None, basis: str) -> Fix:
    """An undefined symbol that binds nowhere: say which side must provide it."""
    name, version, requirer = b.unbound[0]
    names = ", ".join(sorted({n for n, _, _ in b.unbound}))
    steps = [f"dlopen fails: {b.error}. {requirer} calls {name}" + (f" at version {version}" if version else "")
             + f", and no object in the process defines it (all that bind nowhere: {names})."]
    if version is not None and b.loader != "musl":
        steps.append(
            f"If a library in the process defines {name} at another version, build the plugin against the library "
            "the host system has (the same or an older release), so that it asks for a version that exists."
        )
    built = loader_of_plugin(f.elf) if f.elf is not None else None
    if built is not None and built.flavor != b.loader:
        cc = "musl-gcc" if b.loader == "musl" else "gcc"
        steps.append(
            f"The plugin was built for {built.flavor} and the host runs {b.loader}'s loader: if {name} is a C "
            f"library function, rebuild the plugin with the host's C toolchain (CGO_ENABLED=1 CC={cc}, or the "
            "host's build image)."
        )
    who = "the host" if host is not None else "the host that loads it"
    steps.append(
        f"Provide {name}: export it from {who} (define it in the host's cgo and link the host with -rdynamic, "
        f"#cgo LDFLAGS: -rdynamic, or //export {name} from its Go code), link the plugin against the library that "
        f"defines it (CGO_LDFLAGS=-lNAME, with RUNPATH $ORIGIN if it ships beside the plugin), or stop calling it."
    )
    return Fix("none", True, steps=tuple(steps), basis=basis)


def _library_fix(f: FileFacts, dyn: DynamicResolution, basis: str) -> Fix:
    assert dyn.error is not None
    missing = next((lib for lib in dyn.libraries if lib.path is None), None)
    if missing is not None:
        d = f.dynamic
        places = []
        if d is not None and d.runpath:
            places.append("its RUNPATH " + ":".join(d.runpath))
        elif d is not None and d.rpath:
            places.append("its RPATH " + ":".join(d.rpath))
        if dyn.loader.musl:
            places.append(f"musl's path file (/etc/ld-musl-*.path) or its default /lib:/usr/local/lib:/usr/lib "
                          f"in {dyn.sysroot or '/'}")
        else:
            places.append(f"the loader cache and default directories of {dyn.sysroot or '/'}")
        return Fix(
            "none",
            True,
            steps=(
                f"dlopen cannot find {missing.needed}, a shared library that {missing.required_by} needs "
                f"(DT_NEEDED); it searched {', then '.join(places)} (and LD_LIBRARY_PATH of the host process).",
                f"Install {missing.needed} where the loader looks "
                f"({'a directory of that path list' if dyn.loader.musl else 'then run ldconfig'}), start the host with "
                f"LD_LIBRARY_PATH naming its directory, or link the plugin with a RUNPATH that finds it "
                "(CGO_LDFLAGS='-Wl,-rpath,$ORIGIN' with the library beside the plugin).",
            ),
            basis=f"the library search in {dyn.sysroot or '/'}",
        )
    return Fix(
        "none",
        True,
        steps=(
            f"dlopen fails: {dyn.error}. A library the plugin needs is older than the one it was linked against: "
            "build the plugin on a system with the host system's libraries (the same or an older glibc), or "
            "update the host system.",
        ),
        basis=f"the library search in {dyn.sysroot or '/'}",
    )


def _module_data_fix(
    f: FileFacts, v: Verdict, host: HostModel | None, pb: BuildInfo | None, hb: BuildInfo | None, basis: str
) -> Fix:
    go = f.go
    if f.kind != "go-plugin" or go is None or go.moduledata is None or not go.has_addmoduledata_init:
        if pb is not None and f.kind.startswith("go-"):
            return _rebuild_as_plugin(f, pb, hb, basis)
        return _not_go(f, basis)
    chain = _chain_fix(f, v, host, pb, hb, basis)
    if chain is not None:
        return chain
    return _unknown(f"the host dies loading it ({v.reason}), and the Go releases of both sides agree", basis)


def _chain_fix(
    f: FileFacts, v: Verdict, host: HostModel | None, pb: BuildInfo | None, hb: BuildInfo | None, basis: str
) -> Fix | None:
    """The host's module chain did not get this plugin: a second name of a mapped file, an earlier file that
    broke the chain, or another Go release (different ``runtime.moduledata`` layouts); None if none of these."""
    if "already mapped under another name" in v.reason:
        return Fix(
            "none",
            True,
            steps=("This file was already loaded under another name (a hard link): load it once.",),
            basis=basis,
        )
    if "an earlier library broke" in v.reason:
        return Fix(
            "other",
            True,
            steps=(
                "An earlier file loaded into this host registered its module data where this host's runtime does "
                "not look, so the host can no longer see any plugin: fix that file first.",
            ),
            basis=basis,
        )
    if host is None or hb is None:
        return None
    go = f.go
    layouts_differ = go is not None and None not in (go.next_offset, host.next_offset) and (
        go.next_offset != host.next_offset
    )
    releases_differ = pb is not None and split_version(pb.go_version)[0] != split_version(hb.go_version)[0]
    if not (layouts_differ or releases_differ):
        return None
    hv = split_version(hb.go_version)[0]
    if pb is not None:
        steps = _difference_steps(setting_differences(pb, hb), "host")
    else:
        steps = [
            f"The plugin's runtime lays out its module data differently from the host's {hv}: it was built by "
            f"another Go release (its build info does not say which). Build it with {hv}, the host's release."
        ]
    return _rebuild_fix(steps, _recipe(hb, pb), basis)


def _already_loaded_fix(
    f: FileFacts,
    v: Verdict,
    host: HostModel | None,
    pb: BuildInfo | None,
    hb: BuildInfo | None,
    basis: str,
    providers: Mapping[str, FileFacts],
) -> Fix:
    pp = f.pluginpath
    if "already loaded in this process" in v.reason and pp:
        earlier = _earlier_with_path(f, pp, providers)
        if earlier is not None and _same_build(f, earlier):
            return Fix(
                "none",
                True,
                steps=(
                    f"This file is the same build as {earlier.path}, already loaded (plugin path {pp}, "
                    f"{'the same content' if f.sha256 == earlier.sha256 else 'the same Go build ID'}): load it "
                    "once; remove the duplicate file (or do not pass it to the host).",
                ),
                basis=basis,
            )
        first = (
            f"Another build with the plugin path {pp} is already loaded in this process"
            + (f" ({earlier.path})" if earlier is not None else "")
            + ": each plugin needs a plugin path of its own, and a plugin built from a package gets the package's "
            "import path."
        )
        # -ldflags=-pluginpath=... is no fix: the compiler already named the exported symbols after the
        # package path, so plugin.Open then fails to find them ("could not find symbol ...: undefined
        # symbol"), seen in tests/test_fix_recipes.py. The import path itself must change.
        main = pb.main.path if pb is not None and pb.main is not None else None
        linked = _host_modules(hb)
        if pb is not None and main is not None and not pp.startswith("plugin/unnamed-"):
            toolchain, env, flags = _recipe(hb or pb, pb)
            if pp == main and main not in linked:
                renamed = f"{pp}_2"
                return Fix(
                    "plugin",
                    True,
                    toolchain=toolchain,
                    env=env,
                    build_flags=tuple(flags),
                    go_mod_edits=(f"go mod edit -module={renamed}",),
                    steps=(
                        first,
                        f"The plugin is its module's root package: rename the module (for example to {renamed}), "
                        "and update the module's own imports of the old path if it has any.",
                        _build_step(toolchain, env, flags),
                    ),
                    basis=basis,
                )
            if pp.startswith(main + "/"):
                renamed = f"{pp}_2"
                where = "the host's own module" if main in linked else "a larger module"
                rel = pp[len(main) + 1 :]
                return Fix(
                    "plugin",
                    True,
                    toolchain=toolchain,
                    env=env,
                    build_flags=tuple(flags),
                    package_path=renamed,
                    steps=(
                        first,
                        f"The plugin is the package {pp} inside {where}, {main}: give this build a package directory "
                        f"of its own, {rel}_2/ beside {rel}/ (import path {renamed}), with the changed sources, and "
                        f"build it there; do not rename the module {main}.",
                        f"In {rel}_2/: " + _build_step(toolchain, env, flags),
                    ),
                    basis=basis,
                )
        return Fix(
            "plugin",
            True,
            steps=(
                first,
                "Give its package main an import path of its own (move it to another directory"
                + (", or rename its module" if main is None or main not in linked else "")
                + "), then rebuild it with -buildmode=plugin; two plugins built from files get different "
                "plugin paths when their files or flags differ.",
            ),
            basis=basis,
        )
    if pb is not None and f.kind.startswith("go-") and f.kind != "go-plugin":
        return _rebuild_as_plugin(f, pb, hb, basis)
    if f.kind != "go-plugin":
        return _not_go(f, basis)
    chain = _chain_fix(f, v, host, pb, hb, basis)
    if chain is not None:
        return chain
    return _unknown(v.reason, basis)


def _earlier_with_path(f: FileFacts, pp: str, providers: Mapping[str, FileFacts]) -> FileFacts | None:
    """The file loaded before *f* (in the order given) with the plugin path *pp*."""
    for path, other in providers.items():
        if path == f.path:
            return None
        if other.pluginpath == pp:
            return other
    return None


def _same_build(f: FileFacts, other: FileFacts) -> bool:
    """The same build: the same bytes, or the same Go build ID (a stripped or re-signed copy keeps it)."""
    if f.content == other.content:
        return True
    ids = go_build_id(f), go_build_id(other)
    return ids[0] is not None and ids[0] == ids[1]


def _host_modules(hb: BuildInfo | None) -> set[str]:
    """The modules the host links (its main module and its dependencies): never to be renamed."""
    if hb is None:
        return set()
    return {m.path for m in hb.deps} | ({hb.main.path} if hb.main is not None else set())


def _policy_fix(failed: Sequence[tuple[str, str]], pb: BuildInfo | None, hb: BuildInfo | None, basis: str) -> Fix:
    """A file that loads but that the policy rejects: one step per failed check."""
    steps = []
    toolchain = None
    env: dict[str, str] = {}
    flags: list[str] = []
    rebuild: Rebuild = "plugin"
    for cid, message in failed:
        if cid == "sym.symtab":
            steps.append(
                "The policy (--strict) rejects a stripped plugin: build without -ldflags=-s and do not run strip."
            )
        elif cid == "go.advisory":
            runtime = hb or pb
            found = affecting(split_version(runtime.go_version)[0]) if runtime is not None else ()
            if not found:
                steps.append(f"The policy rejects it: {cid}: {message}.")
                continue
            fixed = max((a.fixed_in for a in found), key=lambda v: parse_release(v) or (0, 0, 0))
            who = "the host and every plugin" if hb is not None else "the plugin and its host"
            rebuild = "host" if hb is not None else "plugin"
            steps.append(
                f"{', '.join(a.id for a in found)} affects {split_version(runtime.go_version)[0] if runtime else '?'}"
                f" (--strict rejects it): rebuild {who} with {fixed} or later."
            )
            toolchain = fixed
            if pb is not None:
                toolchain, env, flags = _recipe(hb or pb, pb)
                toolchain = fixed
                steps.append(_build_step(toolchain, env, flags))
        else:
            steps.append(f"The policy rejects it: {cid}: {message}; pass --ignore {cid} if that is acceptable.")
    return Fix(rebuild, True, toolchain=toolchain, env=env, build_flags=tuple(flags), steps=tuple(steps), basis=basis)
