"""A report's cause in one sentence a Go developer understands, for every renderer.

The verdict's ``reason`` says what the loader model saw, sometimes in runtime internals (the offset of
``moduledata.next``); :func:`cause_line` says it in the user's terms first: a release mismatch names both
releases, a crash says that ``plugin.Open`` returns no error because the host dies, a duplicate plugin path
says so, fingerprint mismatches are stated once per cause. The internals stay in ``reason`` (``-v``, JSON).
"""

from __future__ import annotations

from collections.abc import Sequence

from soinspect.loader.differences import split_go_version
from soinspect.loader.process import ALREADY_LOADED, duplicate_pluginpath, no_host_model
from soinspect.verdict.fix import Fix
from soinspect.verdict.report import CauseGroup, HostInfo, Report

#: how many package names a collapsed group shows besides the one Go names
SHOWN_PACKAGES = 3


_VERDICT_WORDS = {
    "error": "REJECTED",
    "crash": "REJECTED (host crash)",
    "not_reached": "NOT REACHED",
    "unknown": "UNKNOWN",
    "ok": "REJECTED by policy",
}


def verdict_word(r: Report) -> str:
    """``LOADABLE``, ``REJECTED``, ``REJECTED (host crash)``, ``NOT REACHED``, ``UNKNOWN``, ``REJECTED by policy``,
    ``REJECTED by contract``."""
    if r.loadable:
        return "LOADABLE"
    if r.outcome == "ok" and [c.id for c in r.failed] == ["plugin.expect"]:
        return "REJECTED by contract"  # plugin.Open succeeds; the host's type assertion fails
    return _VERDICT_WORDS[r.outcome]


def contract_status(r: Report) -> str | None:
    """The host's contract (``plugin.expect``) for *r*: ``pass``, ``fail``, ``unknown``, or None when no
    contract was given. ``fail`` beside a successful ``plugin.Open`` (``outcome`` ``ok``) is a rejection:
    the host's assertion fails after the plugin loads."""
    c = r.check("plugin.expect")
    return c.status if c is not None else None


def contract_unknown(r: Report) -> str | None:
    """What a loadable *r*'s reader must know: the host's contract is not decided, and why (None if it is
    decided, or there is none)."""
    c = r.check("plugin.expect")
    if c is None or c.status != "unknown":
        return None
    return f"contract unknown: {c.message}"


def cause_line(r: Report) -> str:
    """One sentence: why *r* is rejected (or that it loads), in the user's terms."""
    v = r.verdict
    if r.loadable:
        return "plugin.Open succeeds"
    if v.outcome == "ok":
        return v.reason  # "plugin.Open would succeed, but policy rejects it: ..."
    if v.outcome == "not_reached":
        return f"plugin.Open is never called: {v.reason}"
    if v.outcome == "unknown":
        return f"unknown: {v.reason}"
    if r.host is not None and not r.host.can_load_plugins:
        said = f"; every plugin.Open fails with '{v.open_error}'" if v.open_error else ""
        return f"the host cannot load any plugin: {r.host.refusal}{said}"
    if v.mismatches:
        return mismatch_sentence(r.causes)
    releases = _releases(r)
    if v.open_error is not None and v.open_error.endswith(ALREADY_LOADED):
        if duplicate_pluginpath(v):
            path = r.plugin.pluginpath if r.plugin is not None else None
            return (
                f"duplicate plugin path: a plugin with plugin path {path} is already loaded, and Go loads one "
                "plugin per path"
            )
        if releases is not None:
            return (
                f"plugin built with {releases[0]}, host with {releases[1]}: the host's runtime cannot see a "
                "plugin from another Go release, so Go finds the plugin loaded before it and says 'plugin "
                "already loaded'"
            )
        said = "so Go finds the plugin loaded before it and says 'plugin already loaded'"
        if r.kind != "go-plugin":
            return f"not a Go plugin ({r.kind}): it adds no Go module data, {said}"
        if "runtime.moduledata layouts" in v.reason:
            host = f" ({r.host.go_version})" if r.host is not None and r.host.go_version else ""
            return f"the plugin's Go runtime is from another release than the host's{host}: it is not seen, {said}"
        if "broke the host's module chain" in v.reason:
            return f"an earlier file in this process broke the host's module chain: this one is not seen, {said}"
        return f"the host does not see this file's module data ({v.reason.split('; ', 1)[-1]}), {said}"
    if v.outcome == "crash":
        dies = f"the host process dies ('{v.open_error}'): plugin.Open returns no error and recover cannot catch it"
        if releases is not None:
            p, h = releases
            return f"plugin built with {p}, host with {h}: with a plugin from another Go release {dies}"
        if r.kind != "go-plugin":
            return f"not a Go plugin ({r.kind}): {dies}"
        return f"{dies}: {v.reason}"
    said = (v.open_error or "").rsplit(": ", 1)[-1]
    return f"plugin.Open returns an error: {v.reason}" + (f" ('{said}')" if said and said not in v.reason else "")


