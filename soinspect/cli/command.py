"""The command line: the only place that prints or exits.

Exit codes (an interface; also in ``--help`` and the README):
  0  every file is a loadable plugin for the target (and host, if given)
  1  at least one file was read and rejected (not ELF, malformed, truncated, not a plugin, wrong
     platform, incompatible with the host, policy)
  2  soinspect could not do its job (usage error, missing or unreadable file, bad host, nothing to
     judge without --allow-empty)
  130, 143  interrupted by SIGINT or SIGTERM: no verdict, no summary, no document
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import IO, Any

from soinspect._version import __version__
from soinspect.cli import config, scan
from soinspect.cli.parsing import Parser as _Parser
from soinspect.cli.parsing import read_contracts
from soinspect.cli.pool import Interrupted
from soinspect.elf.targets import TARGETS, Target, default_target, parse_target
from soinspect.errors import FileAccessError, ParserCrashError, SoinspectError
from soinspect.loader import dynamic as sysroot
from soinspect.output.escape import escape
from soinspect.output.interface import Format, needs_digest, preload, render
from soinspect.verdict import expect as _expect
from soinspect.verdict import plugin
from soinspect.verdict.checks import CHECK_IDS, POLICY_CHECKS
from soinspect.verdict.registry import CHECKS, list_checks
from soinspect.verdict.report import Report, RunError

EXIT_OK, EXIT_REJECTED, EXIT_ERROR = 0, 1, 2

EPILOG = f"""\
examples:
  soinspect plugin.so                        audit one plugin (a host built like it)
  soinspect --format json a.so b.so          one JSON document for CI
  soinspect --host ./server a.so b.so        the host loads a.so then b.so in one process
  soinspect --host ./server --each *.so      judge each file alone against the host
  soinspect manifest ./server -o server.json write a host manifest (see: soinspect manifest --help)
  soinspect --host server.json plugin.so     judge against the manifest: the same verdicts as the binary
  soinspect --host v2.6.json --host v2.7.json plugin.so
                                             one result per host and file
  soinspect --target linux/arm64 plugin.so   judge for another platform
  soinspect plugins/                         scan a tree: every ELF file and every *.so, *.so.*
  soinspect --host ./server --format sarif plugins/ > soinspect.sarif
  soinspect --format markdown plugins/ >> "$GITHUB_STEP_SUMMARY"
  soinspect --output sarif=soinspect.sarif --output markdown=summary.md plugins/
                                             one run, several formats (the table on stdout)
  soinspect --config soinspect.toml plugins/ policy from a file ([tool.soinspect] in
                                             pyproject.toml is found automatically)

directories: walked recursively (symlinks followed, each directory once); ELF files and files
named *.so or *.so.* are judged (a Git LFS pointer, an empty file, a failed download or an
archive named .so is a rejection that says what it is), other files skipped and counted. With
--host the sorted files are the set the host loads in order into one process; add --each to
judge each file alone (in parallel).

exit codes:
  0  every file is a loadable plugin
  1  at least one file was read and rejected
  2  soinspect could not do its job: usage error, missing or unreadable file, a --host that is
     not a Go program calling plugin.Open, a host manifest that is damaged or of an unknown
     version, or nothing to judge (unless --allow-empty)
  130, 143  interrupted (SIGINT, SIGTERM): no verdict and no summary is printed

