"""The one rule for text from outside soinspect in a format a person reads.

A file name, a build info path, module or setting, a symbol, section or package name, a ``DT_NEEDED``
name, a host manifest's field, an error message that quotes any of these: such text is the inspected
file's, not soinspect's, and the table, the line format, Markdown, SARIF's messages and the command
line's error lines show it through :func:`escape`. Nothing in it reaches a terminal or a viewer as a
control: every character that is not plainly visible is written as a Python-style escape, and the
backslash itself is escaped, so the shown text is unambiguous (two texts never look alike) and can be
read back (``tests/test_escape.py`` decodes it). Escaped:

- ``\\`` as ``\\\\``;
- tab, newline and carriage return as ``\\t``, ``\\n``, ``\\r`` (a format that lays text out in lines or
  cells adds its own line breaks; none comes from a file);
- every other C0 control and DEL as ``\\xNN`` (``\\x1b``, ``\\x07``, ``\\x7f``);
- a byte that is not UTF-8 (a file name's byte that ``os.fsdecode`` kept as a surrogate, U+DC80-U+DCFF)
  as ``\\xNN`` with NN from 80 to ff: never dropped, never replaced;
- every other character that ``str.isprintable`` calls not printable: C1 controls (``\\u009b``), line
  and paragraph separators, format characters (bidirectional controls U+202A-U+202E, U+2066-U+2069,
  U+061C; zero-width U+200B-U+200F; U+FEFF; U+180E; soft hyphen; tags), spaces other than the
  ASCII space (U+00A0), surrogates, private-use and unassigned code points; as ``\\u`` and four hex digits, or
  ``\\U`` and eight above U+FFFF;
- and the characters Unicode calls default-ignorable that ``isprintable`` lets through (fillers such as
  U+3164, variation selectors, the combining grapheme joiner): invisible, so two names could look alike.

Everything else, any printable letter of any script included, is shown as it is. The only escape
sequences soinspect writes to a terminal are its own colour codes and the progress bar's line erase
(:mod:`soinspect.output.ansi`). The JSON report keeps the raw value (its encoder escapes controls).
"""

from __future__ import annotations

import re

#: Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt), all of it: most are format
#: characters ``isprintable`` refuses already; the rest (Hangul fillers, variation selectors, U+034F,
#: U+17B4-U+17B5) are letters or marks that show nothing.
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f"
    "\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0000-\U000e0fff]"
)

_SHORT = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"}


def escape(text: str) -> str:
    """*text* with every character that is not plainly visible written as an escape (the module's rule);
    *text* itself when it has none (the usual case: one test, no copy)."""
    if "\\" not in text and text.isprintable() and (text.isascii() or _INVISIBLE.search(text) is None):
        return text
    return "".join(_SHORT.get(ch) or (ch if ch.isprintable() and not _INVISIBLE.match(ch) else _code(ch))
                   for ch in text)


def _code(ch: str) -> str:
    o = ord(ch)
    if o < 0x80:  # C0 and DEL
        return f"\\x{o:02x}"
    if 0xDC80 <= o <= 0xDCFF:  # a byte os.fsdecode (surrogateescape) could not decode
        return f"\\x{o - 0xDC00:02x}"
    return f"\\u{o:04x}" if o <= 0xFFFF else f"\\U{o:08x}"
