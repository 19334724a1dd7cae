"""Go type expressions as people write them, compared by type identity rather than by spelling.

``--expect 'Add=func(a, b int) int'`` must accept a plugin whose ``Add`` prints (``%T``) as
``func(int, int) int``: the host's type assertion ``sym.(func(a, b int) int)`` succeeds, because Go
compares types by identity (the Go spec, "Type identity"), not by how they are written. :func:`canonical`
parses a type written in Go syntax and prints it the way ``reflect.Type.String`` (and so ``%T``) does,
with everything that does not take part in identity removed:

* the predeclared aliases ``byte`` (``uint8``), ``rune`` (``int32``) and ``any`` (``interface {}``);
* spacing, and the parentheses of a single unnamed result;
* parameter and result names (``func(a, b int) (n int)`` is ``func(int, int) int``);
* the order in which an interface's methods are written (``reflect`` sorts them);
* a struct tag's quoting (a raw string and an interpreted one with the same value are the same tag).

What does take part stays: field names, embedded fields and tags of a struct, variadic ``...T`` against
``[]T``, channel directions, array lengths, named types against their underlying types (``error`` is not
``interface { Error() string }``). Each rule is confirmed by a real Go host asserting the type on a real
plugin (``corpus/typeassert.json``, checked by ``tests/test_expect_identity.py``).

Two things cannot be told from a spelling alone, and :func:`canonical` reports them as
:class:`Undecidable` rather than guess: an unexported struct field or interface method (identical only
when the host asserts it inside the package that declares it), and an interface that embeds a named
interface other than ``error`` (its methods are not known from the name).

With :class:`Packages` (what the host, or the plugin, carries descriptors for), :func:`canonical` gives
the type's *identity* instead, the form :meth:`soinspect.go.gotypes.TypePrinter.identity` prints a
descriptor in: package names resolved to import paths (``example.com/real/api.Logger``), unexported
names qualified with their package (``main.b``), an embedded named interface's methods written out. The
check (:mod:`soinspect.verdict.expect`) compares those; :func:`printed` turns an identity back into what
``%T`` (and a panic message) prints. A name left unresolved (no host) is marked, and :func:`matches`
says None where it could match: ``unknown``, never a pass.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from soinspect._frozen import frozen
from soinspect.go.gotypes import NamedType, go_quote

#: predeclared aliases and the type reflect prints for each
ALIASES = {"byte": "uint8", "rune": "int32", "any": "interface {}"}
_KEYWORDS = {"func", "map", "chan", "struct", "interface"}
_MAX_LEN = 4096  # a type written on a command line; longer is a mistake
_MAX_DEPTH = 64

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<ellipsis>\.\.\.)
    | (?P<arrow><-)
    | (?P<punct>[][(){}*,;])
    | (?P<string>"(?:[^"\\\n]|\\.)*"|`[^`]*`)
    | (?P<int>[0-9][0-9a-fA-FxXoO_]*(?![\w.]))
    | (?P<name>[^\W\d]\w*(?:[./-][^\W\d]?[\w~]*)*)
    )""",
    re.VERBOSE,
)


class Undecidable(ValueError):
    """The type is well formed, but whether a host's assertion of it accepts a plugin's symbol cannot be
    told from its spelling (see the module docstring)."""


class Unresolvable(ValueError):
    """A short package name names no package the host links that defines the type, or more than one: a
    mistake in the contract, said in one line with the candidates."""


#: marks a package name that could not be resolved (no host): ``\x00api\x00.Logger`` in an identity
UNRESOLVED = "\x00"


