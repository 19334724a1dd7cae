"""Go build info (``.go.buildinfo``), read without a Go toolchain.

Mirrors ``go/src/debug/buildinfo/buildinfo.go`` and ``runtime/debug/mod.go`` (``ParseBuildInfo``).

The blob starts with a 32-byte header, 16-byte aligned::

    struct buildInfoHeader {
        magic   [14]byte   // "\\xff Go buildinf:"
        ptrSize uint8      // used by the pointer form
        flags   uint8      // bit 0: big-endian pointers; bit 1: inline strings (Go 1.18+)
        versPtr uintptr    // pointer form only (Go 1.13-1.17)
        modPtr  uintptr    // pointer form only
    }

Go 1.18+ (flags & 2): the version and the module info follow the header inline, each as a uvarint length
and that many bytes. Go 1.13-1.17: ``versPtr``/``modPtr`` point at Go string headers ``{data, len}``.
Before 1.13 there is no blob; the version is the string that ``runtime.buildVersion`` points at.
The module info is framed by two 16-byte sentinels, stripped when the byte 17 from the end is ``\\n``.
"""

from __future__ import annotations

from dataclasses import field
from typing import Literal

from soinspect._frozen import frozen
from soinspect.elf.file import ElfFile
from soinspect.elf.structs import PF_W, PT_LOAD

BUILDINFO_MAGIC = b"\xff Go buildinf:"
HEADER_SIZE = 32
ALIGN = 16
_PTRSIZE_OFFSET, _FLAGS_OFFSET, _VERSPTR_OFFSET = 14, 15, 16
_FLAG_BIG_ENDIAN, _FLAG_INLINE = 0x1, 0x2
#: Go's reader searches at most this much per read; we cap the whole search at the segment size, and
#: the segment is in memory already, so the chunking only bounds how far a bad length can reach.
_MAX_STRING = 1 << 24  # no real version or module info string comes near 16 MiB


@frozen
class Module:
    path: str
    version: str
    sum: str = ""
    replace: Module | None = None



def is_local_replacement(m: Module) -> bool:
    """*m* is replaced by a directory (``=> ../libs/dep``, version ``(devel)``), not by another module."""
    return m.replace is not None and m.replace.version in ("", "(devel)")


def is_local_source(m: Module) -> bool:
    """*m* is built from a directory: replaced by one, or a module of the go.work workspace (a dependency at
    version ``(devel)`` without a replacement)."""
    return is_local_replacement(m) or (m.replace is None and m.version == "(devel)")


@frozen
class BuildSetting:
    key: str
    value: str


@frozen
class BuildInfo:
    """What ``go version -m`` prints, plus where it was found."""

    go_version: str
    path: str = ""
    main: Module | None = None
    deps: tuple[Module, ...] = ()
    settings: tuple[BuildSetting, ...] = ()
    #: how the blob was found: ``section .go.buildinfo``, ``segment scan``, ``symbol runtime.buildVersion``
    source: str = ""
    #: ``inline`` (1.18+), ``pointer`` (1.13-1.17) or ``buildversion`` (pre-1.13)
    format: str = ""
    #: the raw modinfo text, framing removed
    modinfo: str = ""
    #: (module path, absolute directory) of the main module and of each module replaced by a local
    #: directory, read from the binary's own source file names (soinspect.go.sourcedirs); empty with
    #: -trimpath, for a host read from a manifest, and when no module is replaced by a directory
    dirs: tuple[tuple[str, str], ...] = ()

    def dir_of(self, module: str) -> str | None:
        """The absolute directory *module* was built from, if the binary records it (see ``dirs``)."""
        return dict(self.dirs).get(module)

    def setting(self, key: str) -> str | None:
        for s in self.settings:
            if s.key == key:
                return s.value
        return None

    @property
    def settings_dict(self) -> dict[str, str]:
        return {s.key: s.value for s in self.settings}



@frozen
class BuildInfoResult:
    """Build info, or why there is none (data, not an exception: a C library simply has none)."""

    info: BuildInfo | None
    reason: str = ""
    problems: tuple[str, ...] = field(default=())


