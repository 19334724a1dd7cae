"""Issue 11: a rejection states its cause once, in the user's terms, with the host named and what differs.

Every run goes through the command line on corpus files whose real outcome is recorded in
corpus/observed.json; the JSON outputs are validated against the schema (test_cli.run_json).
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from test_cli import run, run_json

import corpus
from soinspect.cli.command import use_color
from soinspect.errors import SoinspectError

TRIMPATH_CAUSE = "-trimpath is set on the plugin and not on the host"


def test_trimpath_states_the_cause_once_and_names_the_host(capsys: pytest.CaptureFixture[str]) -> None:
    host = corpus.path("host-1.27.3")
    code, out, _ = run(capsys, "--host", host, corpus.path("greet-trimpath.so"))
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == f"host: {host} (from --host): go1.27.3, CGO_ENABLED=1, GOAMD64=v1"
    why = next(line for line in lines if line.startswith("  why: "))
    assert why.startswith(f"  why: 34 packages differ, all because {TRIMPATH_CAUSE}")
    assert out.count("file paths are part of the fingerprint") == 1, out
    assert "Go names internal/goarch; also internal/abi, internal/byteorder, internal/goos and 30 more" in out
    assert "internal/synctest" not in out  # collapsed: only -v lists every package
    assert any(line.split() == ["-trimpath", "true", "unset"] for line in lines), out
    assert len(lines) < 30, f"{len(lines)} lines for one file"
    _, verbose, _ = run(capsys, "-v", "--host", host, corpus.path("greet-trimpath.so"))
    assert "internal/synctest" in verbose and verbose.count("file paths are part of the fingerprint") == 1


def test_race_host_shows_its_flag_and_the_cause(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--host", corpus.path("host-1.27.3-race"), corpus.path("greet.so"))
    assert code == 1
    assert out.splitlines()[0].endswith(": go1.27.3, -race=true, CGO_ENABLED=1, GOAMD64=v1")
    assert "  why: 7 packages differ, all because -race is set on the host and not on the plugin" in out


def test_release_mismatch_in_the_users_terms(capsys: pytest.CaptureFixture[str]) -> None:
    args = ("--host", corpus.path("host-1.27.3"), corpus.path("greet-1.26.6.so"))
    code, out, _ = run(capsys, *args)
    assert code == 1
    assert "  why: plugin built with go1.26.6, host with go1.27.3: with a plugin from another Go release" in out
    assert "recover cannot catch it" in out
    assert "moduledata+" not in out and "0x230" not in out  # runtime internals: -v and JSON only
    assert any(line.split() == ["Go", "release", "go1.26.6", "go1.27.3"] for line in out.splitlines())
    _, verbose, _ = run(capsys, "-v", *args)
    assert "  detail: its runtime stores the module link at moduledata+0x248" in verbose
    _, doc = run_json(capsys, *args)
    r = doc["results"][0]
    assert "moduledata+0x248" in r["reason"] and r["why"].startswith("plugin built with go1.26.6, host with go1.27.3")
    assert r["differences"] == [{"field": "Go release", "plugin": "go1.26.6", "host": "go1.27.3"}]


def test_duplicate_plugin_path_in_the_users_terms(capsys: pytest.CaptureFixture[str]) -> None:
    first, second_so = corpus.path("pluginA-1.so"), corpus.path("pluginA-2.so")
    _, doc = run_json(capsys, "--host", corpus.path("host-1.27.3"), first, second_so)
    second = doc["results"][1]
    assert second["open_error"].endswith("plugin already loaded")
    assert second["why"].startswith("duplicate plugin path: a plugin with plugin path example.com/pluginA is already")


def test_json_groups_causes_and_lists_every_package(capsys: pytest.CaptureFixture[str]) -> None:
    _, doc = run_json(capsys, "--host", corpus.path("host-1.27.3"), corpus.path("greet-trimpath.so"))
    r = doc["results"][0]
    assert doc["schema_version"] == "1.2"
    assert len(r["causes"]) == 1
    group = r["causes"][0]
    assert group["cause"].startswith(TRIMPATH_CAUSE) and group["go_names"] == "internal/goarch"
    assert group["packages"] == [m["package"] for m in r["mismatches"]] and len(group["packages"]) == 34
    assert r["host"]["settings"] == {"CGO_ENABLED": "1", "GOAMD64": "v1"} and r["host"]["origin"] == "--host"
    assert {"field": "-trimpath", "plugin": "true", "host": "unset"} in r["differences"]


def test_dependency_difference_side_by_side(capsys: pytest.CaptureFixture[str]) -> None:
    _, doc = run_json(capsys, "--host", corpus.path("host-1.27.3-dep"), corpus.path("usedep-v2.so"))
    r = doc["results"][0]
    assert {
        "field": "module example.com/dep",
        "plugin": "v1.0.0 => ../dep-v2 (devel)",
        "host": "v1.0.0 => ../dep-v1 (devel)",
    } in r["differences"]
    assert r["causes"][0]["packages"] == ["example.com/dep"]


def test_host_from_the_config_file_says_so(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = tmp_path / "soinspect.toml"
    cfg.write_text(f"host = {json.dumps(corpus.path('host-1.27.3'))}\n")
    monkeypatch.chdir(tmp_path)
    _, out, _ = run(capsys, "--config", str(cfg), corpus.path("greet.so"))
    assert out.splitlines()[0].startswith(f"host: {corpus.path('host-1.27.3')} (from {cfg}): go1.27.3")


def test_markdown_has_one_row_per_cause_and_sarif_carries_the_cause(capsys: pytest.CaptureFixture[str]) -> None:
    args = ("--host", corpus.path("host-1.27.3"), corpus.path("greet-trimpath.so"))
    _, md, _ = run(capsys, "--format", "markdown", *args)
    assert md.count("file paths are part of the fingerprint") == 2  # the why column and the one cause row
    assert "| 34: Go names internal/goarch" in md
    _, sarif, _ = run(capsys, "--format", "sarif", *args)
    messages = [res["message"]["text"] for res in json.loads(sarif)["runs"][0]["results"]]
    assert messages and all(f"Cause: 34 packages differ, all because {TRIMPATH_CAUSE}" in m for m in messages)
    fix = ". Fix: Rebuild the plugin with go1.27.3: CGO_ENABLED=1 go build -buildmode=plugin -o OUTPUT ."
    assert all(m.endswith(fix) for m in messages)


def test_line_format_is_one_line_per_path(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    for name in ("greet.so", "greet-trimpath.so", "greet-1.26.6.so", "go-exe", "not-elf.txt"):
        (plugins / name).write_bytes(Path(corpus.path(name)).read_bytes())
    odd = plugins / "two\nlines.so"
    odd.write_bytes(Path(corpus.path("greet.so")).read_bytes())
    host = corpus.path("host-1.27.3")
    code, out, _ = run(capsys, "--format", "line", "--host", host, "--each", str(plugins))
    assert code == 1
    lines = out.splitlines()
    assert len(lines) == 6, out  # five files judged, one skipped (not-elf.txt is no ELF and no *.so)
    by_name = {line.split(": ", 1)[0].rsplit("/", 1)[1]: line.split(": ", 1)[1] for line in lines}
    assert by_name["greet.so"] == "LOADABLE (go-plugin)"
    assert by_name["two\\nlines.so"] == "LOADABLE (go-plugin)"
    assert by_name["greet-trimpath.so"].startswith(
        f"REJECTED (go-plugin): 34 packages differ, all because {TRIMPATH_CAUSE}"
    )
    assert by_name["greet-1.26.6.so"].startswith(
        "REJECTED (host crash) (go-plugin): plugin built with go1.26.6, host with go1.27.3"
    )
    rebuild = "; fix: Rebuild the plugin with go1.27.3: CGO_ENABLED=1 go build -buildmode=plugin -o OUTPUT ."
    assert by_name["greet-1.26.6.so"].endswith(rebuild) and by_name["greet-trimpath.so"].endswith(rebuild)
    assert by_name["not-elf.txt"] == "SKIPPED: not ELF"
    code, out, _ = run(capsys, "--format", "line", str(tmp_path / "missing.so"), corpus.path("greet.so"))
    assert code == 2 and out.splitlines()[1].endswith("missing.so: NOT JUDGED (missing): no such file")


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("choice", "tty", "env", "want"),
    [
        ("auto", True, {}, True),
        ("auto", False, {}, False),
        ("auto", True, {"NO_COLOR": "1"}, False),
        ("auto", True, {"NO_COLOR": ""}, True),  # no-color.org: set to a non-empty value
        ("auto", True, {"TERM": "dumb"}, False),
        ("always", False, {"NO_COLOR": "1"}, True),
        ("never", True, {}, False),
    ],
)
def test_color_choice(choice: str, tty: bool, env: dict[str, str], want: bool) -> None:
    assert use_color(choice, _Tty() if tty else io.StringIO(), env) is want


def test_color_only_when_asked_and_never_in_files(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    args = ("--host", corpus.path("host-1.27.3"), corpus.path("greet-trimpath.so"), corpus.path("greet.so"))
    _, plain, _ = run(capsys, *args)
    assert "\x1b[" not in plain  # captured stdout is not a terminal
    out_file = tmp_path / "log.txt"
    _, painted, _ = run(capsys, "--color", "always", "--output", f"line={out_file}", *args)
    assert "\x1b[31mREJECTED\x1b[0m" in painted and "\x1b[32mok\x1b[0m" in painted
    assert re.sub(r"\x1b\[[0-9;]*m", "", painted) == plain  # colour changes nothing else, alignment included
    assert "\x1b[" not in out_file.read_text()
    _, line, _ = run(capsys, "--format", "line", "--color", "always", *args)
    assert "\x1b[32mLOADABLE\x1b[0m (go-plugin)" in line


def test_several_differing_settings_are_all_named(capsys: pytest.CaptureFixture[str]) -> None:
    """A -trimpath plugin in a -race host: the first differing setting is the cause given, and the other
    is named with it (either may be what changed a given package)."""
    _, doc = run_json(capsys, "--host", corpus.path("host-1.27.3-race"), corpus.path("greet-trimpath.so"))
    (group,) = doc["results"][0]["causes"]
    assert group["cause"].startswith("-race is set on the host and not on the plugin")
    assert group["cause"].endswith("(-trimpath also differs)")


_CELL = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=12).map(str.strip)
_WORDS = st.lists(
    st.text(st.sampled_from("ab-_.: "), min_size=0, max_size=14), min_size=0, max_size=8
).map(lambda words: " ".join(words).strip())


@st.composite
def _plain_tables(draw: st.DrawFn) -> tuple[list[str], list[list[str]], list[int | None]]:
    n = draw(st.integers(1, 4))
    headers = draw(st.lists(_CELL, min_size=n, max_size=n))
    widths = draw(st.lists(st.one_of(st.none(), st.integers(1, 30)), min_size=n, max_size=n))
    cells = st.one_of(_CELL, _WORDS)
    rows = draw(st.lists(st.lists(cells, min_size=n, max_size=n), min_size=1, max_size=6))
    return headers, rows, widths


@settings(max_examples=400)
@given(_plain_tables())
def test_plain_table_layout_is_tabulates(table: tuple[list[str], list[list[str]], list[int | None]]) -> None:
    """output.table lays out plain tables itself (a fraction of tabulate's time in a scan): the text must be
    tabulate's own, cell for cell, with and without wrapping: spaces, hyphens and empty cells included."""
    from tabulate import tabulate

    from soinspect.output import table as t

    headers, rows, widths = table
    assume(t._plain(headers) and all(t._plain(row) for row in rows))
    assert t._simple_table(rows, headers) == tabulate(rows, headers=headers, tablefmt="simple", disable_numparse=True)
    assume(t._words_fit(rows, widths))
    # tabulate 0.9-0.10's wrapping casts a "False" or "True" cell to bool (its _type(cell, numparse) passes
    # numparse as has_invisible), so "False" comes out as "True"; the plain layout keeps the text
    if any(c in ("True", "False") for row in rows for c, w in zip(row, widths, strict=True) if w is not None):
        return
    assert t._simple_table(rows, headers, widths) == tabulate(
        rows, headers=headers, tablefmt="simple", disable_numparse=True, maxcolwidths=widths
    )


def test_plain_table_keeps_a_false_cell_that_tabulates_wrapping_turns_true() -> None:
    """tabulate's bug, not ours: with ``maxcolwidths`` it casts a cell "False" to bool, and prints "True"
    (tabulate 0.10.0 ``_wrap_text_to_colwidths``). The plain layout prints the cell's text."""
    from tabulate import tabulate

    from soinspect.output import table as t

    rows, headers = [["x", "False"], ["y", "a b c d e f"]], ["k", "v"]
    assert "True" in tabulate(rows, headers=headers, tablefmt="simple", disable_numparse=True, maxcolwidths=[None, 5])
    ours = t._simple_table(rows, headers, [None, 5])
    assert "False" in ours and "True" not in ours


def test_every_corpus_report_renders_as_tabulate_renders_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every table of every corpus file's report (with and without -v and colour), through the plain
    layout and through tabulate: the same text."""
    from soinspect.output import table as t
    from soinspect.verdict import audit as api

    reports = []
    for name in corpus.names():
        try:
            reports.append(api.audit(corpus.path(name)))
        except SoinspectError:
            continue  # not a report: no table
    assert len(reports) > 50
    ours = [t.report_block(r, verbose=v, color=c) for r in reports for v in (False, True) for c in (False, True)]
    monkeypatch.setattr(t, "_plain", lambda cells: False)
    assert ours == [
        t.report_block(r, verbose=v, color=c) for r in reports for v in (False, True) for c in (False, True)
    ]