targets: the linux platforms some Go release builds plugins for (a plugin is held to its own
release's): {", ".join(list(TARGETS)[:5])},
  {", ".join(list(TARGETS)[5:])}
"""


class _ListChecks(argparse.Action):
    """``--list-checks``: print the check reference's ids and titles, then exit 0 (no PATH needed)."""

    def __call__(self, parser: argparse.ArgumentParser, *_: object, **__: object) -> None:
        sys.stdout.write(list_checks())
        parser.exit(EXIT_OK)


class _Explain(argparse.Action):
    """``--explain CHECK_ID``: print one check's full reference, then exit 0 (an unknown id exits 2)."""

    def __call__(self, parser: argparse.ArgumentParser, _ns: object, values: object, *_: object) -> None:
        info = CHECKS.get(str(values))
        if info is None:
            parser.error(f"--explain: unknown check id {values!r}; soinspect --list-checks lists them")
        else:
            sys.stdout.write(info.text() + "\n")
            parser.exit(EXIT_OK)


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
        default=None,
        metavar="GOOS/GOARCH",
        help="platform the plugin must load on (default: GOOS/GOARCH from the environment where set, as go "
        "reads them, else this machine's, as go env GOOS GOARCH says; with --host the host's platform, and a "
        "--target that disagrees with it is an error)",
    )
    p.add_argument(
        "--host",
        action="append",
        metavar="HOST",
        help="a Go executable that calls plugin.Open, or a host manifest written from one (soinspect "
        "manifest): predict what it does with the files, loaded in the order given into one process (a "
        "plugin, a library or a non-Go program is an error; repeatable: one result per host and file)",
    )
    p.add_argument(
        "--each", action="store_true", help="with --host: judge each file alone, in a fresh process"
    )
    p.add_argument(
        "--strict",
        action="store_true",
        help="also reject stripped files (no .symtab) and Go releases with a known plugin-loading defect "
        "(go.advisory)",
    )
    p.add_argument(
        "--ignore",
        action="append",
        default=[],
        metavar="CHECK_ID",
        help="ignore a policy check by id (repeatable): " + ", ".join(sorted(POLICY_CHECKS)) + "; the checks "
        "that decide what plugin.Open does cannot be ignored",
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
        "--plugin-module",
        default=None,
        metavar="DIR",
        help="the plugin's module directory (where its go.mod is, where the fix's go mod edit lines run): "
        "a local replace in a fix is then given relative to it (default: the directory an untrimmed plugin "
        "records; else an absolute path)",
    )
    p.add_argument(
        "--expect",
        action="append",
        default=[],
        metavar="NAME=TYPE",
        help="require exported symbol NAME with Go type TYPE, e.g. 'Greet=func() string' or 'V=*int', "
        "compared by Go type identity as the host's type assertion does (byte is uint8, parameter names "
        "do not count; repeatable; a missing or different symbol rejects the file)",
    )
    p.add_argument(
        "--contract",
        action="append",
        default=[],
        metavar="FILE",
        help="the host's contract written as Go: import lines and 'var Name Type' declarations, package "
        "names resolved through the imports; each var is an --expect (repeatable; docs/host.md)",
    )
    p.add_argument("--verbose", "-v", action="store_true", help="show passing checks too")
    p.add_argument(
        "--config",
        metavar="FILE",
        help="policy file (TOML); default: [tool.soinspect] of the nearest pyproject.toml",
    )
    p.add_argument(
        "--output",
        "-o",
        action="append",
        default=[],
        metavar="FORMAT=PATH",
        help="also write the report in FORMAT to PATH, from the same run (repeatable; e.g. "
        "sarif=soinspect.sarif, markdown=summary.md); --format still goes to stdout",
    )
    p.add_argument(
        "--allow-empty",
        action="store_true",
        help="a run that finds nothing to judge passes (default: exit 2, 'nothing to judge')",
    )
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar on stderr")
    p.add_argument(
        "--workers",
        type=int,
        default=scan.default_workers(),
        metavar="N",
        help="worker processes for the files (default: one per core; 0: in this process)",
    )
    p.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour the table and line formats: auto (default) on a terminal unless NO_COLOR is set; "
        "never in --output files",
    )
    p.add_argument("--list-checks", nargs=0, action=_ListChecks, help="list every check id and exit")
    p.add_argument(
        "--explain",
        action=_Explain,
        metavar="CHECK_ID",
        help="print what a check means: why the loader cares, what Go or glibc says, the fix; then exit",
    )
    p.add_argument("--version", action="version", version=f"soinspect {__version__}")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["manifest"]:  # the subcommand; a file named manifest is inspected as ./manifest
        from soinspect.cli import manifest

        return manifest.main(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.config_source = cfg.source if (cfg := config.resolve(args, parser, argv)) else None
    except SoinspectError as exc:
        _error(f"{exc}")
        return EXIT_ERROR
    explicit = config.explicit_dests(parser, argv) if cfg is not None else set()
    from_file = cfg is not None and "host" in cfg.settings and "host" not in explicit
    target_from_file = cfg is not None and "target" in cfg.settings and "target" not in explicit
    args.target_source = "config" if target_from_file else "--target"
    args.host_origin = (cfg.source if from_file and cfg is not None else "--host") if args.host else None
    # where --target came from, to blame the right place when it disagrees with a host
    target_file = cfg is not None and "target" in cfg.settings and "target" not in explicit
    args.target_origin = cfg.source if target_file and cfg is not None else None
    try:
        with _signals_interrupt(), sysroot.one_snapshot():  # the run judges one state of the sysroot
            return run(args)
    except Interrupted as exc:
        # No summary, no document: an interrupted run must never read as a pass (exit 128 + signal).
        print(f"soinspect: interrupted by {signal.Signals(exc.signum).name}: no verdict", file=sys.stderr)
        return 128 + exc.signum
    except KeyboardInterrupt:
        print("soinspect: interrupted by SIGINT: no verdict", file=sys.stderr)
        return 128 + signal.SIGINT
    except BrokenPipeError:
        return EXIT_ERROR


def _error(text: str) -> None:
    """``soinspect: error: TEXT`` on stderr, one line: *text* names paths and quotes files and manifests,
    so it is shown escaped (:func:`soinspect.output.escape.escape`), as every format a person reads is."""
    print(f"soinspect: error: {escape(text)}", file=sys.stderr)


def _raise_interrupted(signum: int, _frame: object) -> None:
    raise Interrupted(signum)


@contextlib.contextmanager
def _signals_interrupt() -> Iterator[None]:
    """SIGINT and SIGTERM raise :class:`Interrupted` while the run lasts (the previous handlers come back
    after it). Only the main thread can set handlers; elsewhere Python's defaults stay."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.signal(s, _raise_interrupted) for s in _INTERRUPTS}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM while the outputs are written, so that a document is written whole or not
    at all; a signal that came meanwhile is delivered when this ends (the run then exits 130 or 143)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, _INTERRUPTS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


_INTERRUPTS = (signal.SIGINT, signal.SIGTERM)


def entry() -> None:
    """The ``soinspect`` program (console script and ``python -m soinspect``): :func:`main`, then a quick exit.

    Once :func:`main` has returned, every byte of output has been written (reports to stdout, errors to
    stderr), every file it opened is closed and every worker process has been stopped and reaped, so
    nothing is left for the interpreter's shutdown to do but free memory: about 0.17 s, 0.125 s of it
    LIEF's. The streams are flushed here and the process ends with ``os._exit``; a flush that fails (the
    reader went away) is exit 2, as a failed write inside :func:`main` is.
    """
    code = main()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (BrokenPipeError, OSError, ValueError):  # ValueError: a stream closed by the caller
        code = EXIT_ERROR
    os._exit(code)


def _usage_problem(args: argparse.Namespace) -> str | None:
    """Option combinations that would silently do something else than asked (exit 2, one line)."""
    if any(not h.strip() for h in args.hosts):
        return "--host: empty path (an unset variable?): name the host executable or its manifest"
    if args.each and not args.hosts:
        return "--each judges each file alone against --host; give --host too"
    for i in args.ignore:
        if i not in CHECK_IDS:
            return f"--ignore: unknown check id {i!r} (soinspect --list-checks lists them)"
        if i not in POLICY_CHECKS:
            return (
                f"--ignore: {i} decides or explains what plugin.Open does and cannot be ignored; "
                f"only policy checks can: {', '.join(sorted(POLICY_CHECKS))} (see docs/checks.md)"
            )
    if args.workers < 0:  # also reachable from a config file's value
        return f"--workers: {args.workers} is negative: give 0 (in this process) or more"
    return None


def _parse_outputs(specs: Sequence[str]) -> list[tuple[Format, str]]:
    """``--output FORMAT=PATH`` values; ValueError with the option's problem."""
    out: list[tuple[Format, str]] = []
    for spec in specs:
        name, sep, path = spec.partition("=")
        if not sep or not path:
            raise ValueError(f"{spec!r}: expected FORMAT=PATH, e.g. sarif=soinspect.sarif")
        if name not in _FORMATS:
            raise ValueError(f"{spec!r}: unknown format {name!r}; one of {', '.join(_FORMATS)}")
        if any(os.path.abspath(path) == os.path.abspath(p) for _, p in out):
            raise ValueError(f"{spec!r}: {path} is named twice")
        out.append((Format(name), path))
    return out