def read_buildinfo(elf: ElfFile) -> BuildInfoResult:
    """Find and decode the Go build info of *elf*."""
    sec = elf.section(".go.buildinfo")
    if sec is not None and sec.size > 0:
        start, size, source = sec.addr, sec.size, "section .go.buildinfo"
    else:
        # Without the section header (stripped section table, or a linker that did not name it), search
        # the first writable PT_LOAD segment, as Go's reader did through Go 1.2x.
        seg = next((s for s in elf.segments if s.type == PT_LOAD and s.flags & PF_W), None)
        if seg is None or seg.filesz == 0:
            return _buildversion_fallback(elf, "no .go.buildinfo section and no writable PT_LOAD segment")
        start, size, source = seg.vaddr, seg.filesz, "segment scan (first writable PT_LOAD)"
    addr = _search_magic(elf, start, size)
    if addr is None:
        return _buildversion_fallback(elf, f"no build info magic in {source}")
    header = elf.read_va(addr, HEADER_SIZE)
    if header is None:
        return BuildInfoResult(None, f"build info header at {addr:#x} runs past the end of the file")
    flags = header[_FLAGS_OFFSET]
    if flags & _FLAG_INLINE:
        fmt = "inline"
        raw_vers, nxt, err = _decode_inline(elf, addr + HEADER_SIZE)
        if err:
            return BuildInfoResult(None, f"version string: {err}")
        raw_mod, _, err = _decode_inline(elf, nxt)
        if err:
            return BuildInfoResult(None, f"module info string: {err}")
    else:
        fmt = "pointer"
        ptrsize = header[_PTRSIZE_OFFSET]
        if ptrsize not in (4, 8):
            return BuildInfoResult(
                None, f"build info pointer size {ptrsize} at {addr + _PTRSIZE_OFFSET:#x} is not 4 or 8"
            )
        order: Literal["little", "big"] = "big" if flags & _FLAG_BIG_ENDIAN else "little"

        def ptr(b: bytes) -> int:
            return int.from_bytes(b[:ptrsize], order)

        vptr = ptr(header[_VERSPTR_OFFSET:])
        mptr = ptr(header[_VERSPTR_OFFSET + ptrsize :])
        raw_vers = _read_go_string(elf, vptr, ptrsize, order)
        raw_mod = _read_go_string(elf, mptr, ptrsize, order)
    if not raw_vers:
        return BuildInfoResult(None, f"build info at {addr:#x} has an empty Go version")
    # The framing (16-byte sentinels) is stripped from the bytes, as Go does: decoding first would turn an
    # invalid sequence in a sentinel into one character and shift the cut.
    raw_mod = raw_mod[16:-16] if len(raw_mod) >= 33 and raw_mod[-17] == 0x0A else b""
    vers, mod = raw_vers.decode("utf-8", "replace"), raw_mod.decode("utf-8", "replace")
    try:
        info = parse_modinfo(vers, mod)
    except ValueError as exc:
        return BuildInfoResult(
            BuildInfo(go_version=vers, source=source, format=fmt, modinfo=mod), problems=(str(exc),)
        )
    return BuildInfoResult(
        BuildInfo(
            go_version=info.go_version,
            path=info.path,
            main=info.main,
            deps=info.deps,
            settings=info.settings,
            source=source,
            format=fmt,
            modinfo=mod,
        )
    )


def _search_magic(elf: ElfFile, start: int, size: int) -> int | None:
    """First 16-byte-aligned build info magic in [start, start+size) with room for the header."""
    aligned = (start + ALIGN - 1) & ~(ALIGN - 1)
    if aligned >= start + size:
        return None
    off = elf.va_to_offset(aligned)
    if off is None:
        return None
    end_off = min(off + (start + size - aligned), len(elf.data))
    data = elf.data
    i = data.find(BUILDINFO_MAGIC, off, end_off)
    while i >= 0:
        if end_off - i < HEADER_SIZE:
            return None
        if (i - off) % ALIGN == 0:
            return aligned + (i - off)
        i = data.find(BUILDINFO_MAGIC, i + 1, end_off)
    return None


def _decode_inline(elf: ElfFile, addr: int) -> tuple[bytes, int, str]:
    """A uvarint length and that many bytes at *addr*: (string, next address, error)."""
    length = 0
    shift = 0
    for i in range(10):
        b = elf.read_va(addr + i, 1)
        if b is None:
            return b"", 0, f"varint at {addr:#x} runs past the end of the data"
        length |= (b[0] & 0x7F) << shift
        shift += 7
        if not b[0] & 0x80:
            addr += i + 1
            break
    else:
        return b"", 0, f"varint at {addr:#x} is longer than 10 bytes"
    if length > _MAX_STRING or length > len(elf.data):
        return b"", 0, f"length {length} at {addr:#x} is larger than the file"
    raw = elf.read_va(addr, length)
    if raw is None:
        return b"", 0, f"{length} bytes at {addr:#x} run past the end of the data"
    return raw, addr + length, ""