@frozen
class Packages:
    """What a contract's package qualifiers resolve against: the named types a host (``host=True``) or
    only the plugin carries, by identity (:func:`soinspect.go.facts.read_named_types`).

    A qualifier with a ``/`` or a ``.`` is an import path, as go/types prints one. A bare word
    (``fmt``, ``api``) is an import path when a package at exactly that path is known (the standard
    library's, as go/types prints them); otherwise it is a package name: against a host, the one package
    of that name that defines the type (:class:`Unresolvable` for none or several); without a host it
    stays unresolved, and a comparison that depends on it is ``unknown``.
    """

    named: Mapping[str, NamedType]
    host: bool = False
    #: the package whose code writes the assertion: the package of unexported names in a type literal
    home: str = "main"
    #: a Go source file's imports (name -> path): package names resolve through them alone, as the
    #: compiler resolves them (a contract file, :mod:`soinspect.go.contract`)
    imports: Mapping[str, str] | None = None

    def resolve(self, qualifier: str, name: str) -> str:
        if self.imports is not None and qualifier in self.imports:
            return self.imports[qualifier]
        if "/" in qualifier or "." in qualifier:
            return qualifier
        if self.imports is not None:
            raise Unresolvable(f"{qualifier}.{name}: no import names {qualifier}")
        base = name.split("[", 1)[0]
        paths = {t.path for t in self.named.values()}
        if qualifier in paths:
            return qualifier
        if not self.host:
            return UNRESOLVED + qualifier + UNRESOLVED
        found = sorted(
            {
                t.path
                for ident, t in self.named.items()
                if t.package == qualifier and ident.split("[", 1)[0] == f"{t.path}.{base}"
            }
        )
        if len(found) == 1:
            return found[0]
        named = sorted({t.path for t in self.named.values() if t.package == qualifier})
        if not found:
            have = f"packages named {qualifier}: {', '.join(named)}" if named else f"no package named {qualifier}"
            raise Unresolvable(
                f"{qualifier}.{base}: the host links no package named {qualifier} that defines {base} ({have}); "
                "write the import path"
            )
        raise Unresolvable(
            f"{qualifier}.{base}: the host links {len(found)} packages named {qualifier} that define {base} "
            f"({', '.join(found)}); write the import path"
        )

    def interface(self, ident: str) -> tuple[str, ...] | None:
        t = self.named.get(ident)
        return t.methods if t is not None else None


@dataclass
class _Tokens:
    items: list[tuple[str, str]]
    pos: int = 0

    def peek(self, k: int = 0) -> tuple[str, str]:
        i = self.pos + k
        return self.items[i] if i < len(self.items) else ("end", "")

    def next(self) -> tuple[str, str]:
        t = self.peek()
        self.pos += 1
        return t

    def expect(self, value: str) -> None:
        kind, v = self.next()
        if v != value or kind in ("string", "end"):
            raise ValueError(f"expected {value!r}, found {v!r}" if kind != "end" else f"expected {value!r} at the end")


def _tokenize(text: str) -> _Tokens:
    if len(text) > _MAX_LEN:
        raise ValueError(f"type is {len(text)} characters long, over the limit of {_MAX_LEN}")
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if m is None or m.lastgroup is None:
            bad = text[pos:].lstrip()[:1]
            raise ValueError(f"unexpected character {bad!r}")
        out.append((m.lastgroup, m.group(m.lastgroup)))
        pos = m.end()
    return _Tokens(out)


def canonical(text: str, *, printed: bool = False, packages: Packages | None = None) -> str:
    """*text*, a Go type, printed as ``%T`` prints the identical type. ValueError if it is not a type;
    :class:`Undecidable` if identity cannot be decided from the spelling.

    ``printed=True`` reads a type as ``%T`` printed it for a real symbol: an unexported field or method
    there is simply part of the type (the plugin's own package declared it), not undecidable.

    With *packages*, the result is the type's identity as :meth:`TypePrinter.identity
    <soinspect.go.gotypes.TypePrinter.identity>` prints a descriptor's: qualifiers resolved to import
    paths (:meth:`Packages.resolve`), unexported field and method names qualified with the package that
    writes the assertion (``Packages.home``), an embedded named interface's methods written out.
    """
    toks = _tokenize(text)
    out = _Parser(toks, printed=printed, packages=packages).type(0)
    kind, v = toks.peek()
    if kind != "end":
        raise ValueError(f"unexpected {v!r} after the type")
    return out


def identical(a: str, b: str) -> bool:
    """Whether the Go types spelled *a* and *b* are identical (ValueError / :class:`Undecidable` as in
    :func:`canonical`)."""
    return canonical(a) == canonical(b)


def is_empty_interface(text: str) -> bool:
    """``interface {}`` however spelled (``any``): asserting it accepts every symbol."""
    try:
        return canonical(text) == "interface {}"
    except ValueError:
        return False


