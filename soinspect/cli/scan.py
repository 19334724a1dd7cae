"""Directory scans: find the ELF files under the paths a user names, and judge many files on every core.

``expand(paths)`` turns command-line paths into the files to judge:

* a file named explicitly is always judged, whatever it is (a text file named on the command line is a
  rejection, a missing one an access error), in the order given;
* a directory is walked recursively; symlinks are followed, each directory is entered once (tracked by its
  ``(st_dev, st_ino)``), so a symlink loop ends the walk of that branch instead of recursing forever;
* inside a directory ELF files are judged, found by their 4-byte magic (``\\x7fELF``), whatever their
  name: an executable or a C library where a plugin should be is a rejection. So is every file whose name
  says it is a shared object (``*.so``, ``*.so.*``), whatever its bytes: a Git LFS pointer, an empty file,
  a failed download or an archive where a plugin should be is a rejection that says what it is. Other
  files are skipped and counted, never failed; FIFOs, sockets and devices are never opened; the same
  file reached through two names (``libx.so -> libx.so.1``) is judged once, under its real name (not a symlink's);
* the files of one directory come out sorted by path, so output and ``--host`` load order are stable.

``judge_all(paths, func, kwargs, workers=N)`` runs ``func(path, **kwargs)`` for each path on ``N``
crash-contained worker processes (:mod:`soinspect.cli.pool`) and returns the results in the input order.
The library never prints: a progress callback is called with ``(done, total)``; the CLI owns the bar.

With ``--host``, a directory's sorted ELF files are the set the host loads, in that order, into one
process (one model, sequential: each load depends on the ones before it); with ``--host --each`` every
file is judged alone against the host, in parallel, each worker reading the host once.
"""

from __future__ import annotations

import dataclasses
import errno
import os
import stat
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import IO, Any, TypeVar

from soinspect._frozen import frozen
from soinspect.cli import pool as _isolate
from soinspect.cli.pool import Job, run_many
from soinspect.elf.file import read_head
from soinspect.errors import SoinspectError
from soinspect.loader.host import load_host as _load_host
from soinspect.loader.process import HostModel
from soinspect.output.ansi import ERASE_LINE
from soinspect.output.interface import Format, render_part
from soinspect.verdict import audit as api
from soinspect.verdict.report import Report, RunError, Skipped

ELF_MAGIC = b"\x7fELF"

#: a progress bar is worth drawing only when there are this many files to wait for
PROGRESS_MIN_FILES = 20


@frozen
class Found:
    """What :func:`expand` found: files to judge (in judging order), skipped paths, paths that could not be
    read (a directory that cannot be listed, an entry that cannot be stat'ed)."""

    files: tuple[str, ...]
    skipped: tuple[Skipped, ...]
    errors: tuple[RunError, ...]


def is_shared_object_name(name: str) -> bool:
    """``*.so`` or ``*.so.*``: a name that says the file is a shared object, so it is judged whatever it holds."""
    return name.endswith(".so") or ".so." in name


def expand(paths: Sequence[str]) -> Found:
    """Explicit files as given; directories walked recursively to their ELF and ``*.so`` files, sorted."""
    files: list[str] = []
    skipped: list[Skipped] = []
    errors: list[RunError] = []
    for arg in paths:
        if os.path.isdir(arg):
            found, skip, errs = _scan_dir(arg)
            files.extend(found)
            skipped.extend(skip)
            errors.extend(errs)
        else:
            files.append(arg)
    return Found(tuple(files), tuple(skipped), tuple(errors))


def _scan_dir(root: str) -> tuple[list[str], list[Skipped], list[RunError]]:
    candidates: list[tuple[str, tuple[int, int], bool]] = []
    skipped: list[Skipped] = []
    errors: list[RunError] = []
    st = os.stat(root)
    seen_dirs = {(st.st_dev, st.st_ino)}
    stack = [root]
    # Bound: each directory (dev, inode) is entered at most once, so the walk ends on any tree.
    while stack:
        directory = stack.pop()
        try:
            with os.scandir(directory) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            errors.append(RunError(directory, "unreadable", f"cannot list directory: {exc.strerror or exc}"))
            continue
        for entry in entries:
            path = entry.path
            try:
                est = os.stat(path)  # follows symlinks
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    skipped.append(Skipped(path, "symlink loop"))
                elif exc.errno == errno.ENOENT:
                    skipped.append(Skipped(path, "broken symlink"))
                else:
                    errors.append(RunError(path, "unreadable", f"cannot stat: {exc.strerror or exc}"))
                continue
            key = (est.st_dev, est.st_ino)
            if stat.S_ISDIR(est.st_mode):
                if key in seen_dirs:
                    skipped.append(Skipped(path, "directory already scanned (symlink loop or second link)"))
                else:
                    seen_dirs.add(key)
                    stack.append(path)
            elif not stat.S_ISREG(est.st_mode):
                skipped.append(Skipped(path, f"not a regular file ({_file_type(est.st_mode)})"))
            else:
                magic = read_magic(path)
                if magic is None or magic == ELF_MAGIC or is_shared_object_name(entry.name):
                    # None: unreadable; judging it reports the access error with its reason (exit 2).
                    # A *.so that is not ELF: judging it names what it is (an LFS pointer, ...).
                    candidates.append((path, key, entry.is_symlink()))
                else:
                    skipped.append(Skipped(path, "not ELF"))
    # One name per file: the real one before a symlink to it, then the first in sorted order.
    first_name: dict[tuple[int, int], str] = {}
    for path, key, _ in sorted(candidates, key=lambda c: (c[2], c[0])):
        if key in first_name:
            skipped.append(Skipped(path, f"same file as {first_name[key]}"))
        else:
            first_name[key] = path
    files = sorted(first_name.values())
    skipped.sort(key=lambda s: s.path)
    return files, skipped, errors