def _read_go_string(elf: ElfFile, hdr_addr: int, ptrsize: int, order: Literal["little", "big"]) -> bytes:
    hdr = elf.read_va(hdr_addr, 2 * ptrsize)
    if hdr is None:
        return b""
    data_addr = int.from_bytes(hdr[:ptrsize], order)
    length = int.from_bytes(hdr[ptrsize:], order)
    if length > _MAX_STRING or length > len(elf.data):
        return b""
    raw = elf.read_va(data_addr, length)
    return raw if raw is not None else b""


def _buildversion_fallback(elf: ElfFile, reason: str) -> BuildInfoResult:
    """Pre-1.13 binaries: the version is the Go string ``runtime.buildVersion`` points at."""
    sym = elf.find_symbol("runtime.buildVersion", "symtab") or elf.find_symbol("runtime.buildVersion")
    if sym is None:
        return BuildInfoResult(None, reason)
    vers = _read_go_string(elf, sym.value, elf.ptrsize, "little" if elf.little else "big").decode("utf-8", "replace")
    if not vers.startswith("go") and not vers.startswith("devel"):
        return BuildInfoResult(None, f"{reason}; runtime.buildVersion does not point at a Go version")
    return BuildInfoResult(
        BuildInfo(go_version=vers, source="symbol runtime.buildVersion", format="buildversion")
    )


# -- module info text ---------------------------------------------------------------------------------


def parse_modinfo(go_version: str, data: str) -> BuildInfo:
    """Parse the module info text the way ``runtime/debug.ParseBuildInfo`` does."""
    path = ""
    main: Module | None = None
    deps: list[Module] = []
    settings: list[BuildSetting] = []
    last: str | None = None  # "main" or "dep"
    for lineno, line in enumerate(data.split("\n")[:-1] if data else [], start=1):
        try:
            if line.startswith("path\t"):
                path = line[5:]
            elif line.startswith("mod\t"):
                main = _module_line(line[4:].split("\t"))
                last = "main"
            elif line.startswith("dep\t"):
                deps.append(_module_line(line[4:].split("\t")))
                last = "dep"
            elif line.startswith("=>\t"):
                elem = line[3:].split("\t")
                if len(elem) != 3:
                    raise ValueError(f"expected 3 columns for replacement; got {len(elem)}")
                rep = Module(elem[0], elem[1], elem[2])
                if last == "main" and main is not None:
                    main = Module(main.path, main.version, main.sum, rep)
                elif last == "dep":
                    d = deps[-1]
                    deps[-1] = Module(d.path, d.version, d.sum, rep)
                else:
                    raise ValueError("replacement with no module on previous line")
                last = None
            elif line.startswith("build\t"):
                settings.append(_build_line(line[6:]))
        except ValueError as exc:
            raise ValueError(f"could not parse Go build info: line {lineno}: {exc}") from None
    return BuildInfo(go_version=go_version, path=path, main=main, deps=tuple(deps), settings=tuple(settings))


def _module_line(elem: list[str]) -> Module:
    if len(elem) not in (2, 3):
        raise ValueError(f"expected 2 or 3 columns; got {len(elem)}")
    return Module(elem[0], elem[1], elem[2] if len(elem) == 3 else "")


#: runtime/debug's quoteKey and quoteValue: what ParseBuildInfo refuses unquoted (a narrower rule than the
#: one soinspect's own go_version_m text uses to decide what it quotes)
_MUST_QUOTE_KEY = frozenset('= \t\r\n"`')
_MUST_QUOTE_VALUE = frozenset(' \t\r\n"`')


def _build_line(kv: str) -> BuildSetting:
    if not kv:
        raise ValueError("build line missing '='")
    if kv[0] == "=":
        raise ValueError("build line with missing key")
    if kv[0] in '`"':
        raw_key, rest = _quoted_prefix(kv)
        if not rest.startswith("="):
            raise ValueError("build line missing '=' after quoted key")
        key, raw_value = go_unquote(raw_key), rest[1:]
    else:
        key, sep, raw_value = kv.partition("=")
        if not sep:
            raise ValueError("build line missing '=' after key")
        if not key or not _MUST_QUOTE_KEY.isdisjoint(key):  # a character that must be quoted (in C)
            raise ValueError(f"unquoted key {key!r} must be quoted")
    if raw_value[:1] in ("`", '"'):
        value = go_unquote(raw_value)
    else:
        # runtime/debug.ParseBuildInfo refuses an unquoted value that String() would have quoted
        value = raw_value
        if not _MUST_QUOTE_VALUE.isdisjoint(value):
            raise ValueError(f"unquoted value {value!r} must be quoted")
    return BuildSetting(key, value)