_FORMATS = [f.value for f in Format]


def _host_target(args: argparse.Namespace, host: str, target_given: bool, digest: bool) -> Target | str | None:
    """Read a ``--host`` (an executable or a host manifest) once: its platform (None: no Go plugin
    platform), or the usage problem as a string (not a Go program that calls plugin.Open, unreadable, a
    damaged manifest, or a ``--target`` that disagrees with it)."""
    host_file = getattr(args, "host_origin", None) not in (None, "--host")
    try:
        model = scan.load_host(host, max_size=args.max_size, digest=digest)
    except SoinspectError as exc:
        # a host named in a config file is blamed on that file and its key, not on a --host never typed
        return f"{args.host_origin}: key 'host': {exc}" if host_file else f"--host {exc}"
    packages = _expect.packages_for(model.named_types, {})
    for spec in args.expect:  # short package names resolve against this host, to one package each
        try:
            _expect.resolve(_expect.parse_expectation(spec)[1], packages)
        except ValueError as exc:
            return f"--expect {spec!r} against --host {host}: {exc}"
    host_target = model.target
    if target_given:
        want = parse_target(args.target)
        if host_target != want:
            target_file = getattr(args, "target_origin", None)
            said = f"{target_file}: key 'target' = {args.target!r}" if target_file else f"--target {want.name}"
            named = f"host {host} (key 'host' of {args.host_origin})" if host_file else f"--host {host}"
            drop = f"remove 'target' from {target_file}" if target_file else "drop --target"
            return (
                f"{said} disagrees with {named}, a program for "
                f"{host_target.name if host_target else 'no Go plugin platform'}: the host decides the "
                f"platform; {drop}"
            )
    return host_target


