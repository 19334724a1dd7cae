#!/usr/bin/env python3
"""Record what a real Go host's type assertion accepts, for ``--expect``'s type identity rules.

For each (symbol, spelling) below, a generated Go host opens the corpus plugin ``types.so`` with
``plugin.Open``, looks the symbol up and runs ``_, ok := sym.(SPELLING)``: the spelling is compiled into
the host, exactly as a server's source would write it. The host prints one JSON line per case: the
symbol, the spelling, whether the assertion succeeded, and ``%T`` of the symbol. This script writes them
to ``corpus/typeassert.json``; ``tests/test_expect_identity.py`` checks that soinspect's comparison agrees
with every one. Nothing in typeassert.json is written by hand.

    python3 corpus/typeassert.py          # needs go1.27.3 (scripts/go-toolchain.sh) and corpus/bin/types.so.xz

The host is built like the corpus's go1.27.3 hosts (corpus/build.py's environment, the same GOROOT), so
the plugin loads into it; it never calls plugin code, it only looks symbols up and asserts their types.
"""

from __future__ import annotations

import json
import lzma
import os
import subprocess
import sys
import tempfile
from pathlib import Path

CORPUS = Path(__file__).resolve().parent
sys.path.insert(0, str(CORPUS))

from build import COMMON_ENV, SCRATCH, go_binary  # noqa: E402

GO_VERSION = "1.27.3"
PLUGIN = "types.so"

#: (exported symbol of corpus/src/types/types.go, the type a host asserts, as a person writes it)
CASES: list[tuple[str, str]] = [
    # byte / uint8, rune / int32
    ("VByte", "*byte"),
    ("VByte", "*uint8"),
    ("VByte", "*int8"),
    ("VRune", "*rune"),
    ("VRune", "*int32"),
    ("VRune", "*uint32"),
    ("VBytes", "*[]byte"),
    ("VBytes", "*[]uint8"),
    ("VBytes", "*[]int8"),
    ("Mixed", "func(s string, b []byte, f float64) bool"),
    ("Mixed", "func(string, []uint8, float64) bool"),
    ("Mixed", "func(string, string, float64) bool"),
    # any / interface {}
    ("VAny", "*any"),
    ("VAny", "*interface{}"),
    ("VAny", "*interface {  }"),
    ("VAnyAlias", "*interface{}"),
    ("VAnyAlias", "*any"),
    ("VAny", "*error"),
    ("Greet", "any"),
    ("VInt", "interface{}"),
    # spacing
    ("Add", "func(int,int)int"),
    ("Add", "func( int , int ) int"),
    ("VMap", "*map[ string ][ ]int"),
    ("VMap", "*map[string][]int"),
    ("VMap", "*map[string][]int64"),
    # parameter and result names
    ("Add", "func(a, b int) int"),
    ("Add", "func(x int, y int) (sum int)"),
    ("Add", "func(int, int) (int)"),
    ("Add", "func(int, int) int64"),
    ("Add", "func(int) int"),
    ("Add", "func(int, int)"),
    ("Named", "func() (n int, err error)"),
    ("Named", "func() (int, error)"),
    ("Named", "func() (error, int)"),
    ("Pair", "func() (count int, e error)"),
    ("Callback", "func(f func(x int) (s string)) (out string)"),
    ("Callback", "func(func(int) string) string"),
    ("Callback", "func(func(int) []byte) string"),
    ("VFuncMulti", "*func(s string, xs ...int) (n int, err error)"),
    ("VFuncMulti", "*func(string, ...int) (int, error)"),
    ("VFuncMulti", "*func(string, []int) (int, error)"),
    ("Variadic", "func(format string, args ...int) error"),
    ("Variadic", "func(string, []int) error"),
    ("VFuncOfFunc", "*func(f func() (n int)) func() (s string)"),
    ("ReturnsFunc", "func() func() error"),
    ("ReturnsFunc", "func() (f func() (err error))"),
    ("NoArgs", "func()"),
    ("NoArgs", "func() ()"),
    # pointers, arrays, channels: real differences stay differences
    ("VArray", "*[4]uint16"),
    ("VArray", "*[0x4]uint16"),
    ("VArray", "*[5]uint16"),
    ("VArray", "*[4]int16"),
    ("VPtrInt", "**int"),
    ("VPtrInt", "*int"),
    ("VSendChan", "*chan<- int"),
    ("VSendChan", "*chan int"),
    ("VSendChan", "*<-chan int"),
    ("VRecvChan", "*<-chan string"),
    ("VRecvChan", "*<- chan string"),
    ("VChanEmpty", "*chan struct{}"),
    ("VChanEmpty", "*chan struct {  }"),
    # interfaces: method names and order, named against unnamed
    ("VInlineIfc", "*interface{ M(x int) (s string) }"),
    ("VInlineIfc", "*interface{ M(int) string }"),
    ("VInlineIfc", "*interface{ M(int) error }"),
    ("VInlineIfc", "*interface{ N(int) string }"),
    ("VError", "*error"),
    ("VError", "*interface{ Error() string }"),
    ("VReader", "*io.Reader"),
    ("VReader", "*interface{ Read(p []byte) (n int, err error) }"),
    ("VStringer", "*fmt.Stringer"),
    # structs: tags and field names count; the tag's quoting does not
    ("VTagged", '*struct { Name string `json:"name"`; Age int `json:"age,omitempty"` }'),
    ("VTagged", '*struct { Name string "json:\\"name\\""; Age int "json:\\"age,omitempty\\"" }'),
    ("VTagged", "*struct { Name string; Age int }"),
    ("VTagged", '*struct { Name string `json:"name"`; Years int `json:"age,omitempty"` }'),
    ("VEmptyStruct", "*struct{}"),
    ("VEmptyStruct", "*struct { }"),
    # an unexported field: identity depends on the package that writes the assertion
    ("VAnon", "*struct { A int; B string; c bool }"),
    # an interface assertion accepts what implements it: a method set, not an identity
    ("P", "fmt.Stringer"),
    ("Greet", "fmt.Stringer"),
    ("VInt", "fmt.Stringer"),
]

