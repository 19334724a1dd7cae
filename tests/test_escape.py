"""The escape rule (soinspect/output/escape.py): what it lets through, and that it loses nothing.

The decoder here reads the rule's output back; that every text decodes to itself is what makes the shown
text unambiguous (two texts are never shown alike)."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from soinspect.output.escape import escape

#: what no human format may show from a file: C0 (tab and newline included: a format adds its own), DEL,
#: C1, the bidirectional controls, the zero-width and other format characters, line and paragraph
#: separators, surrogates
FORBIDDEN = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ud800-\udfff]"
)

_ESCAPE = re.compile(r"\\(?:(\\)|([tnr])|x([0-9a-f]{2})|u([0-9a-f]{4})|U([0-9a-f]{8}))")


def unescape(shown: str) -> str:
    """The text :func:`escape` showed as *shown* (every backslash in it starts an escape)."""

    def one(m: re.Match[str]) -> str:
        if m[1]:
            return "\\"
        if m[2]:
            return {"t": "\t", "n": "\n", "r": "\r"}[m[2]]
        if m[3]:
            n = int(m[3], 16)
            return chr(n) if n < 0x80 else chr(0xDC00 + n)  # a byte os.fsdecode could not decode
        return chr(int(m[4] or m[5], 16))

    assert "\\" not in _ESCAPE.sub("", shown), f"a backslash that starts no escape in {shown!r}"
    return _ESCAPE.sub(one, shown)


def _visible(shown: str) -> bool:
    return (
        FORBIDDEN.search(shown) is None
        and shown.isprintable()
        and not any(unicodedata.category(c) == "Cf" for c in shown)
    )


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet=st.characters(codec=None)))
def test_any_text_is_shown_visibly_and_read_back(text: str) -> None:
    shown = escape(text)
    assert _visible(shown), repr(shown)
    assert unescape(shown) == text


@settings(max_examples=500, deadline=None)
@given(st.binary())
def test_any_file_name_bytes_are_shown_and_none_dropped(name: bytes) -> None:
    """A name as os.fsdecode gives it (bytes that are not UTF-8 kept as surrogates) is shown with every
    byte: a byte that is not UTF-8 as \\xNN."""
    text = name.decode("utf-8", "surrogateescape")
    shown = escape(text)
    assert _visible(shown)
    assert unescape(shown).encode("utf-8", "surrogateescape") == name


def test_the_forms() -> None:
    assert escape("plain ascii.so") == "plain ascii.so"
    assert escape("résumé-日本.so") == "résumé-日本.so"  # printable letters of any script stay
    assert escape("x\x1b]0;pwned\x07\x1b[31mred.so") == "x\\x1b]0;pwned\\x07\\x1b[31mred.so"
    assert escape("a\\x1b") == "a\\\\x1b"  # a backslash in the name is not an escape
    assert escape("tab\there\nnl\rcr\x7f") == "tab\\there\\nnl\\rcr\\x7f"
    assert escape("csi\x9b2J") == "csi\\u009b2J"  # C1: a character, not a byte
    assert escape(b"bad\xff\x9b".decode("utf-8", "surrogateescape")) == "bad\\xff\\x9b"  # bytes
    assert escape("\u202egnp.exe") == "\\u202egnp.exe"
    assert escape("a\u200bb\u2066c\u2069\ufeff\u061c\u180e\u00a0\u2028") == (
        "a\\u200bb\\u2066c\\u2069\\ufeff\\u061c\\u180e\\u00a0\\u2028"
    )
    assert escape("x\u3164\ufe0f\U000e0041") == "x\\u3164\\ufe0f\\U000e0041"  # invisible, printable to Python
    assert escape("\udc1b") == "\\udc1b"  # a surrogate no byte becomes: not \\x1b


def test_unchanged_text_is_the_same_object() -> None:
    text = "greet.so: REJECTED (go-plugin) - plugin.Open fails"
    assert escape(text) is text


def test_only_ansi_makes_terminal_controls() -> None:
    """The one place in soinspect that writes an escape sequence is output/ansi.py (colours, the progress
    bar's line erase); every other text reaches a terminal through the escape rule."""
    package = Path(__file__).resolve().parent.parent / "soinspect"
    escapes = re.compile(r"\\x1b|\\033|\\u001b|\\x9b|\\u009b|\\e\[")
    makers = sorted(
        str(p.relative_to(package)) for p in package.rglob("*.py") if escapes.search(p.read_text(encoding="utf-8"))
    )
    assert makers == ["output/ansi.py", "output/escape.py"]  # escape.py names them only in its docstring
    source = (package / "output" / "escape.py").read_text(encoding="utf-8")
    assert all(escapes.search(line) is None for line in source.split('"""')[2].splitlines())
