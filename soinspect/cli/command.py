"""The command line: the only place that prints or exits.

Exit codes (an interface; also in ``--help`` and the README):
  0  every file is a loadable plugin for the target (and host, if given)
  1  at least one file was read and rejected (not ELF, malformed, truncated, not a plugin, wrong
     platform, incompatible with the host, policy)
  2  soinspect could not do its job (usage error, missing or unreadable file, bad host)
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from soinspect._version import __version__
from soinspect.cli import config, scan
from soinspect.elf.targets import TARGETS, parse_target
from soinspect.errors import FileAccessError, ParserCrashError, SoinspectError
from soinspect.loader import dynamic as sysroot
from soinspect.output.interface import Format, render
from soinspect.verdict import plugin
from soinspect.verdict.checks import CHECK_IDS
from soinspect.verdict.report import Report

EXIT_OK, EXIT_REJECTED, EXIT_ERROR = 0, 1, 2

EPILOG = f"""\
examples:
  soinspect plugin.so                        audit one plugin (a host built like it)
  soinspect --format json a.so b.so          one JSON document for CI
  soinspect --host ./server a.so b.so        the host loads a.so then b.so in one process
  soinspect --host ./server --each *.so      judge each file alone against the host
  soinspect --target linux/arm64 plugin.so   judge for another platform
  soinspect plugins/                         scan a tree: every ELF file found by its magic bytes
  soinspect --host ./server --format sarif plugins/ > soinspect.sarif
  soinspect --format markdown plugins/ >> "$GITHUB_STEP_SUMMARY"
  soinspect --config soinspect.toml plugins/ policy from a file ([tool.soinspect] in
                                             pyproject.toml is found automatically)

directories: walked recursively (symlinks followed, each directory once); ELF files are judged,
other files skipped and counted. With --host the sorted files are the set the host loads in
order into one process; add --each to judge each file alone (in parallel).

exit codes:
  0  every file is a loadable plugin
  1  at least one file was read and rejected
  2  soinspect could not do its job (usage error, missing or unreadable file)