def read_magic(path: str) -> bytes | None:
    """The first 4 bytes of a regular file, or None if it cannot be read. Never blocks (O_NONBLOCK), and
    refuses a file that turned into something else (a FIFO, a device) between ``stat`` and ``open``."""
    return read_head(path, 4)


def _file_type(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "FIFO"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode):
        return "character device"
    if stat.S_ISBLK(mode):
        return "block device"
    return f"mode {mode:#o}"


_R = TypeVar("_R")


def judge_all(
    paths: Sequence[str],
    func: Callable[..., _R],
    kwargs: Mapping[str, Any],
    *,
    workers: int,
    progress: Callable[[int, int], None] | None = None,
) -> list[_R | SoinspectError]:
    """``func(path, **kwargs)`` for every path, on *workers* isolated worker processes
    (:func:`soinspect.cli.pool.run_many`; ``0``: in this process). Results in the order of *paths*: the
    report, or the :class:`~soinspect.errors.SoinspectError` that says why the file could not be judged
    (unreadable, or the parser crashed on it).

    *progress*, if given, is called with ``(done, total)`` as files finish.
    """
    jobs = [Job(func, p, kwargs) for p in paths]
    return list(run_many(jobs, workers=_workers_for(workers, len(jobs)), progress=progress))


@frozen
class Rendered:
    """A file's report and its parts of the run's outputs (:func:`soinspect.output.interface.render_part`),
    rendered in the worker that judged it: what :func:`judge_rendered` sends back to the parent."""

    report: Report
    parts: tuple[str | None, ...]


def judge_rendered(
    path: str,
    *,
    judge: Callable[..., Report],
    outputs: Sequence[tuple[Format, bool]],
    verbose: bool,
    several_hosts: bool = False,
    origin: str | None = None,
    slim: bool = False,
    **kwargs: Any,
) -> Rendered:
    """``judge(path, **kwargs)`` and the report's part of each of *outputs* (format, colour): a job for
    :func:`judge_all` that spares the parent, which writes the outputs alone, the rendering of every file
    in turn. The report's host is given its *origin* (:func:`with_origin`) first. With *slim* (the run
    writes the parts alone, nothing else from the report) a report whose every part was rendered is sent
    back as :func:`slim_report`'s."""
    report = with_origin(judge(path, **kwargs), origin)
    parts = tuple(
        render_part(report, fmt, verbose=verbose, color=color, several_hosts=several_hosts) for fmt, color in outputs
    )
    return Rendered(slim_report(report) if slim and None not in parts else report, parts)


def with_origin(r: Report, origin: str | None) -> Report:
    """The report with its host's origin: the flag, or the config file that named the host."""
    if r.host is None or origin is None:
        return r
    return dataclasses.replace(r, host=dataclasses.replace(r.host, origin=origin))


def slim_report(report: Report) -> Report:
    """The report with only what a run needs beside the file's rendered part (its path, verdict, kind
    and host: the host lines, the summaries and the exit code): what a worker sends back when its parts are
    all the outputs take of it, a tenth of the pickle to read back. Never rendered again: the parts stand
    for it (their formats put together the rest from these fields alone)."""
    return dataclasses.replace(
        report,
        verdict=dataclasses.replace(report.verdict, mismatches=()),
        checks=(),
        elf=None,
        buildinfo=None,
        plugin=None,
        fix=None,
    )


def _workers_for(workers: int, njobs: int) -> int:
    return 0 if workers <= 0 else max(1, min(workers, njobs))


def default_workers() -> int:
    """Every core this process may run on."""
    return _isolate.default_workers(1 << 30)


#: hosts read once per process (the parent reads them before the workers fork, so they inherit them)
_HOSTS: dict[tuple[str, int, bool, tuple[int, ...]], HostModel] = {}


def load_host(host: str, *, max_size: int, digest: bool = True) -> HostModel:
    """The host (an executable or a host manifest), read once per process (again if the file changed);
    raises HostError if it cannot be a host."""
    try:
        st = os.stat(host)
        stamp: tuple[int, ...] = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
    except OSError:
        stamp = ()  # reading it reports the problem
    key = (host, max_size, digest, stamp)
    if key not in _HOSTS:
        _HOSTS[key] = _load_host(host, max_size=max_size, digest=digest)
    return _HOSTS[key]


def check_each(path: str, *, host: str, max_size: int, digest: bool = True, **options: Any) -> Report:
    """One file judged alone against *host* in a fresh process (``--host H --each``): a job for
    :func:`judge_all`."""
    model = load_host(host, max_size=max_size, digest=digest)
    return api.check_host(model, [path], each=True, max_size=max_size, digest=digest, **options)[0]


class ProgressBar:
    """A one-line bar on a terminal stream: ``[#########.........]  45/100 files``; drawn only when the
    stream is a terminal and the run is long enough to wait for (never in CI logs)."""

    WIDTH = 30

    def __init__(self, stream: IO[str], total: int, *, enabled: bool) -> None:
        self.stream = stream
        self.total = total
        self.enabled = enabled
        self._drawn = False

    @classmethod
    def for_stderr(cls, total: int, *, quiet: bool) -> ProgressBar:
        stream = sys.stderr
        on = not quiet and total >= PROGRESS_MIN_FILES and stream.isatty() and os.environ.get("TERM") != "dumb"
        return cls(stream, total, enabled=on)

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        filled = self.WIDTH * done // max(total, 1)
        bar = "#" * filled + "." * (self.WIDTH - filled)
        self.stream.write(f"\rsoinspect [{bar}] {done:>{len(str(total))}}/{total} files")
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        if self._drawn:
            self.stream.write(ERASE_LINE)
            self.stream.flush()
            self._drawn = False
