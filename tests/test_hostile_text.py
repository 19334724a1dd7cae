"""Text from a hostile file never reaches a terminal or a report raw (issue 28).

Plugins whose text fields carry escape sequences, bidirectional and invisible controls, bytes that are not
UTF-8 and Markdown markup: corpus plugins with strings rewritten in place, each to one of the same length
(the build info's path, a dependency's path and its replacement, a build setting, an exported symbol, a
package name, a ``DT_NEEDED`` name, a ``RUNPATH``, the Go release), under hostile file names, scanned
against a hostile host manifest, with a missing hostile path beside them. Every format is rendered by the
real command line; the formats a person reads (table, line, Markdown, the error lines on stderr) must
hold no control but newline (and soinspect's own colours, where asked), no C1, DEL, bidirectional or
invisible character, and show each hostile field escaped; Markdown must parse to the tables it should;
SARIF's messages are escaped and its locations exact; JSON keeps every raw value.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import unicodedata
from pathlib import Path
from typing import Any
from urllib.parse import unquote_to_bytes
from xml.etree import ElementTree

import pytest
from markdown_it import MarkdownIt
from test_escape import FORBIDDEN

import corpus
from soinspect.output.escape import escape

#: what the rewritten strings are cut from: an OSC title, a screen clear, a colour, bidi and zero-width
#: characters, DEL, a C1 CSI, and Markdown and HTML
PAYLOAD = (
    b"\x1b]0;PWN\x07\x1b[2J"
    + "\u202e".encode()
    + b"|`<img src=x>[a](b)"
    + "\u2066\u200b".encode()
    + b"\x7f"
    + "\u009b".encode()
    + b"*_#\\~$@"
)

#: a file name: every byte but "/" and NUL is allowed, and these are not UTF-8 at the end
NAME = b"x\x1b]0;pwned\x07\x1b[31m|`<img src=x onerror=alert(1)>[a](javascript:alert(2))\xe2\x80\xae\n\t# \xff\x9b"

#: a manifest's text fields (JSON carries any character; "/" is refused in host.file)
HOSTILE_TEXT = (
    "\x1b]0;PWN\x07\x1b[2J\x1b[31m\u202e\u2066\u200b\u2028\ufeff\x7f\u009b|`<img src=x>[a](javascript:x)*_\\\n\t"
)


def _fit(n: int, payload: bytes = PAYLOAD) -> bytes:
    """*n* bytes of *payload* (padded with x): a same-length stand-in for a string in the file."""
    return payload[:n] + b"x" * (n - len(payload[:n]))


def _rewrite(data: bytes, *pairs: tuple[bytes, bytes]) -> bytes:
    for old, new in pairs:
        assert len(old) == len(new) and old in data, old
        data = data.replace(old, new)
    return data


#: the package renamed in the plugin and in the manifest (the same 15 bytes: a fingerprint mismatch names it)
PACKAGE = b"internal/goarch"
HOSTILE_PACKAGE = _fit(len(PACKAGE))
HOSTILE_SYMBOL = "\u202eM<b>".encode()  # 7 bytes, for "Message"
NEEDED = b"<b>\x1b[](x)"  # 9 bytes, for "libc.so.6": HTML, an escape and a link
RUNPATH = b"*a*<i>\x1b"  # 7 bytes, for "$ORIGIN": emphasis, HTML and an escape


def _godebug(data: bytes) -> tuple[bytes, bytes]:
    """The DefaultGODEBUG setting and a hostile one of its length, quoted as Go quotes a build setting."""
    m = re.search(rb"build\tDefaultGODEBUG=([^\n]*)\n", data)
    assert m is not None
    quoted = b'"\\x1b]0;PWN\\a\\x1b[2J\\u202e|`<img>[a](b)\\u2066\\u200b\\x7f\\u009b*_#\\\\'
    quoted += b"x" * (len(m[1]) - len(quoted) - 1) + b'"'
    return m[0], b"build\tDefaultGODEBUG=" + quoted + b"\n"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("hostile")
    scan = root / "scan"
    scan.mkdir()
    usedep = Path(corpus.path("usedep-v1.so")).read_bytes()
    files: dict[str, bytes] = {}
    files["fields"] = _rewrite(
        usedep,
        (b"path\tcommand-line-arguments\n", b"path\t" + _fit(22) + b"\n"),
        (b"example.com/dep", b"example.com/" + _fit(3, PAYLOAD[10:])),
        (b"=>\t../dep-v1\t", b"=>\t" + _fit(9, PAYLOAD[12:]) + b"\t"),
        _godebug(usedep),
        (b"Message", HOSTILE_SYMBOL),
        (PACKAGE, HOSTILE_PACKAGE),
    )
    files["needed"] = _rewrite(
        usedep,
        (b"libc.so.6\0", NEEDED + b"\0"),
        (b"plugin/unnamed-c2be49eb9469bec8f12c69a0291cc9ad73163dc2", b"plugin/" + _fit(48)),
    )
    files["runpath"] = _rewrite(Path(corpus.path("cgo-demo.so")).read_bytes(), (b"$ORIGIN\0", RUNPATH + b"\0"))
    files["release"] = _rewrite(usedep, (b"go1.27.3", b"go" + _fit(6, PAYLOAD[8:])))
    names = {
        "fields": NAME + b".so",
        "needed": b"needed-\x1b[2J.so",
        "runpath": "runpath-\u202e.so".encode(),
        "release": b"release-[x](y).so",
    }
    for key, data in files.items():
        (Path(os.fsdecode(bytes(scan) + b"/" + names[key]))).write_bytes(data)
    Path(os.fsdecode(bytes(scan) + b"/" + NAME + b"-notelf.so")).write_bytes(b"\x1b]0;PWN\x07 not ELF " + PAYLOAD)
    Path(os.fsdecode(bytes(scan) + b"/" + NAME + b".txt")).write_bytes(b"skipped \x1b[2J")
    missing = os.fsdecode(bytes(root) + b"/missing-" + NAME + b".so")

    # the host manifest: written by soinspect from a corpus host, then its text fields made hostile
    out = root / "written.json"
    written = subprocess.run(_cmd("manifest", corpus.path("host-1.27.3-trimpath"), "-o", str(out)), check=False)
    assert written.returncode == 0
    doc = json.loads(out.read_text())
    doc["host"]["file"] = HOSTILE_TEXT
    doc["buildinfo"]["path"] = HOSTILE_TEXT
    doc["buildinfo"]["settings"].append(["-ldflags", HOSTILE_TEXT])
    doc["pkghashes"][HOSTILE_PACKAGE.decode()] = doc["pkghashes"].pop(PACKAGE.decode())
    doc["expect"] = [{"name": "M" + HOSTILE_TEXT, "type": "func() string"}]
    manifest = os.fsdecode(bytes(root) + b"/m-\x1b[2J\xe2\x80\xae\xff.json")
    Path(manifest).write_text(json.dumps(doc))
    broken = root / "broken-\x1b[2J.json"
    broken.write_text(json.dumps({**doc, "platform": HOSTILE_TEXT}))
    return {"root": root, "scan": str(scan), "missing": missing, "manifest": manifest, "broken": str(broken)}


def _cmd(*args: str) -> list[str]:
    return [sys.executable, "-P", "-m", "soinspect", *args]


def _run(*args: str) -> tuple[int, bytes, bytes]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    p = subprocess.run(_cmd(*args), capture_output=True, env=env, check=False, timeout=300)
    return p.returncode, p.stdout, p.stderr


#: soinspect's own colours (output/ansi.py), the one control a coloured table may hold
_OWN_SGR = re.compile("\x1b\\[(?:0|1|2|31|32|33)m")


def assert_readable(data: bytes, *, colour: bool = False) -> str:
    """*data* is UTF-8 with no control but newline (and soinspect's colours), no DEL, C1, bidirectional,
    invisible or other format character; returns the text."""
    text = data.decode("utf-8")  # strict: no byte that is not UTF-8
    if colour:
        text = _OWN_SGR.sub("", text)
    for line in text.split("\n"):
        bad = FORBIDDEN.search(line)
        assert bad is None, f"{bad[0]!r} in {line!r}"
        assert line.isprintable(), repr(line)
        assert not any(unicodedata.category(c) == "Cf" for c in line), repr(line)
    return text


def _outputs(h: dict[str, Any], tag: str, *args: str) -> tuple[int, dict[str, bytes], bytes]:
    """One run: the table on stdout (coloured), every other format to a file."""
    root: Path = h["root"]
    paths = {f: root / f"{tag}.{f}" for f in ("line", "markdown", "sarif", "json", "junit", "codequality")}
    outs = [a for f, p in paths.items() for a in ("--output", f"{f}={p}")]
    code, stdout, stderr = _run("-v", "--color", "always", "--workers", "2", *args, *outs, h["scan"], h["missing"])
    return code, {"table": stdout, **{f: p.read_bytes() for f, p in paths.items()}}, stderr


@pytest.fixture(scope="module")
def against_manifest(hostile: dict[str, Any]) -> tuple[int, dict[str, bytes], bytes]:
    return _outputs(hostile, "host", "--host", hostile["manifest"], "--each")


@pytest.fixture(scope="module")
def alone(hostile: dict[str, Any]) -> tuple[int, dict[str, bytes], bytes]:
    return _outputs(hostile, "alone")


def _raw(b: bytes) -> str:
    """A string soinspect read from a file's contents (invalid UTF-8 replaced, as the readers do)."""
    return b.decode("utf-8", "replace")


def test_human_formats_show_every_hostile_field_escaped(
    hostile: dict[str, Any], against_manifest: tuple[int, dict[str, bytes], bytes],
    alone: tuple[int, dict[str, bytes], bytes],
) -> None:
    scan = hostile["scan"]
    fields_path = os.fsdecode(os.fsencode(scan) + b"/" + NAME + b".so")
    for code, out, stderr in (against_manifest, alone):
        assert code == 2  # the missing path
        table = assert_readable(out["table"], colour=True)
        line = assert_readable(out["line"])
        err = assert_readable(stderr)
        assert escape(hostile["missing"]) in err and escape(hostile["missing"]) in table
        assert "\x1b[31mREJECTED\x1b[0m" in out["table"].decode()  # the colours are still soinspect's
        for text in (table, line):
            assert escape(fields_path) in text
            assert escape(os.fsdecode(os.fsencode(scan) + b"/" + NAME + b"-notelf.so")) in text
        assert escape(_raw(_fit(22))) in table  # the build info's path (go.buildinfo)
        assert escape(_raw(NEEDED)) in table  # DT_NEEDED (dyn.needed, the fix)
        assert escape(_raw(RUNPATH)) in table  # RUNPATH (the fix)
        assert escape(_raw(HOSTILE_SYMBOL)) in table  # an exported symbol's name
        assert escape("plugin/" + _raw(_fit(48))) in table  # the plugin path
        assert escape(os.fsdecode(os.fsencode(scan) + b"/" + NAME + b".txt")) in table  # skipped (-v)
    table = against_manifest[1]["table"].decode()
    # the host manifest's fields (the host line) and the package name shared by plugin and manifest
    for shown in (escape(hostile["manifest"]), escape(f"manifest of {HOSTILE_TEXT}"), escape(HOSTILE_TEXT)):
        assert shown in table
    assert escape(_raw(HOSTILE_PACKAGE)) in table  # a fingerprint mismatch (-v lists the packages)


def test_markdown_keeps_its_structure(
    hostile: dict[str, Any], against_manifest: tuple[int, dict[str, bytes], bytes]
) -> None:
    md = assert_readable(against_manifest[1]["markdown"])
    tokens = MarkdownIt("commonmark").enable(["table", "strikethrough"]).parse(md)
    kinds = {t.type for t in tokens} | {c.type for t in tokens for c in t.children or ()}
    # nothing from a file became a link, an image, inline HTML, emphasis or a heading of its own
    assert not kinds & {"link_open", "image", "html_inline", "em_open", "s_open", "autolink"}, kinds
    assert [t.tag for t in tokens if t.type == "heading_open"] == ["h2"]
    html = [t.content.strip() for t in tokens if t.type == "html_block"]
    assert set(html) <= {"<details><summary>Package fingerprint mismatches, by cause</summary>",
                         "<details><summary>How to fix</summary>", "<details><summary>Skipped</summary>",
                         "</details>"}, html
    # the files' table: a row per judged file (the .txt is skipped), each cell where it belongs (a "|"
    # from a file would move the next cells along; a parser pads or cuts a row to the header's width)
    rows: list[list[Any]] = []
    in_row = False
    for t in tokens:
        if t.type in ("tr_open", "tr_close"):
            in_row = t.type == "tr_open"
            rows += [[]] if in_row else []
        elif t.type == "inline" and in_row:
            rows[-1].append(t)
    files = [r for r in rows if [c.content for c in r] != ["file", "kind", "verdict", "why", "failed checks"]]
    files = [r for r in files if len(r) == 5]
    assert len(files) == 5, [[c.content for c in r] for r in rows]
    for path, kind, verdict, _why, failed in files:
        assert [c.type for c in path.children] == ["code_inline"], path.content
        assert re.fullmatch(r"[a-z-]+", kind.content), kind.content
        assert re.fullmatch("(✅ loadable|❌ [a-zA-Z. ]+)", verdict.content), verdict.content
        assert re.fullmatch(r"(`[a-z_.]+`(, )?)*", failed.content), failed.content
    # a path is a code span that shows exactly the escaped path
    code = {c.content for t in tokens for c in t.children or () if c.type == "code_inline"}
    scan = os.fsencode(hostile["scan"])
    for name in (NAME + b".so", NAME + b"-notelf.so", b"release-[x](y).so"):
        assert escape(os.fsdecode(scan + b"/" + name)) in code
    assert escape(hostile["missing"]) in code
    # and a message is text that shows exactly the escaped message
    text = "".join(c.content for t in tokens for c in t.children or () if c.type == "text")
    assert escape(_raw(NEEDED)) in text


def test_sarif_messages_are_escaped_and_its_locations_exact(
    hostile: dict[str, Any], against_manifest: tuple[int, dict[str, bytes], bytes]
) -> None:
    sarif = json.loads(against_manifest[1]["sarif"])
    run = sarif["runs"][0]
    messages = [r["message"]["text"] for r in run["results"]]
    messages += [n["message"]["text"] for n in run["invocations"][0]["toolExecutionNotifications"]]
    assert messages
    for m in messages:
        assert_readable(m.encode())
        assert re.search(r"(?<!\\)[\[\]]", m.replace("\\\\", "")) is None, m  # no embedded link
    uris = {unquote_to_bytes(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]) for r in run["results"]}
    assert b"file://" + os.fsencode(hostile["scan"]) + b"/" + NAME + b".so" in uris