def host_line(h: HostInfo) -> str:
    """``./server (from --host): go1.27.3, -trimpath=true, CGO_ENABLED=1, GOAMD64=v1``; a host given as a
    manifest: ``server.json (manifest of server, from --host): ...``."""
    notes = ([f"manifest of {h.manifest_of}"] if h.manifest_of else []) + ([f"from {h.origin}"] if h.origin else [])
    origin = f" ({', '.join(notes)})" if notes else ""
    facts = [h.go_version or "no Go build info", *(f"{k}={v}" for k, v in h.settings)]
    if not h.can_load_plugins:
        facts.append(f"cannot load plugins: {h.refusal}")
    return f"{h.path}{origin}: {', '.join(facts)}"


def fix_brief(fix: Fix) -> str:
    """The fix on one line: the ``go mod edit`` commands, then the last step (the build command, or what
    to do when there is nothing to build); ``unknown`` with what is known when soinspect cannot tell."""
    if not fix.known:
        return "unknown" + (f" ({fix.steps[-1]})" if fix.steps else "")
    return "; ".join([*fix.go_mod_edits, *fix.steps[-1:]]) or "none"


def mismatch_sentence(groups: tuple[CauseGroup, ...]) -> str:
    """``34 packages differ, all because ...``; with several causes, each cause once with its count."""
    total = sum(len(g.packages) for g in groups)
    if total == 1:
        return f"package {groups[0].packages[0]} differs because {groups[0].cause}"
    if len(groups) == 1:
        return f"{total} packages differ, all because {groups[0].cause}"
    return f"{total} packages differ: " + "; ".join(
        f"{_count(g)} because {g.cause}" for g in groups
    )


def collapsed_packages(g: CauseGroup, limit: int = SHOWN_PACKAGES) -> str:
    """The package Go names first, then up to *limit* others, then how many more (``-v`` lists them)."""
    others = [p for p in g.packages if p != g.go_names]
    head = f"Go names {g.go_names}" if g.go_names else ""
    shown = ", ".join(others[:limit])
    rest = len(others) - limit
    tail = f"{shown} and {rest} more" if rest > 0 else shown
    if head and tail:
        return f"{head}; also {tail}"
    return head or tail


def _count(g: CauseGroup) -> str:
    return f"{g.packages[0]}" if len(g.packages) == 1 else f"{len(g.packages)} packages"


def _releases(r: Report) -> tuple[str, str] | None:
    """(plugin's Go release, host's) when they differ in the minor release; None otherwise."""
    hb = r.host.buildinfo if r.host is not None else None
    if r.buildinfo is None or hb is None:
        return None
    p, h = split_go_version(r.buildinfo.go_version)[0], split_go_version(hb.go_version)[0]
    return (p, h) if _minor(p) != _minor(h) else None


def _minor(v: str) -> str:
    return ".".join(v.split(".")[:2])


#: policy.target_source (JSON, SARIF) -> where the target came from, in words
TARGET_SOURCES = {
    "--target": "--target",
    "config": "the config file",
    "environment": "GOOS/GOARCH in the environment",
    "this machine": "this machine, as go env GOOS GOARCH says",
    "--host": "the --host's platform",
}


def target_line(target: str, source: str | None, reports: Sequence[Report] = ()) -> str:
    """The target with no --host, said once in a run's text: ``linux/arm64 (from this machine, ...); no
    --host: judged against a host built like the plugin, on linux/arm64, with glibc's loader``: the C
    library whose loader runs each plugin is the one it was built for (*reports* tell which)."""
    origin = f" (from {TARGET_SOURCES.get(source, source)})" if source else ""
    libcs = sorted({r.loader.flavor for r in reports if r.loader is not None})
    model = no_host_model(target, libcs[0] if len(libcs) == 1 else None)
    if len(libcs) > 1:
        model += f", with the loader of the C library each was built for ({', '.join(libcs)})"
    return f"{target}{origin}; no --host: judged against {model}"
