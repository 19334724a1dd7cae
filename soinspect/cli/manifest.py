"""``soinspect manifest HOST [-o FILE] [--expect NAME=TYPE]...``: write a host manifest.

A host's release pipeline runs it on the server binary and publishes the small JSON file it writes; a
plugin's CI passes that file to ``--host`` instead of the binary (docs/ci.md). The command is recognised
only as the first argument, so a file that is really named ``manifest`` is inspected as ``./manifest``.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from collections.abc import Sequence

from soinspect.cli.parsing import Parser, read_contracts
from soinspect.errors import SoinspectError
from soinspect.loader.host import load_host
from soinspect.loader.manifest import write_manifest
from soinspect.output.escape import escape
from soinspect.verdict import expect as _expect

EXIT_OK, EXIT_ERROR = 0, 2

EPILOG = """\
examples:
  soinspect manifest ./server -o server.manifest.json
  soinspect manifest ./server --expect 'InitModule=func(context.Context) error' -o server.json
  soinspect --host server.json plugin.so     check a plugin against the manifest

The manifest holds what soinspect's loader model takes from the host: its platform, Go release and
build info, whether it can call plugin.Open, its runtime's module data layout, every package
fingerprint it exports, its sha256, and the symbols it looks up with the types it asserts (--expect).
The same host always gives the same bytes. A file named "manifest" is inspected as ./manifest.

exit codes:
  0  the manifest was written
  2  it could not be (usage error, unreadable file, not a Go host that can call plugin.Open)
"""


def build_parser() -> argparse.ArgumentParser:
    p = Parser(
        prog="soinspect manifest",
        description="Write a host manifest: everything soinspect needs from a Go host program to judge "
        "plugins against it, without the binary.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("host", metavar="HOST", help="the Go host executable")
    p.add_argument("-o", "--output", metavar="FILE", help="write the manifest here (default: standard output)")
    p.add_argument(
        "--expect",
        action="append",
        default=[],
        metavar="NAME=TYPE",
        help="record that the host looks up NAME and asserts Go type TYPE, e.g. "
        "'InitModule=func(context.Context) error' (repeatable); checking a plugin against the "
        "manifest checks these (plugin.expect)",
    )
    p.add_argument(
        "--contract",
        action="append",
        default=[],
        metavar="FILE",
        help="the same contract written as Go: import lines and 'var Name Type' declarations (repeatable)",
    )
    p.add_argument(
        "--max-size",
        type=int,
        default=1 << 30,
        metavar="BYTES",
        help="refuse a host larger than this (default: 1 GiB)",
    )
    return p


def _error(text: str) -> None:
    """One line on stderr; *text* names the host and may quote it, so it is shown escaped."""
    print(f"soinspect manifest: error: {escape(text)}", file=sys.stderr)


def main(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.expect = list(args.expect) + read_contracts(args.contract)
    except ValueError as exc:
        print(f"soinspect manifest: error: --contract {exc}", file=sys.stderr)
        return EXIT_ERROR
    try:
        expects = [_expect.parse_expectation(e) for e in args.expect]
    except ValueError as exc:
        _error(f"--expect: {exc}")
        return EXIT_ERROR
    try:
        model = load_host(args.host, max_size=args.max_size)
        size = os.stat(args.host).st_size
    except SoinspectError as exc:
        _error(f"{exc}")
        return EXIT_ERROR
    except OSError as exc:
        _error(f"{args.host}: {exc.strerror or exc}")
        return EXIT_ERROR
    if model.manifest_of is not None:
        _error(f"{args.host}: already a host manifest; write one from the host executable")
        return EXIT_ERROR
    try:  # the contract as the host resolves it: with import paths, the same answer without the host
        packages = _expect.packages_for(model.named_types, {})
        expects = [(name, _expect.resolve(typ, packages)) for name, typ in expects]
    except ValueError as exc:
        print(f"soinspect manifest: error: --expect: {exc}", file=sys.stderr)
        return EXIT_ERROR
    text = write_manifest(dataclasses.replace(model, expects=tuple(expects)), host_file=args.host, host_size=size)
    if args.output is None or args.output == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return EXIT_OK
    try:
        with open(args.output, "w", encoding="ascii", newline="\n") as fh:
            fh.write(text)
    except OSError as exc:
        _error(f"{args.output}: cannot write: {exc.strerror or exc}")
        return EXIT_ERROR
    return EXIT_OK