class _Parser:
    def __init__(self, toks: _Tokens, *, printed: bool = False, packages: Packages | None = None) -> None:
        self.t = toks
        self.printed = printed
        self.packages = packages

    def exported(self, name: str, what: str) -> None:
        if not self.printed and self.packages is None:
            _check_exported(name, what)

    def member(self, name: str) -> str:
        """A field or method name; an unexported one qualified with its package, in identity mode."""
        if self.packages is None or name[:1].isupper() or name == "_" or "." in name:
            return name  # "." : already qualified (an identity read back, as a manifest carries it)
        return f"{self.packages.home}.{name}"

    def qualify(self, name: str) -> str:
        """``api.Logger`` -> ``example.com/real/api.Logger`` in identity mode (:meth:`Packages.resolve`)."""
        if self.packages is None or "." not in name:
            return name
        qualifier, _, base = name.rpartition(".")
        if not qualifier or not base:
            raise ValueError(f"bad qualified name {name!r}")
        return f"{self.packages.resolve(qualifier, base)}.{base}"

    def type(self, depth: int) -> str:
        if depth > _MAX_DEPTH:
            raise ValueError(f"type nested deeper than {_MAX_DEPTH} levels")
        d = depth + 1
        kind, v = self.t.next()
        if kind == "punct" and v == "*":
            return "*" + self.type(d)
        if kind == "punct" and v == "(":
            inner = self.type(d)
            self.t.expect(")")
            return inner
        if kind == "punct" and v == "[":
            k, n = self.t.peek()
            if k == "punct" and n == "]":
                self.t.next()
                return "[]" + self.type(d)
            if k != "int":
                raise ValueError(f"expected an array length, found {n!r}")
            self.t.next()
            self.t.expect("]")
            return f"[{_int(n)}]" + self.type(d)
        if kind == "arrow":
            self.t.expect("chan")
            return "<-chan " + self.type(d)
        if kind == "name" and v == "chan":
            if self.t.peek()[0] == "arrow":
                self.t.next()
                return "chan<- " + self.type(d)
            elem = self.type(d)
            return f"chan ({elem})" if elem.startswith("<-chan") else "chan " + elem
        if kind == "name" and v == "map":
            self.t.expect("[")
            key = self.type(d)
            self.t.expect("]")
            return f"map[{key}]" + self.type(d)
        if kind == "name" and v == "func":
            return "func" + self.signature(d)
        if kind == "name" and v == "struct":
            return self.struct(d)
        if kind == "name" and v == "interface":
            return self.interface(d)
        if kind == "name":
            return self.named(v, d)
        raise ValueError(f"expected a type, found {v!r}" if kind != "end" else "expected a type at the end")

    def named(self, name: str, depth: int) -> str:
        if name in ALIASES:
            return ALIASES[name]
        name = self.qualify(name)
        if self.t.peek() == ("punct", "[") and not self._array_follows():
            self.t.next()
            args = [self.type(depth)]
            while self.t.peek() == ("punct", ","):
                self.t.next()
                if self.t.peek() == ("punct", "]"):
                    break
                args.append(self.type(depth))
            self.t.expect("]")
            return f"{name}[{','.join(args)}]"
        return name

    def _array_follows(self) -> bool:
        """After a name, ``[`` opens a slice or array type (a parameter name then its type) when ``]`` or
        a length follows; otherwise it opens type arguments."""
        k, v = self.t.peek(1)
        return (k == "punct" and v == "]") or k == "int"

    def _starts_type(self, k: int = 0) -> bool:
        kind, v = self.t.peek(k)
        return kind in ("name", "arrow", "ellipsis") or (kind == "punct" and v in ("*", "[", "("))

    # -- functions ---------------------------------------------------------------------------------------
    def signature(self, depth: int) -> str:
        params = self.params(depth)
        results: list[str] = []
        if self.t.peek() == ("punct", "("):
            results = self.params(depth)
            if any(r.startswith("...") for r in results):
                raise ValueError("a result cannot be variadic")
        elif self._starts_type() and self.t.peek()[0] != "ellipsis":
            results = [self.type(depth)]
        out = f"({', '.join(params)})"
        if len(results) == 1:
            out += " " + results[0]
        elif results:
            out += f" ({', '.join(results)})"
        return out

    def params(self, depth: int) -> list[str]:
        """A parameter list, names dropped: ``(a, b int, c ...string)`` -> ``[int, int, ...string]``."""
        self.t.expect("(")
        entries: list[tuple[str | None, str | None]] = []  # (name, type); a lone name: (name, None)
        while self.t.peek() != ("punct", ")"):
            kind, v = self.t.peek()
            if kind == "name" and v not in _KEYWORDS and "." not in v and v not in ALIASES:
                follows = self.t.peek(1)
                named = self._starts_type(1) and not (follows == ("punct", "[") and not self._named_array())
                if named:
                    self.t.next()
                    entries.append((v, self.param_type(depth)))
                elif follows in (("punct", ","), ("punct", ")")):
                    self.t.next()
                    entries.append((v, None))  # a name sharing the next type, or a type by itself
                else:
                    entries.append((None, self.param_type(depth)))
            else:
                entries.append((None, self.param_type(depth)))
            if self.t.peek() == ("punct", ","):
                self.t.next()
            elif self.t.peek() != ("punct", ")"):
                raise ValueError(f"expected ',' or ')' in a parameter list, found {self.t.peek()[1]!r}")
        self.t.expect(")")
        out: list[str] = []
        if any(n is not None and t is not None for n, t in entries):
            pending = 0
            for name, typ in entries:
                if typ is None:
                    pending += 1
                    continue
                if name is None:
                    raise ValueError("mixed named and unnamed parameters")
                out.extend([typ] * (pending + 1))
                pending = 0
            if pending:
                raise ValueError("missing the type of the last parameters")
        else:
            out = [t if t is not None else self._lone(n) for n, t in entries]
        if any(p.startswith("...") for p in out[:-1]):
            raise ValueError("only the last parameter can be variadic")
        return out

    def _named_array(self) -> bool:
        k, v = self.t.peek(2)
        return (k == "punct" and v == "]") or k == "int"

    @staticmethod
    def _lone(name: str | None) -> str:
        assert name is not None
        return ALIASES.get(name, name)

    def param_type(self, depth: int) -> str:
        if self.t.peek()[0] == "ellipsis":
            self.t.next()
            return "..." + self.type(depth)
        return self.type(depth)

    # -- structs and interfaces --------------------------------------------------------------------------
    def struct(self, depth: int) -> str:
        self.t.expect("{")
        fields: list[str] = []
        while self.t.peek() != ("punct", "}"):
            fields.extend(self.field(depth))
            if self.t.peek() == ("punct", ";"):
                self.t.next()
            elif self.t.peek() != ("punct", "}"):
                raise ValueError(f"expected ';' or '}}' between struct fields, found {self.t.peek()[1]!r}")
        self.t.expect("}")
        return "struct { " + "; ".join(fields) + " }" if fields else "struct {}"

    def field(self, depth: int) -> list[str]:
        kind, v = self.t.peek()
        names: list[str] = []
        dotted_ok = "." not in v or self.packages is not None  # a qualified unexported name, read back
        if kind == "name" and v not in _KEYWORDS and dotted_ok and self._field_names_follow():
            names.append(self.t.next()[1])
            while self.t.peek() == ("punct", ","):
                self.t.next()
                k, n = self.t.next()
                if k != "name":
                    raise ValueError(f"expected a field name, found {n!r}")
                names.append(n)
            typ = self.type(depth)
        else:  # an embedded field: T, *T, pkg.T
            typ = self.type(depth)
            base = typ.lstrip("*").split("[", 1)[0]
            embedded = base.rsplit(".", 1)[-1]
            self.exported(embedded, "embedded field")
            tag = self.tag()
            return [typ + tag]
        tag = self.tag()
        for n in names:
            self.exported(n, "struct field")
        return [f"{self.member(n)} {typ}{tag}" for n in names]

    def _field_names_follow(self) -> bool:
        nxt = self.t.peek(1)
        if nxt == ("punct", ","):
            return True
        if nxt == ("punct", "[") and not self._named_array():
            return False
        return self._starts_type(1)

    def tag(self) -> str:
        kind, v = self.t.peek()
        if kind != "string":
            return ""
        self.t.next()
        return " " + go_quote(_unquote(v))

    def interface(self, depth: int) -> str:
        self.t.expect("{")
        methods: dict[str, str] = {}
        while self.t.peek() != ("punct", "}"):
            kind, v = self.t.next()
            if kind != "name" or v in _KEYWORDS:
                raise ValueError(f"expected a method name, found {v!r}")
            if self.t.peek() == ("punct", "("):
                self.exported(v, "interface method")
                label = self.member(v)
                methods[label] = label + self.signature(depth)
            elif v == "error":
                methods["Error"] = "Error() string"
            elif v == "any":
                pass
            elif self.packages is not None and (embedded := self.packages.interface(self.qualify(v))) is not None:
                for m in embedded:
                    methods[m.split("(", 1)[0]] = m
            else:
                raise Undecidable(
                    f"the interface embeds {v}: write its methods out, as %T prints them "
                    "(soinspect cannot know a named interface's methods from its name)"
                )
            if self.t.peek() == ("punct", ";"):
                self.t.next()
            elif self.t.peek() != ("punct", "}"):
                raise ValueError(f"expected ';' or '}}' between interface methods, found {self.t.peek()[1]!r}")
        self.t.expect("}")
        if not methods:
            return "interface {}"
        return "interface { " + "; ".join(methods[m] for m in sorted(methods)) + " }"