def test_junit_and_code_quality_text_is_escaped(
    hostile: dict[str, Any], against_manifest: tuple[int, dict[str, bytes], bytes]
) -> None:
    """The texts a CI page shows a person: JUnit's names, messages and failure texts (a valid XML document
    whatever the names hold) and Code Quality's descriptions; Code Quality's path stays exact."""
    root = ElementTree.fromstring(against_manifest[1]["junit"])
    shown = [v for e in root.iter() for v in (*e.attrib.values(), e.text or "")]
    assert any(escape(_raw(NEEDED)) in v for v in shown)
    for v in shown:
        assert_readable(v.encode())
    issues = json.loads(against_manifest[1]["codequality"])
    for issue in issues:
        assert_readable(issue["description"].encode())
    assert os.fsdecode(os.fsencode(hostile["scan"]) + b"/" + NAME + b".so") in {i["location"]["path"] for i in issues}


def test_json_keeps_the_raw_values(
    hostile: dict[str, Any], against_manifest: tuple[int, dict[str, bytes], bytes]
) -> None:
    doc = json.loads(against_manifest[1]["json"])
    by_path = {os.fsencode(r["path"]): r for r in doc["results"]}
    fields = by_path[os.fsencode(hostile["scan"]) + b"/" + NAME + b".so"]
    assert fields["buildinfo"]["path"] == _raw(_fit(22))
    assert fields["host"]["manifest_of"] == HOSTILE_TEXT
    assert dict((s["key"], s["value"]) for s in fields["buildinfo"]["settings"])["DefaultGODEBUG"].startswith(
        "\x1b]0;PWN\x07\x1b[2J\u202e|`<img>[a](b)"
    )
    assert [e["path"] for e in doc["errors"]] == [hostile["missing"]]


def test_error_lines_are_escaped(hostile: dict[str, Any]) -> None:
    """The stderr lines of a damaged manifest, of ``soinspect manifest`` and of a refused argument."""
    runs = [
        _run("--host", hostile["broken"], hostile["scan"]),
        _run("manifest", hostile["missing"]),
        _run("--format", HOSTILE_TEXT, hostile["scan"]),
        _run("--explain", HOSTILE_TEXT),
        _run("--ignore", HOSTILE_TEXT, hostile["scan"]),
    ]
    for code, stdout, stderr in runs:
        assert code == 2 and stdout == b""
        err = assert_readable(stderr)
        assert "\\x1b" in err, err