targets: {", ".join(sorted(TARGETS))}
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"soinspect: error: {message}", file=sys.stderr)
        sys.exit(EXIT_ERROR)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="soinspect",
        description="Decide, without loading or running anything, whether ELF files are Go plugins that "
        "plugin.Open accepts.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="files or directories to inspect")
    p.add_argument(
        "--format",
        "-f",
        choices=[f.value for f in Format],
        default=Format.TABLE.value,
        help="output format (default: table)",
    )
    p.add_argument(
        "--target",
        default="linux/amd64",
        metavar="GOOS/GOARCH",
        help="platform the plugin must load on (default: linux/amd64; ignored with --host)",
    )
    p.add_argument(
        "--host",
        metavar="HOST",
        help="a Go host executable: predict what its plugin.Open does "
        "with the files, loaded in the order given into one process",
    )
    p.add_argument(
        "--each", action="store_true", help="with --host: judge each file alone, in a fresh process"
    )
    p.add_argument("--strict", action="store_true", help="also reject stripped files (no .symtab)")
    p.add_argument(
        "--ignore",
        action="append",
        default=[],
        metavar="CHECK_ID",
        help="ignore a policy check by id (repeatable)",
    )
    p.add_argument(
        "--max-size",
        type=int,
        default=1 << 30,
        metavar="BYTES",
        help="refuse files larger than this (default: 1 GiB)",
    )
    p.add_argument(
        "--sysroot",
        default=None,
        metavar="DIR",
        help="resolve the files' libraries (DT_NEEDED, symbol versions) in this root, as glibc's "
        "loader would (default: / for files of this machine's architecture)",
    )
    p.add_argument(
        "--expect",
        action="append",
        default=[],
        metavar="NAME=TYPE",
        help="require exported symbol NAME with Go type TYPE, as %%T prints it, e.g. "
        "'Greet=func() string' or 'V=*int' (repeatable; a missing or different symbol rejects the file)",
    )
    p.add_argument("--verbose", "-v", action="store_true", help="show passing checks too")
    p.add_argument(
        "--config",
        metavar="FILE",
        help="policy file (TOML); default: [tool.soinspect] of the nearest pyproject.toml",
    )
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar on stderr")
    p.add_argument(
        "--workers",
        type=int,
        default=scan.default_workers(),
        metavar="N",
        help="worker processes for the files (default: one per core; 0: in this process)",
    )
    p.add_argument("--version", action="version", version=f"soinspect {__version__}")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.config_source = cfg.source if (cfg := config.resolve(args, parser, argv)) else None
    except SoinspectError as exc:
        print(f"soinspect: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    try:
        return run(args)
    except KeyboardInterrupt:
        print("soinspect: interrupted", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:
        return EXIT_ERROR


def _usage_problem(args: argparse.Namespace) -> str | None:
    """Option combinations that would silently do something else than asked (exit 2, one line)."""
    if args.host is not None and not args.host.strip():
        return "--host: empty path (an unset variable?): name the host executable"
    if args.each and not args.host:
        return "--each judges each file alone against --host; give --host too"
    unknown = [i for i in args.ignore if i not in CHECK_IDS]
    if unknown:
        return f"--ignore: unknown check id {unknown[0]!r} (see docs/checks.md)"
    return None


def run(args: argparse.Namespace) -> int:
    from soinspect.verdict import audit as api

    try:
        target = parse_target(args.target)
    except ValueError as exc:
        print(f"soinspect: error: --target: {exc}", file=sys.stderr)
        return EXIT_ERROR
    fmt = Format(args.format)
    usage = _usage_problem(args)
    if usage is not None:
        print(f"soinspect: error: {usage}", file=sys.stderr)
        return EXIT_ERROR
    try:
        expectations = [plugin.parse_expectation(e) for e in args.expect]
    except ValueError as exc:
        print(f"soinspect: error: --expect: {exc}", file=sys.stderr)
        return EXIT_ERROR
    try:
        sysroot.check_sysroot(args.sysroot)
    except SoinspectError as exc:
        print(f"soinspect: error: --sysroot: {exc}", file=sys.stderr)
        return EXIT_ERROR
    found = scan.expand(args.paths)
    for message in found.errors:
        print(f"soinspect: error: {message}", file=sys.stderr)
    access_errors = len(found.errors)
    reports: list[Report] = []
    options = {
        "strict": args.strict,
        "ignore": args.ignore,
        "max_size": args.max_size,
        "sysroot": args.sysroot,
        "digest": fmt is not Format.TABLE,  # the table does not show the file's sha256
    }
    if args.host and not args.each:
        # One process loads the files in order: each load depends on the ones before it (sequential).
        unreadable: list[FileAccessError] = []
        try:
            reports = api.check_host(args.host, list(found.files), unreadable=unreadable, **options)
        except SoinspectError as exc:
            print(f"soinspect: error: {exc}", file=sys.stderr)
            return EXIT_ERROR
        for problem in unreadable:  # each one a plugin.Open that fails without touching the process
            print(f"soinspect: error: {problem}", file=sys.stderr)
        access_errors += len(unreadable)
    else:
        func: Callable[..., Report]
        if args.host:
            try:
                scan.load_host(args.host, max_size=args.max_size)  # a bad host is one error, up front
            except SoinspectError as exc:
                print(f"soinspect: error: {exc}", file=sys.stderr)
                return EXIT_ERROR
            func, kwargs = scan.check_each, {**options, "host": args.host}
        else:
            func, kwargs = api.audit, {**options, "target": target}
        bar = scan.ProgressBar.for_stderr(len(found.files), quiet=args.quiet)
        try:
            results = scan.judge_all(found.files, func, kwargs, workers=args.workers, progress=bar)
        finally:
            bar.close()
        for path, result in zip(found.files, results, strict=True):
            if isinstance(result, Report):
                reports.append(result)
            elif isinstance(result, ParserCrashError):  # the parser died on it: a rejected file
                print(f"soinspect: error: {result}", file=sys.stderr)
                reports.append(api.crashed_report(path, result, target=target))
            else:
                print(f"soinspect: error: {result}", file=sys.stderr)
                access_errors += 1
    reports = [plugin.apply_expectations(r, expectations) for r in reports]
    policy = {
        "target": target.name,
        "host": args.host,
        "each": args.each,
        "strict": args.strict,
        "ignore": list(args.ignore),
        "max_size": args.max_size,
        "expect": list(args.expect),
        "sysroot": args.sysroot,
        "config": args.config_source,
    }
    sys.stdout.write(render(reports, fmt, policy=policy, verbose=args.verbose, skipped=found.skipped))
    sys.stdout.flush()
    if access_errors:
        return EXIT_ERROR
    return EXIT_OK if all(r.loadable for r in reports) else EXIT_REJECTED


if __name__ == "__main__":
    sys.exit(main())