def _check_exported(name: str, what: str) -> None:
    if not name[:1].isupper():
        raise Undecidable(
            f"unexported {what} {name}: Go identifies it with the package that declares it, so a host's "
            "assertion accepts it only inside that package; soinspect cannot tell from the spelling"
        )


def _int(text: str) -> int:
    digits = text.replace("_", "")
    try:
        if len(digits) > 1 and digits[0] == "0" and digits[1].isdigit():
            return int(digits, 8)
        return int(digits, 0)
    except ValueError:
        raise ValueError(f"bad array length {text!r}") from None


_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\", '"': '"'}


def _unquote(lit: str) -> str:
    """A Go string literal's value (raw or interpreted)."""
    if lit.startswith("`"):
        return lit[1:-1].replace("\r", "")
    body, out, i = lit[1:-1], [], 0
    while i < len(body):  # bounded by the literal's length
        c = body[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        e = body[i + 1 : i + 2]
        if e in _ESCAPES:
            out.append(_ESCAPES[e])
            i += 2
        elif e in ("x", "u", "U"):
            n = {"x": 2, "u": 4, "U": 8}[e]
            hx = body[i + 2 : i + 2 + n]
            if len(hx) != n or not all(ch in "0123456789abcdefABCDEF" for ch in hx):
                raise ValueError(f"bad escape in the tag {lit!r}")
            out.append(chr(int(hx, 16)))
            i += 2 + n
        elif e[:1] in "01234567" and e:
            oc = body[i + 1 : i + 4]
            if len(oc) != 3 or not all(ch in "01234567" for ch in oc):
                raise ValueError(f"bad escape in the tag {lit!r}")
            out.append(chr(int(oc, 8)))
            i += 4
        else:
            raise ValueError(f"bad escape in the tag {lit!r}")
    return "".join(out)




def methods_of(canon: str) -> list[str]:
    """The methods of an interface literal as :func:`canonical` prints it (``interface { A(); B() int }``)."""
    body = canon[len("interface {") : -1].strip()
    out, depth, start, quoted = [], 0, 0, ""
    for i, ch in enumerate(body):  # bounded by the text
        if quoted:
            if ch == quoted and body[i - 1] != "\\":
                quoted = ""
        elif ch in "\"`":
            quoted = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == ";" and depth == 0:
            out.append(body[start:i].strip())
            start = i + 1
    if body[start:].strip():
        out.append(body[start:].strip())
    return out


def matches(want: str, identity: str) -> bool | None:
    """Whether the plugin's *identity* is the type *want* (an identity from :func:`canonical`): True or
    False; None when *want* holds an unresolved package name and *identity* matches it for some package."""
    if UNRESOLVED not in want:
        return want == identity
    parts = want.split(UNRESOLVED)
    pattern = "".join(re.escape(p) if i % 2 == 0 else r"[^\s;,()\[\]{}*]+" for i, p in enumerate(parts))
    return None if re.fullmatch(pattern, identity) else False


def shown(identity: str) -> str:
    """An identity as people read it (an unresolved package name without its marks)."""
    return identity.replace(UNRESOLVED, "")


_QUALIFIED = re.compile(r"[^\W\d][\w.~/-]*\.[^\W\d]\w*")


def printed(identity: str, tables: Sequence[Mapping[str, NamedType]] = ()) -> str:
    """An identity printed as reflect (``%T``, a panic message) prints the type: a named type with its
    package's name (from *tables*, else the import path's last element), a type argument with its import
    path, a field or method name without its package."""
    out: list[str] = []
    pos, generic = 0, 0
    text = shown(identity)
    for m in _QUALIFIED.finditer(text):
        if m.start() > 0 and text[m.start() - 1] in "\"`":
            continue
        before = text[pos : m.start()]
        generic += before.count("[") - before.count("]") if generic else 0
        out.append(before)
        word, after = m.group(), text[m.end() : m.end() + 2]
        path, _, base = word.rpartition(".")
        if generic:
            out.append(word)
        elif after[:1] == "(" or (after[:1] == " " and after[1:2] not in ('"', "`", "}")):
            out.append(base)  # a method or field name
        else:
            pkg = next((t[word].package for t in tables if word in t), path.rsplit("/", 1)[-1])
            out.append(f"{pkg}.{base}")
            if text[m.end() : m.end() + 1] == "[" and text[m.end() + 1 : m.end() + 2] not in "]0123456789":
                generic = 1
                out.append("[")
                pos = m.end() + 1
                continue
        pos = m.end()
    out.append(text[pos:])
    return "".join(out)
