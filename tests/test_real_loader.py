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

from typing import Any

import pytest

import corpus
from soinspect.verdict import audit as api
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
    return api.check_host(corpus.path(run["host"]), [corpus.path(p) for p in run["plugins"]])


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