def _nothing_judged(args: argparse.Namespace, found: scan.Found) -> tuple[str, list[RunError]]:
    """The one line and the run errors of a run that judged no file."""
    reasons = Counter(s.reason for s in found.skipped)
    why = ", ".join(f"{n} {reason}" for reason, n in reasons.most_common())
    line = f"nothing to judge: {len(found.skipped)} skipped" + (f" ({why})" if why else "")
    line += f" in {', '.join(args.paths)}; --allow-empty allows an empty run"
    errors = [
        RunError(p, "nothing-to-judge", f"no file to judge: {sum(1 for s in found.skipped if _under(s.path, p))} "
                 "skipped under it")
        for p in args.paths
    ]
    return line, errors


def _empty_directories(args: argparse.Namespace, found: scan.Found) -> list[RunError]:
    """A directory named beside paths that do give files, in which nothing is to judge: a run error (the gate
    never passes a path it did not judge), unless --allow-empty. A run in which nothing at all is to judge
    is :func:`_nothing_judged`'s."""
    if args.allow_empty or not found.files or len(set(args.paths)) < 2:  # one path that gave files is not empty
        return []
    return [
        RunError(p, "nothing-to-judge", f"no file to judge: {sum(1 for s in found.skipped if _under(s.path, p))} "
                 "skipped under it; --allow-empty allows an empty directory")
        for p in dict.fromkeys(args.paths)
        if os.path.isdir(p)
        and not any(_under(f, p) for f in found.files)
        and not any(_under(e.path, p) for e in found.errors)
    ]


def _under(path: str, root: str) -> bool:
    return os.path.commonpath([os.path.abspath(path), os.path.abspath(root)]) == os.path.abspath(root)


def use_color(choice: str, stream: IO[str], env: Mapping[str, str]) -> bool:
    """``--color``: ``always``, ``never``, or ``auto``: a terminal that is not ``TERM=dumb``, unless
    ``NO_COLOR`` is set to anything non-empty (https://no-color.org). ``always`` overrides ``NO_COLOR``."""
    if choice != "auto":
        return choice == "always"
    if env.get("NO_COLOR") or env.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty is not None and isatty())