_IMPORTS = {"io.": "io", "fmt.": "fmt"}


def go_source(cases: list[tuple[str, str]]) -> str:
    body = []
    for i, (name, spelling) in enumerate(cases):
        body.append(
            f"\tcheck({json.dumps(name)}, {json.dumps(spelling)}, "
            f"func(s plugin.Symbol) bool {{ _, ok := s.({spelling}); return ok }}) // case {i}"
        )
    imports = sorted({"os", "plugin", "reflect", "strconv"} | {
        pkg for prefix, pkg in _IMPORTS.items() if any(prefix in s for _, s in cases)
    })
    uses = "\n".join(f"var _ = {pkg}.{ {'io': 'EOF', 'fmt': 'Sprint'}[pkg] }" for pkg in ("io", "fmt") if pkg in imports)
    return f"""// Code generated by corpus/typeassert.py; DO NOT EDIT.
// Opens the plugin named by os.Args[1], then for each case looks a symbol up and asserts a type.
package main

import (
{chr(10).join(f'	"{p}"' for p in imports)}
)

{uses}

func main() {{
	p, err := plugin.Open(os.Args[1])
	if err != nil {{
		os.Stderr.WriteString(err.Error() + "\\n")
		os.Exit(1)
	}}
	check := func(name, spelling string, assert func(plugin.Symbol) bool) {{
		sym, err := p.Lookup(name)
		if err != nil {{
			os.Stderr.WriteString(err.Error() + "\\n")
			os.Exit(1)
		}}
		line := `{{"symbol": ` + strconv.Quote(name) + `, "asserted": ` + strconv.Quote(spelling) +
			`, "accepted": ` + strconv.FormatBool(assert(sym)) + `, "dynamic_type": ` +
			strconv.Quote(reflect.TypeOf(sym).String()) + "}}\\n"
		os.Stdout.WriteString(line)
	}}
{chr(10).join(body)}
}}
"""


def main() -> int:
    gobin = go_binary(GO_VERSION)
    src = SCRATCH / "src" / "typeassert"
    src.mkdir(parents=True, exist_ok=True)
    (src / "go.mod").write_text("module example.com/typeassert\n\ngo 1.27\n")
    (src / "main.go").write_text(go_source(CASES))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GO", "CGO_", "CC"))}
    env.update(COMMON_ENV)
    env["HOME"] = str(SCRATCH / "home")
    with tempfile.TemporaryDirectory() as tmp:
        host = Path(tmp) / "typeassert"
        subprocess.run([gobin, "build", "-o", str(host), "."], cwd=src, env=env, check=True)
        plugin = Path(tmp) / PLUGIN
        plugin.write_bytes(lzma.decompress((CORPUS / "bin" / f"{PLUGIN}.xz").read_bytes()))
        out = subprocess.run([str(host), str(plugin)], capture_output=True, text=True, timeout=60, check=True)
    results = [json.loads(line) for line in out.stdout.splitlines()]
    if len(results) != len(CASES):
        raise SystemExit(f"the host printed {len(results)} results for {len(CASES)} cases")
    version = subprocess.run([gobin, "version"], capture_output=True, text=True, check=True).stdout.strip()
    doc = {
        "about": "what a real Go host's type assertion sym.(T) accepted, per exported symbol of the plugin and "
        "spelling of T; written by corpus/typeassert.py, never by hand",
        "plugin": PLUGIN,
        "host_go": version,
        "results": results,
    }
    (CORPUS / "typeassert.json").write_text(json.dumps(doc, indent=1) + "\n")
    print(f"{len(results)} assertions recorded, {sum(r['accepted'] for r in results)} accepted")
    return 0


if __name__ == "__main__":
    sys.exit(main())