def _quoted_prefix(s: str) -> tuple[str, str]:
    q = s[0]
    i = 1
    while i < len(s):
        if s[i] == "\\" and q == '"':
            i += 2
            continue
        if s[i] == q:
            return s[: i + 1], s[i + 1 :]
        i += 1
    raise ValueError("invalid quoted key in build line")


_SIMPLE_ESCAPES = {
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "\\": "\\",
    '"': '"',  # and not \': strconv.Unquote refuses it inside double quotes
}


def go_unquote(s: str) -> str:
    """Go's ``strconv.Unquote`` for the double-quoted and back-quoted forms used in build settings."""
    if len(s) < 2 or s[0] != s[-1] or s[0] not in '`"':
        raise ValueError(f"invalid quoted value {s!r}")
    body = s[1:-1]
    if s[0] == "`":
        if "`" in body:
            raise ValueError(f"invalid quoted value {s!r}")
        return body.replace("\r", "")
    out: list[str] = []
    raw = bytearray()
    i = 0

    def flush() -> None:
        if raw:
            out.append(raw.decode("utf-8", "replace"))
            raw.clear()

    while i < len(body):
        c = body[i]
        if c == '"' or c == "\n":
            raise ValueError(f"invalid quoted value {s!r}")
        if c != "\\":
            flush()
            out.append(c)
            i += 1
            continue
        if i + 1 >= len(body):
            raise ValueError(f"invalid quoted value {s!r}")
        e = body[i + 1]
        if e in _SIMPLE_ESCAPES:
            flush()
            out.append(_SIMPLE_ESCAPES[e])
            i += 2
        elif e == "x":
            raw.append(_digits(body[i + 2 : i + 4], 2, 16, s))
            i += 4
        elif e in "01234567":
            v = _digits(body[i + 1 : i + 4], 3, 8, s)
            if v > 0xFF:
                raise ValueError(f"octal escape above 255 in quoted value {s!r}")
            raw.append(v)
            i += 4
        elif e in "uU":
            n = 4 if e == "u" else 8
            v = _digits(body[i + 2 : i + 2 + n], n, 16, s)
            if v > 0x10FFFF or 0xD800 <= v <= 0xDFFF:  # utf8.ValidRune
                raise ValueError(f"escape of an invalid code point in quoted value {s!r}")
            flush()
            out.append(chr(v))
            i += 2 + n
        else:
            raise ValueError(f"invalid escape in quoted value {s!r}")
    flush()
    return "".join(out)


def _digits(text: str, n: int, base: int, s: str) -> int:
    """Exactly *n* digits of *base* (``int()`` would also take a sign, spaces, underscores, fewer digits)."""
    allowed = "01234567" if base == 8 else "0123456789abcdefABCDEF"
    if len(text) != n or any(c not in allowed for c in text):
        raise ValueError(f"invalid escape in quoted value {s!r}")
    return int(text, base)


def go_version_m(info: BuildInfo, filename: str) -> str:
    """The text ``go version -m FILE`` prints for *info* (used by the differential tests and docs)."""
    lines = [f"{filename}: {info.go_version}"]
    if info.path:
        lines.append(f"\tpath\t{info.path}")

    def mod(word: str, m: Module) -> None:
        if m.replace is None:
            lines.append(f"\t{word}\t{m.path}\t{m.version}\t{m.sum}")
        else:
            lines.append(f"\t{word}\t{m.path}\t{m.version}")
            mod("=>", m.replace)

    if info.main is not None and (info.main.path or info.main.version or info.main.sum):
        mod("mod", info.main)
    for d in info.deps:
        mod("dep", d)
    for s in info.settings:
        lines.append(f"\tbuild\t{_quote_key(s.key)}={_quote_value(s.value)}")
    return "\n".join(lines) + "\n"


def _needs_quote(s: str, key: bool) -> bool:
    if key and "=" in s:
        return True
    return any(c in ' \t\r\n"`' or not c.isprintable() for c in s) if s else key


def _quote_key(k: str) -> str:
    return _go_quote(k) if _needs_quote(k, True) else k


def _quote_value(v: str) -> str:
    return _go_quote(v) if _needs_quote(v, False) else v


def _go_quote(s: str) -> str:
    out = ['"']
    for c in s:
        if c == '"':
            out.append('\\"')
        elif c == "\\":
            out.append("\\\\")
        elif c == "\n":
            out.append("\\n")
        elif c == "\t":
            out.append("\\t")
        elif c == "\r":
            out.append("\\r")
        elif not c.isprintable():
            out.append(f"\\x{ord(c):02x}" if ord(c) < 0x80 else f"\\u{ord(c):04x}")
        else:
            out.append(c)
    out.append('"')
    return "".join(out)