def run(args: argparse.Namespace) -> int:
    target_given = args.target is not None
    try:
        if target_given:
            target, target_source = parse_target(args.target), getattr(args, "target_source", "--target")
        else:
            try:
                target, target_source = default_target()
            except ValueError:
                if not args.host:
                    raise
                # with --host the host's platform is the target: GOOS/GOARCH in the environment do not count
                target, target_source = default_target({})
    except ValueError as exc:
        _error(f"{'--target: ' if target_given else ''}{exc}")
        return EXIT_ERROR
    fmt = Format(args.format)
    # --host repeats; a config file's host is one path
    args.hosts = [args.host] if isinstance(args.host, str) else list(args.host or [])
    usage = _usage_problem(args)
    if usage is not None:
        _error(f"{usage}")
        return EXIT_ERROR
    try:
        args.expect = list(args.expect) + read_contracts(getattr(args, "contract", None) or [])
    except ValueError as exc:
        _error(f"--contract {exc}")
        return EXIT_ERROR
    try:
        expectations = [plugin.parse_expectation(e) for e in args.expect]
    except ValueError as exc:
        _error(f"--expect: {exc}")
        return EXIT_ERROR
    try:
        outputs = _parse_outputs(args.output)
    except ValueError as exc:
        _error(f"--output {exc}")
        return EXIT_ERROR
    try:
        sysroot.check_sysroot(args.sysroot)
    except SoinspectError as exc:
        _error(f"--sysroot: {exc}")
        return EXIT_ERROR
    if args.plugin_module is not None and not os.path.isdir(args.plugin_module):
        what = "no such directory" if not os.path.exists(args.plugin_module) else "not a directory"
        _error(f"--plugin-module {args.plugin_module}: {what} (the plugin's module directory, where its go.mod is)")
        return EXIT_ERROR
    color = use_color(args.color, sys.stdout, os.environ)
    # every format the run writes, with its colour: stdout's, then the files' (never coloured)
    formats = list(dict.fromkeys([(fmt, color), *((f, False) for f, _ in outputs)]))
    digest = any(needs_digest(f) for f, _ in formats)
    host_targets: list[Target | None] = []
    for host in args.hosts:
        host_target = _host_target(args, host, target_given, digest)
        if isinstance(host_target, str):
            _error(f"{host_target}")
            return EXIT_ERROR
        host_targets.append(host_target)
    if host_targets:
        target = host_targets[0] or target  # the platform in the policy is the (first) host's
        target_source = "--host" if host_targets[0] is not None else target_source
    found = scan.expand(args.paths)
    errors: list[RunError] = list(found.errors) + _empty_directories(args, found)
    reports: list[Report] = []
    options = {
        "strict": args.strict,
        "ignore": args.ignore,
        "max_size": args.max_size,
        "sysroot": args.sysroot,
        "plugin_module": args.plugin_module,
        "digest": digest,
        "expect": expectations,
    }
    seen: set[RunError] = set(errors)  # a file that cannot be read is one error, however many hosts
    parts: list[tuple[str | None, ...]] = []  # each report's parts of the *formats*, where a worker rendered them
    for host in args.hosts or [None]:
        judged = _judge(args, host, found.files, options, target, formats)
        if judged is None:
            return EXIT_ERROR
        host_reports, host_parts, host_errors = judged
        reports.extend(host_reports)
        parts.extend(host_parts)
        errors += [e for e in host_errors if e not in seen]
        seen.update(host_errors)
    for e in errors:
        _error(f"{e.path}: {e.message}")
    if not reports and not errors and not args.allow_empty:
        line, errors = _nothing_judged(args, found)
        _error(f"{line}")
    reports = [scan.with_origin(r, args.host_origin) for r in reports]
    policy = {
        "target": target.name,
        "target_source": target_source,
        "host": args.hosts[0] if len(args.hosts) == 1 else (args.hosts or None),
        "each": args.each,
        "strict": args.strict,
        "ignore": list(args.ignore),
        "max_size": args.max_size,
        "expect": list(args.expect),
        "sysroot": args.sysroot,
        "config": args.config_source,
    }

    def text(f: Format, color: bool = False) -> str:
        k = formats.index((f, color))
        return render(
            reports,
            f,
            policy=policy,
            verbose=args.verbose,
            skipped=found.skipped,
            errors=errors,
            color=color,
            parts=[p[k] for p in parts],
        )

    documents = [(path, text(f)) for f, path in outputs]  # files are never coloured
    stdout = text(fmt, color)
    with _signals_held():
        for path, doc in documents:
            try:
                _write_whole(path, doc)
            except OSError as exc:
                _error(f"--output {path}: cannot write: {exc.strerror or exc}")
                return EXIT_ERROR
        try:
            sys.stdout.write(stdout)
            sys.stdout.flush()
        except BrokenPipeError:
            raise  # the reader went away: exit 2 without a word (main)
        except OSError as exc:  # a full disk, a closed terminal: one line, never a traceback
            problem = exc.strerror or str(exc)
            _error(f"cannot write the report to standard output: {problem}")
            return EXIT_ERROR
    if errors:
        return EXIT_ERROR
    return EXIT_OK if all(r.loadable for r in reports) else EXIT_REJECTED


