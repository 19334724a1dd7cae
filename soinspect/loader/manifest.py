"""Host manifests: a :class:`~soinspect.loader.process.HostModel` as a small, versioned JSON document.

A host's release pipeline writes one (``soinspect manifest HOST``); a plugin's CI checks against it without
the host binary. The document holds exactly what the loader model takes from a host, so a manifest and
the executable it was written from give the same verdicts (``tests/test_manifest.py`` replays every
recorded real-loader run through both). Its schema is ``soinspect/schema/manifest.schema.json``;
docs/ci.md is the reference.

Reading is a pure function of bytes (:func:`read_manifest`): a document that is not exactly a known
version of this format, field by field, is refused with :class:`~soinspect.errors.ManifestError`
naming the first problem. Nothing is guessed or filled in.

Writing (:func:`write_manifest`) is deterministic: fields in a fixed order, fingerprints sorted by
package, the host named by its file name only (not the path it was read from), ASCII only, so the same
host always gives the same bytes.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from typing import Any, NoReturn

from soinspect.elf.file import read_head
from soinspect.elf.targets import TARGETS
from soinspect.errors import ManifestError
from soinspect.go import typeexpr
from soinspect.go.buildinfo import BuildInfo, BuildSetting, Module
from soinspect.go.gotypes import NamedType
from soinspect.loader.dynamic import c_identifier
from soinspect.loader.prediction import OUTCOMES, Outcome
from soinspect.loader.process import HostModel

KIND = "soinspect-host-manifest"
#: the manifest format version this soinspect reads and writes; any other is refused
MANIFEST_VERSION = 2
#: versions this soinspect reads: 1 lacks ``buildinfo.dirs`` (a host's relative replacements then do not
#: resolve to directories, so they are not compared: no cause or difference is claimed for them) and
#: ``loader`` (no interpreter, no exported symbols: glibc's loader is assumed, and a plugin symbol that no
#: library defines gives an unknown verdict instead of an error) and ``types`` (the host's named types: its
#: contract's package names resolve as without a host, a short name that could name two packages is
#: ``unknown``, and its ``expect`` types are as written)
READABLE_VERSIONS = (1, 2)
#: no real host's manifest comes near this (the corpus hosts' are 6-25 KiB); a bigger file is refused unread
MAX_MANIFEST_SIZE = 8 << 20
_MAX_ITEMS = 100_000  # packages, modules, settings, layout fields, expectations
_MAX_TEXT = 1 << 16  # any one string
_HEX = re.compile(r"[0-9a-f]*")
_SHA256 = re.compile(r"[0-9a-f]{64}")


# -- writing -----------------------------------------------------------------------------------------------


def manifest_document(model: HostModel, *, host_file: str, host_size: int) -> dict[str, Any]:
    """The manifest of *model* (read from the executable *host_file* of *host_size* bytes) as JSON data."""
    refusal = model.refusal
    layout = model.layout
    return {
        "kind": KIND,
        "manifest_version": MANIFEST_VERSION,
        "host": {"file": os.path.basename(host_file), "size": host_size, "sha256": model.sha256},
        "platform": model.target.name if model.target is not None else None,
        "go_version": model.go_version,
        "buildinfo": _buildinfo_json(model.buildinfo) if model.buildinfo is not None else None,
        "plugin_open": (
            {"callable": True}
            if refusal is None
            else {"callable": False, "outcome": refusal[0], "go_says": refusal[1], "why": refusal[2]}
        ),
        "runtime": {
            "moduledata_next": model.next_offset,
            "moduledata_layout": None
            if layout is None
            else {"size": layout[0], "fields": [[name, off] for name, off in layout[1]]},
            "exports_lastmoduledatap": model.exports_lastmoduledatap,
        },
        "pkghashes": {pkg: model.pkghashes[pkg] for pkg in sorted(model.pkghashes)},
        "expect": [{"name": n, "type": t} for n, t in model.expects],
        "loader": {
            "interp": model.interp,
            "exports": sorted(model.exports) if model.exports is not None else None,
            "exports_note": model.exports_note,
        },
        "types": {
            ident: {"path": t.path, "package": t.package, "methods": None if t.methods is None else list(t.methods)}
            for ident, t in sorted(model.named_types.items())
        },
    }


def write_manifest(model: HostModel, *, host_file: str, host_size: int) -> str:
    """The manifest text: :func:`manifest_document` as indented ASCII JSON ending in a newline."""
    return json.dumps(manifest_document(model, host_file=host_file, host_size=host_size), indent=1) + "\n"


def _module_json(m: Module) -> dict[str, Any]:
    return {
        "path": m.path,
        "version": m.version,
        "sum": m.sum,
        "replace": _module_json(m.replace) if m.replace is not None else None,
    }


def _buildinfo_json(bi: BuildInfo) -> dict[str, Any]:
    return {
        "path": bi.path,
        "main": _module_json(bi.main) if bi.main is not None else None,
        "deps": [_module_json(d) for d in bi.deps],
        "settings": [[s.key, s.value] for s in bi.settings],
        "dirs": [[m, d] for m, d in bi.dirs],
    }


# -- reading -----------------------------------------------------------------------------------------------


def is_manifest_file(path: str) -> bool:
    """Whether *path* reads as a manifest rather than an executable: its first non-blank byte is ``{``.

    Never blocks (a FIFO is not opened for reading); False for anything unreadable, so that reading it
    as an executable reports the access problem.
    """
    head = read_head(path, 256) or b""
    return head.lstrip(b" \t\r\n\xef\xbb\xbf")[:1] == b"{"


def read_manifest_bytes(path: str) -> bytes:
    """The bytes of the manifest at *path*, at most :data:`MAX_MANIFEST_SIZE` of them."""
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size > MAX_MANIFEST_SIZE:
                raise ManifestError(
                    path, f"host manifest is {size} bytes, over the {MAX_MANIFEST_SIZE}-byte limit of a manifest"
                )
            data = fh.read(MAX_MANIFEST_SIZE + 1)
    except OSError as exc:
        raise ManifestError(path, f"cannot read the host manifest: {exc.strerror or exc}") from None
    if len(data) > MAX_MANIFEST_SIZE:  # grew while being read
        raise ManifestError(path, f"host manifest is over the {MAX_MANIFEST_SIZE}-byte limit of a manifest")
    return data


def read_manifest(name: str, data: bytes) -> HostModel:
    """The host model a manifest describes; :class:`~soinspect.errors.ManifestError` for anything else.

    *name* is how results name the host (the manifest's path). Pure: reads nothing but *data*.
    """
    return _Reader(name).model(data)


class _Reader:
    """Checks every field's presence, type and range; the first problem refuses the whole document."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.version = MANIFEST_VERSION

    def fail(self, where: str, problem: str) -> NoReturn:
        raise ManifestError(self.name, f"damaged host manifest: {where}: {problem}")

    def model(self, data: bytes) -> HostModel:
        if len(data) > MAX_MANIFEST_SIZE:
            raise ManifestError(self.name, f"host manifest is over the {MAX_MANIFEST_SIZE}-byte limit of a manifest")
        try:
            text = data.decode("utf-8-sig")
            doc = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
        except UnicodeDecodeError as exc:
            raise ManifestError(self.name, f"damaged host manifest: not UTF-8 (byte {exc.start})") from None
        except (ValueError, RecursionError) as exc:
            problem = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ManifestError(self.name, f"damaged host manifest: not valid JSON: {problem}") from None
        top = self.obj(doc, "the document")
        if top.get("kind") != KIND:
            raise ManifestError(
                self.name, f'not a soinspect host manifest (its "kind" is {_show(top.get("kind"))}, not "{KIND}")'
            )
        version = top.get("manifest_version")
        if type(version) is not int or version not in READABLE_VERSIONS:
            raise ManifestError(
                self.name,
                f"unknown host manifest version {_show(version)}: this soinspect reads versions "
                f"{', '.join(map(str, READABLE_VERSIONS))} only (write the manifest with the same soinspect release "
                "that reads it)",
            )
        self.version = version
        self.keys(
            top,
            "the document",
            (
                "kind",
                "manifest_version",
                "host",
                "platform",
                "go_version",
                "buildinfo",
                "plugin_open",
                "runtime",
                "pkghashes",
                "expect",
                *(("loader", "types") if version >= 2 else ()),
            ),
        )
        host = self.obj(top["host"], "host")
        self.keys(host, "host", ("file", "size", "sha256"))
        host_file = self.text(host["file"], "host.file")
        if host_file in ("", ".", "..") or "/" in host_file:
            # what soinspect manifest writes (the executable's base name), and all a report shows
            self.fail("host.file", f"not a file name: {_show(host_file)}")
        self.count(host["size"], "host.size", 1 << 62)
        sha = host["sha256"]
        if not isinstance(sha, str) or not _SHA256.fullmatch(sha):
            self.fail("host.sha256", f"not 64 lowercase hex digits: {_show(sha)}")
        platform = top["platform"]
        if platform is not None and (not isinstance(platform, str) or platform not in TARGETS):
            self.fail("platform", f"unknown platform {_show(platform)}")
        target = TARGETS[platform] if platform is not None else None
        go_version = self.opt(top["go_version"], "go_version", self.text)
        bi = self.opt(top["buildinfo"], "buildinfo", lambda v, w: self.buildinfo(v, w, go_version))
        if (bi is None) != (go_version is None):
            self.fail("buildinfo", "present without go_version, or go_version without buildinfo")
        refusal = self.plugin_open(top["plugin_open"])
        runtime = self.obj(top["runtime"], "runtime")
        self.keys(runtime, "runtime", ("moduledata_next", "moduledata_layout", "exports_lastmoduledatap"))
        next_offset = self.opt(runtime["moduledata_next"], "runtime.moduledata_next", self.offset)
        layout = self.opt(runtime["moduledata_layout"], "runtime.moduledata_layout", self.layout)
        exports = runtime["exports_lastmoduledatap"]
        if not isinstance(exports, bool):
            self.fail("runtime.exports_lastmoduledatap", f"not true or false: {_show(exports)}")
        pkghashes = self.pkghashes(top["pkghashes"])
        named = self.named_types(top["types"]) if version >= 2 else {}
        expects = self.expects(top["expect"], named)
        interp, exported, note = self.loader(top["loader"]) if version >= 2 else (None, None, None)
        named = self.named_types(top["types"]) if version >= 2 else {}
        expects = self.expects(top["expect"], named)
        return HostModel(
            name=self.name,
            implicit=False,
            target=target,
            refusal=refusal,
            next_offset=next_offset,
            layout=layout,
            exports_lastmoduledatap=exports,
            pkghashes=pkghashes,
            buildinfo=bi,
            sha256=sha,
            expects=expects,
            named_types=named,
            manifest_of=host_file,
            interp=interp,
            exports=exported,
            exports_note=note,
        )

    def loader(self, v: object) -> tuple[str | None, frozenset[str] | None, str | None]:
        d = self.obj(v, "loader")
        self.keys(d, "loader", ("interp", "exports", "exports_note"))
        interp = self.opt(d["interp"], "loader.interp", self.text)
        if interp is not None and not interp.startswith("/"):
            self.fail("loader.interp", f"not an absolute path: {_show(interp)}")
        names = None
        if d["exports"] is not None:
            listed = self.arr(d["exports"], "loader.exports")
            names = frozenset(self.text(n, f"loader.exports[{i}]") for i, n in enumerate(listed))
            bad = next((n for n in sorted(names) if not c_identifier(n.split("@", 1)[0]) or n.count("@") > 2), None)
            if bad is not None:
                self.fail("loader.exports", f"not a C symbol (name, name@VERSION or name@@VERSION): {_show(bad)}")
        note = self.opt(d["exports_note"], "loader.exports_note", self.text)
        return interp, names, note

    # -- fields --------------------------------------------------------------------------------------------
    def obj(self, v: object, where: str) -> dict[str, Any]:
        if not isinstance(v, dict):
            self.fail(where, f"expected an object, got {_kind(v)}")
        return v

    def arr(self, v: object, where: str) -> list[Any]:
        if not isinstance(v, list):
            self.fail(where, f"expected an array, got {_kind(v)}")
        if len(v) > _MAX_ITEMS:
            self.fail(where, f"{len(v)} entries, over the limit of {_MAX_ITEMS}")
        return v

    def keys(self, d: dict[str, Any], where: str, wanted: tuple[str, ...]) -> None:
        for k in d:
            if k not in wanted:
                self.fail(where, f"unknown field {_show(k)}")
        for k in wanted:
            if k not in d:
                self.fail(where, f"missing field {_show(k)}")

    def text(self, v: object, where: str) -> str:
        if not isinstance(v, str):
            self.fail(where, f"expected a string, got {_kind(v)}")
        if len(v) > _MAX_TEXT or "\x00" in v:
            self.fail(where, "string too long or holding a NUL byte")
        return v

    def count(self, v: object, where: str, limit: int) -> int:
        if type(v) is not int or not 0 <= v <= limit:
            self.fail(where, f"expected an integer from 0 to {limit}, got {_show(v)}")
        return v

    def offset(self, v: object, where: str) -> int:
        return self.count(v, where, 1 << 20)

    def opt(self, v: object, where: str, read: Callable[[object, str], Any]) -> Any:
        return None if v is None else read(v, where)

    def module(self, v: object, where: str, depth: int = 0) -> Module:
        d = self.obj(v, where)
        self.keys(d, where, ("path", "version", "sum", "replace"))
        replace = None
        if d["replace"] is not None:
            if depth > 0:
                self.fail(f"{where}.replace", "a replacement cannot itself be replaced")
            replace = self.module(d["replace"], f"{where}.replace", depth + 1)
        return Module(
            self.text(d["path"], f"{where}.path"),
            self.text(d["version"], f"{where}.version"),
            self.text(d["sum"], f"{where}.sum"),
            replace,
        )

    def buildinfo(self, v: object, where: str, go_version: str | None) -> BuildInfo:
        d = self.obj(v, where)
        self.keys(d, where, ("path", "main", "deps", "settings", *(("dirs",) if self.version >= 2 else ())))
        main = self.opt(d["main"], f"{where}.main", self.module)
        deps = tuple(self.module(m, f"{where}.deps[{i}]") for i, m in enumerate(self.arr(d["deps"], f"{where}.deps")))
        settings = []
        for i, kv in enumerate(self.arr(d["settings"], f"{where}.settings")):
            pair = self.arr(kv, f"{where}.settings[{i}]")
            if len(pair) != 2:
                self.fail(f"{where}.settings[{i}]", "expected [key, value]")
            settings.append(BuildSetting(self.text(pair[0], f"{where}.settings[{i}]"), self.text(pair[1], where)))
        dirs = []
        for i, md in enumerate(self.arr(d["dirs"], f"{where}.dirs") if self.version >= 2 else ()):
            pair = self.arr(md, f"{where}.dirs[{i}]")
            if len(pair) != 2:
                self.fail(f"{where}.dirs[{i}]", "expected [module, directory]")
            dirs.append((self.text(pair[0], f"{where}.dirs[{i}]"), self.text(pair[1], f"{where}.dirs[{i}]")))
        return BuildInfo(
            go_version or "",
            path=self.text(d["path"], f"{where}.path"),
            main=main,
            deps=deps,
            settings=tuple(settings),
            source="host manifest",
            dirs=tuple(dirs),
        )

    def plugin_open(self, v: object) -> tuple[Outcome, str | None, str] | None:
        d = self.obj(v, "plugin_open")
        callable_ = d.get("callable")
        if callable_ is True:
            self.keys(d, "plugin_open", ("callable",))
            return None
        if callable_ is not False:
            self.fail("plugin_open.callable", f"not true or false: {_show(callable_)}")
        self.keys(d, "plugin_open", ("callable", "outcome", "go_says", "why"))
        outcome = d["outcome"]
        if outcome not in OUTCOMES or outcome == "ok":
            self.fail("plugin_open.outcome", f"not a failing outcome: {_show(outcome)}")
        out: Outcome = outcome
        go_says = self.opt(d["go_says"], "plugin_open.go_says", self.text)
        return out, go_says, self.text(d["why"], "plugin_open.why")

    def layout(self, v: object, where: str) -> tuple[int, tuple[tuple[str, int], ...]]:
        d = self.obj(v, where)
        self.keys(d, where, ("size", "fields"))
        size = self.offset(d["size"], f"{where}.size")
        fields = []
        for i, f in enumerate(self.arr(d["fields"], f"{where}.fields")):
            pair = self.arr(f, f"{where}.fields[{i}]")
            if len(pair) != 2:
                self.fail(f"{where}.fields[{i}]", "expected [name, offset]")
            fields.append((self.text(pair[0], f"{where}.fields[{i}]"), self.offset(pair[1], f"{where}.fields[{i}]")))
        return size, tuple(fields)

    def pkghashes(self, v: object) -> dict[str, str]:
        d = self.obj(v, "pkghashes")
        if len(d) > _MAX_ITEMS:
            self.fail("pkghashes", f"{len(d)} packages, over the limit of {_MAX_ITEMS}")
        out: dict[str, str] = {}
        for pkg, hx in d.items():
            self.text(pkg, "pkghashes")
            where = f"pkghashes[{_show(pkg)}]"
            if not pkg:
                self.fail("pkghashes", "an empty package name")
            if not isinstance(hx, str) or not hx or len(hx) % 2 or len(hx) > 256 or not _HEX.fullmatch(hx):
                self.fail(where, f"not a fingerprint in lowercase hex: {_show(hx)}")
            out[pkg] = hx
        return out

    def expects(self, v: object, named: dict[str, NamedType]) -> tuple[tuple[str, str], ...]:
        """The contract: each type must be a Go type, its package names resolved as the host resolves
        them (version 2 writes them resolved, with import paths)."""
        packages = typeexpr.Packages(named, host=bool(named))
        out = []
        for i, e in enumerate(self.arr(v, "expect")):
            d = self.obj(e, f"expect[{i}]")
            self.keys(d, f"expect[{i}]", ("name", "type"))
            name, typ = self.text(d["name"], f"expect[{i}].name"), self.text(d["type"], f"expect[{i}].type")
            if not name or not typ:
                self.fail(f"expect[{i}]", "an empty name or type")
            try:
                typeexpr.canonical(typ, packages=packages)
            except typeexpr.Undecidable:
                pass  # a Go type whose identity the spelling does not tell: the check says unknown
            except ValueError as exc:
                self.fail(f"expect[{i}].type", f"{_show(typ)} is not a Go type: {exc}")
            out.append((name, typ))
        return tuple(out)

    def named_types(self, v: object) -> dict[str, NamedType]:
        d = self.obj(v, "types")
        if len(d) > _MAX_ITEMS:
            self.fail("types", f"{len(d)} types, over the limit of {_MAX_ITEMS}")
        out: dict[str, NamedType] = {}
        for ident, t in d.items():
            where = f"types[{_show(ident)}]"
            self.text(ident, "types")
            e = self.obj(t, where)
            self.keys(e, where, ("path", "package", "methods"))
            path, package = self.text(e["path"], f"{where}.path"), self.text(e["package"], f"{where}.package")
            if not path or not package or not ident.startswith(path + "."):
                self.fail(where, "not import/path.Name with its path and package name")
            methods = None
            if e["methods"] is not None:
                methods = tuple(self.text(m, f"{where}.methods") for m in self.arr(e["methods"], f"{where}.methods"))
            out[ident] = NamedType(path, package, methods)
        return out


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"field {_show(k)} appears twice in one object")
        out[k] = v
    return out


def _no_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a JSON number")


def _kind(v: object) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(v), "a number"
    )


def _show(v: object) -> str:
    """A value from the document, quoted and cut short, on one line."""
    text = json.dumps(v, ensure_ascii=True) if isinstance(v, str | int | float | bool | type(None)) else _kind(v)
    return text if len(text) <= 60 else text[:57] + "..."
