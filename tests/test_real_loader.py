"""soinspect's verdict agrees with every run of the real Go loader recorded in corpus/observed.json.

Each run is one real host process (built by corpus/build.py) that called plugin.Open on the listed files in
order; corpus/observe.py recorded what happened. soinspect predicts the same: `loadable`, `outcome`, and
`open_error` (the error text, or the first line of the fatal error), with the file's absolute path written as
the placeholders {path} / {path_minus_so}.

One normalisation rule: a SIGBUS inside dlopen is a signal crash whose first line depends on where the signal
lands (Go 1.19 prints `fatal error: unexpected signal during runtime execution`, newer runtimes
`SIGBUS: bus error`); for those runs the outcome (crash) is compared and the line must name the signal class.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import pytest

import corpus
from soinspect.loader import process
from soinspect.verdict import audit as api
from soinspect.verdict.explain import cause_line
from soinspect.verdict.report import Report

RUNS = corpus.observed()


def _run_id(run: dict[str, Any]) -> str:
    return f"{run['host']}:{'+'.join(run['plugins'])}"


def normalise(text: str | None, path: str) -> str | None:
    if text is None:
        return None
    minus = path[:-3] if path.endswith(".so") else path
    return text.replace(f'"{path}"', '"{path}"').replace(f'"{minus}"', '"{path_minus_so}"').replace(path, "{path}")


def predict(run: dict[str, Any]) -> list[Report]:
    return _predict(run["host"], tuple(run["plugins"]))


@cache
def _predict(host: str, plugins: tuple[str, ...]) -> list[Report]:
    """Shared by the two tests that walk every run (the second costs nothing more)."""
    return api.check_host(corpus.path(host), [corpus.path(p) for p in plugins])


@pytest.mark.parametrize("run", RUNS, ids=_run_id)
def test_agrees_with_real_plugin_open(run: dict[str, Any]) -> None:
    reports = predict(run)
    for rep, real in zip(reports, run["results"], strict=True):
        where = f"{run['host']} opening {real['plugin']} (run {_run_id(run)})"
        assert rep.outcome == real["outcome"], f"{where}: predicted {rep.outcome} ({rep.verdict.reason})"
        assert rep.loadable == (real["outcome"] == "ok"), where
        got = normalise(rep.open_error, corpus.path(real["plugin"]))
        if real["outcome"] == "crash" and "signal" in (real["open_error"] or "").lower() + "sigbus":
            assert got is not None and ("SIGBUS" in got or "signal" in got), where
            continue
        assert got == real["open_error"], where


def test_every_plugin_named_in_a_run_exists() -> None:
    named = {p for run in RUNS for p in run["plugins"]} | {run["host"] for run in RUNS}
    missing = named - set(corpus.manifest())
    assert not missing, f"observed.json names files that are not in the manifest: {sorted(missing)}"


@pytest.mark.parametrize("name", [n for n, e in corpus.manifest().items() if e.get("matching_host")], ids=str)
def test_audit_alone_agrees_with_matching_host(name: str) -> None:
    """Without --host, soinspect judges against a host built like the plugin: the matching_host run."""
    entry = corpus.manifest()[name]
    runs = [r for r in RUNS if r["host"] == entry["matching_host"] and r["plugins"] == [name]]
    assert runs, f"no observed run of {name} in its matching host {entry['matching_host']}"
    real = runs[0]["results"][0]
    rep = api.audit(corpus.path(name))
    assert rep.outcome == real["outcome"], rep.verdict.reason
    assert rep.loadable == (real["outcome"] == "ok")


#: what Go or glibc says, as a check may quote it: a check that quotes one says it happens here
_GO_SAYS = re.compile(r"'([^']+)'")


def contradictions(r: Report) -> list[str]:
    """Every way a check or the cause line contradicts the verdict of *r* (empty: none)."""
    v, out = r.verdict, []
    lv = r.check("loader.verdict")
    if lv is None or (lv.status == "pass") != r.loadable:
        out.append(f"loader.verdict {lv and lv.status} but loadable={r.loadable}")
    elif v.open_error is not None and v.open_error not in lv.message:
        out.append(f"loader.verdict says {lv.message!r}, the verdict {v.open_error!r}")
    elif v.outcome == "not_reached" and not lv.message.startswith("not reached"):
        out.append(f"loader.verdict says {lv.message!r} for a file the host never reaches")
    for c in r.checks:
        if c.id != "loader.verdict" and "plugin.Open succeeds" in c.message and v.outcome != "ok":
            out.append(f"{c.id} says plugin.Open succeeds; outcome {v.outcome}")
        if "dies" in c.message and v.outcome != "crash":
            out.append(f"{c.id} says the host dies; outcome {v.outcome}")
        if "dies" in c.message and (v.open_error is None or v.open_error not in c.message):
            out.append(f"{c.id} says {c.message!r}; the host's first line is {v.open_error!r}")
        if c.status == "fail" and c.id != "loader.verdict":
            for quoted in _GO_SAYS.findall(c.message):
                said = quoted.removeprefix("fatal error: ").removeprefix("runtime: ")
                if any(said in text for text in _LOADER_TEXTS) and (v.open_error is None or said not in v.open_error):
                    out.append(f"{c.id} quotes {quoted!r}; plugin.Open here: {v.open_error!r} ({v.outcome})")
    runtime = r.check("host.runtime")
    if runtime is not None and runtime.status == "pass" and v.open_error == process.MISREAD:
        out.append("host.runtime passes, but the host misreads the plugin's module data")
    pp = r.check("host.pluginpath")
    if pp is not None and pp.status == "fail" and not process.duplicate_pluginpath(v):
        out.append(f"host.pluginpath fails; the verdict is {v.open_error!r}: {v.reason}")
    ph = r.check("host.pkghash")
    if ph is not None and (ph.status == "fail") != bool(v.mismatches):
        out.append(f"host.pkghash {ph.status} with {len(v.mismatches)} mismatches")
    why = cause_line(r)
    if not r.loadable and v.outcome != "ok" and "succeeds" in why:
        out.append(f"the cause line says {why!r}; outcome {v.outcome}")
    if ("dies" in why) != (v.outcome == "crash"):
        out.append(f"the cause line says {why!r}; outcome {v.outcome}")
    return out


#: the texts Go's plugin.Open and glibc's dlopen print that a check may quote
_LOADER_TEXTS = (
    process.NO_MODULE_DATA,
    process.EMPTY_PLUGINPATH,
    process.ALREADY_LOADED,
    process.NOT_IMPLEMENTED,
    process.SIGBUS,
    process.DIFFERENT_VERSION,
    "cannot dynamically load position-independent executable",
    "cannot dynamically load executable",
    "only ET_DYN and ET_EXEC can be loaded",
    "ELF file OS ABI invalid",
)


@pytest.mark.parametrize("run", RUNS, ids=_run_id)
def test_no_check_contradicts_the_verdict(run: dict[str, Any]) -> None:
    """Issue 11: a file never reached, a host that dies or says 'plugin already loaded', a truncated file
    that dies with SIGBUS: every check and the cause line agree with the verdict."""
    for rep in predict(run):
        assert not contradictions(rep), f"{_run_id(run)}: {rep.path}: {contradictions(rep)}"