def _judge(
    args: argparse.Namespace,
    host: str | None,
    files: Sequence[str],
    options: dict[str, Any],
    target: Target,
    formats: list[tuple[Format, bool]],
) -> tuple[list[Report], list[tuple[str | None, ...]], list[RunError]] | None:
    """The reports of *files* against *host* (None: a host built like each file), each one's parts of the
    *formats* (format, colour) where a worker rendered them, and the files that could not be read; None if
    the host cannot be used (its error printed). A report whose every part was rendered is
    :func:`scan.slim_report`'s (the run writes nothing else of it)."""
    from soinspect.verdict import audit as api

    reports: list[Report] = []
    errors: list[RunError] = []
    if host is not None and not args.each:
        # One process loads the files in order: each load depends on the ones before it (sequential).
        unreadable: list[FileAccessError] = []
        try:
            model = scan.load_host(host, max_size=args.max_size, digest=options["digest"])
            reports = api.check_host(model, list(files), unreadable=unreadable, **options)
        except SoinspectError as exc:
            _error(f"{exc}")
            return None
        # each one a plugin.Open that fails without touching the process
        none = (None,) * len(formats)
        return reports, [none] * len(reports), [_run_error(problem) for problem in unreadable]
    func: Callable[..., Report]
    if host is not None:
        func, kwargs = scan.check_each, {**options, "host": host}
    else:
        func, kwargs = api.audit, {**options, "target": target}
    kwargs = {
        **kwargs,
        "judge": func,
        "outputs": formats,
        "verbose": args.verbose,
        "several_hosts": len(set(args.hosts)) > 1,
        "origin": args.host_origin,
        "slim": True,
    }
    for fmt, _ in formats:
        preload(fmt)
    bar = scan.ProgressBar.for_stderr(len(files), quiet=args.quiet)
    try:
        results = scan.judge_all(files, scan.judge_rendered, kwargs, workers=args.workers, progress=bar)
    finally:
        bar.close()
    parts: list[tuple[str | None, ...]] = []
    for path, result in zip(files, results, strict=True):
        if isinstance(result, scan.Rendered):
            reports.append(result.report)
            parts.append(result.parts)
        elif isinstance(result, ParserCrashError):  # the parser died on it: a rejected file
            _error(f"{result}")
            reports.append(api.crashed_report(path, result, target=target))
            parts.append((None,) * len(formats))  # rendered with the others
        elif isinstance(result, FileAccessError):
            errors.append(_run_error(result))
        else:
            errors.append(RunError(result.path, "unreadable", result.problem))
    return reports, parts, errors


def _run_error(exc: FileAccessError) -> RunError:
    return RunError(exc.path, exc.kind, exc.problem)


def _write_whole(path: str, text: str) -> None:
    """Write *text* to *path* through a temporary file beside it: the path holds the old file or the whole
    new one, never a truncated document."""
    import tempfile  # only where an output file is written: its import (shutil, random) is not a cold start's

    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".soinspect-", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


if __name__ == "__main__":
    sys.exit(main())
