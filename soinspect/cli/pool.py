"""Per-file work in worker processes, so that a crash in native code (LIEF) is one file's error.

soinspect's own readers never crash on hostile bytes (every length is checked, every loop is bounded),
but the ELF headers are parsed by LIEF, which is C++: a segfault or an abort there would take the
whole Python process with it. :func:`run_many` is the one worker pool of the project; the CLI (single
files and directory scans alike) calls it.

Contract of ``run_many(jobs, workers=N, limits=Limits()) -> list[result]``:

* ``jobs`` is a sequence of :class:`Job` ``(func, path, kwargs)``. ``func`` is called as
  ``func(path, **kwargs)`` in a worker forked with the jobs in its memory (a job is never pickled); its
  return value must pickle.
* The result is a list with one entry per job, **in input order**: the function's return value, or the
  :class:`~soinspect.errors.SoinspectError` it raised (returned, not raised), or a
  :class:`~soinspect.errors.ParserCrashError` (kind ``parser-crash``) when the worker died by a signal
  (named, e.g. ``SIGSEGV``), went past the wall-clock timeout, its CPU-time limit or its memory limit
  while working on that file. A dead worker is replaced and the remaining jobs go on: the other files'
  results stand.
* Any other exception raised by ``func`` is a bug in soinspect, not a property of the file: it is
  re-raised in the caller as :class:`WorkerError` naming the file and the original traceback text.
* ``workers=0`` runs the jobs in this process, in order, with no isolation and no limits (``--no-isolate``).
  Otherwise at most ``min(workers, len(jobs))`` worker processes (fork) are started; jobs are handed out
  to the workers as they finish, each worker holding at most :data:`QUEUE_DEPTH` (its current job and
  the next, so that it never waits for the parent between two files), so one slow file holds up at most
  one other. A job a worker had not started when it died goes to another worker, as if never handed out.
  A worker is forked with the list of jobs in its memory: the parent sends it a job's number (8 bytes),
  never the job pickled, and waits on all its workers with one ``poll`` object kept for the run.
* Each worker runs under ``RLIMIT_AS`` (``limits.memory`` bytes), a CPU-time limit per job
  (``RLIMIT_CPU``, raised before each job) and a wall-clock timeout per job enforced by the parent
  (SIGKILL). The bound on one call is therefore ``len(jobs) * limits.timeout / workers`` plus start-up.

Test hook: when the environment variable ``SOINSPECT_TEST_WORKER_FAULT`` is ``"<fault>:<path>"``
(``segv``, ``abort`` or ``hang``) a *worker* that starts the job for exactly ``<path>`` kills itself with
that fault before calling ``func``. It exists so the tests can show containment with a real signal; the
in-process path (``workers=0``) ignores it.
"""

from __future__ import annotations

import contextlib
import faulthandler
import multiprocessing
import multiprocessing.connection
import os
import resource
import select
import signal
import struct
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from soinspect.errors import ParserCrashError, SoinspectError

FAULT_ENV = "SOINSPECT_TEST_WORKER_FAULT"
#: jobs a worker holds at once: the one it works on and the next (sent ahead, so the parent's turn of
#: receiving and sending overlaps the worker's next job instead of leaving it idle)
QUEUE_DEPTH = 2


@dataclass(frozen=True)
class Job:
    """One unit of work: ``func(path, **kwargs)``."""

    func: Callable[..., Any]
    path: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Limits:
    """Resource limits of one worker process, per job."""

    #: wall-clock seconds one job may take before its worker is killed
    timeout: float = 120.0
    #: CPU seconds one job may use (RLIMIT_CPU, re-armed before each job); SIGXCPU kills the worker
    cpu_seconds: int = 120
    #: address-space limit of a worker in bytes (RLIMIT_AS); None: no limit
    memory: int | None = 4 << 30


class Interrupted(BaseException):
    """The run was interrupted by a signal (SIGINT, SIGTERM), in this process or in a worker: no file's
    result may be trusted, and nothing may be printed as a verdict. ``signum`` is the signal."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


#: a worker killed by one of these was stopped from outside, not by the file it was reading
_INTERRUPTS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class WorkerError(RuntimeError):
    """A job raised an exception that is not a :class:`SoinspectError`: a bug in soinspect."""

    def __init__(self, path: str, text: str) -> None:
        super().__init__(f"{path}: internal error in soinspect (please report it):\n{text}")
        self.path = path


def default_workers(njobs: int) -> int:
    """Workers to use for *njobs* files: one per CPU, never more than there are files."""
    return max(1, min(njobs, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 2))


def run_many(
    jobs: Sequence[Job],
    workers: int = 1,
    limits: Limits = Limits(),
    progress: Callable[[int, int], None] | None = None,
) -> list[Any]:
    """Run *jobs*; see the module docstring for the contract. *progress*, if given, is called in this
    process with ``(done, total)`` after each job ends, in whatever order jobs end."""
    if workers <= 0:
        out = []
        for job in jobs:
            out.append(_run_inline(job))
            if progress is not None:
                progress(len(out), len(jobs))
        return out
    return _Pool(jobs, min(workers, len(jobs)), limits, progress).run()


def _run_inline(job: Job) -> Any:
    try:
        return job.func(job.path, **job.kwargs)
    except SoinspectError as exc:
        return exc


# -- the worker side ----------------------------------------------------------------------------------


#: a job's number as the parent sends it; :data:`_STOP` asks the worker to exit
_INDEX = struct.Struct("<q")
_STOP = -1


def _worker_main(conn: multiprocessing.connection.Connection, limits: Limits, jobs: Sequence[Job]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles ^C and kills its workers
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the parent's handler: die, and the parent sees it
    faulthandler.disable()  # the parent names the signal; no Python stack dump on stderr
    if limits.memory is not None:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        soft = limits.memory if hard == resource.RLIM_INFINITY else min(limits.memory, hard)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    fault = os.environ.get(FAULT_ENV, "")
    while True:
        try:
            msg = conn.recv_bytes()
        except (EOFError, OSError):
            return
        if len(msg) != _INDEX.size:
            return
        (index,) = _INDEX.unpack(msg)
        if not 0 <= index < len(jobs):
            return
        job = jobs[index]
        _arm_cpu_limit(limits.cpu_seconds)
        if fault:
            _test_fault(fault, job.path)
        try:
            reply: tuple[int, str, Any] = (index, "ok", job.func(job.path, **job.kwargs))
        except SoinspectError as exc:
            reply = (index, "error", exc)
        except MemoryError:
            reply = (index, "memory", None)
        except Exception:
            import traceback  # a bug's text: imported when there is one

            reply = (index, "bug", traceback.format_exc())
        conn.send(reply)


def _arm_cpu_limit(seconds: int) -> None:
    """Let the next job use *seconds* more CPU seconds than this process has used so far."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    used = int(ru.ru_utime + ru.ru_stime) + 1
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = used + seconds
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _test_fault(spec: str, path: str) -> None:
    kind, _, target = spec.partition(":")
    if target != path:
        return
    if kind == "segv":
        os.kill(os.getpid(), signal.SIGSEGV)
    elif kind == "abort":
        os.abort()
    elif kind == "hang":
        while True:
            time.sleep(3600)


# -- the parent side ----------------------------------------------------------------------------------


@dataclass(eq=False)  # one worker is one process: compared (and hashed) by identity
class _Worker:
    process: Any  # multiprocessing.Process from the fork context
    conn: multiprocessing.connection.Connection
    queue: list[int] = field(default_factory=list)  # the jobs sent to it, in order; the first is running
    deadline: float = 0.0  # of the first job

    @property
    def index(self) -> int | None:
        """The job it is working on."""
        return self.queue[0] if self.queue else None


class _Pool:
    def __init__(
        self, jobs: Sequence[Job], nworkers: int, limits: Limits, progress: Callable[[int, int], None] | None
    ) -> None:
        self.jobs = jobs
        self.nworkers = nworkers
        self.limits = limits
        self.progress = progress
        self.done = 0
        self.results: list[Any] = [None] * len(jobs)
        self.pending = list(range(len(jobs) - 1, -1, -1))  # a stack: pop() gives input order
        self.ctx = multiprocessing.get_context("fork")
        self.poller = select.poll()  # every live worker's pipe and sentinel, for the whole run
        self.by_fd: dict[int, _Worker] = {}

    def run(self) -> list[Any]:
        _warm_up()
        workers = [self._start() for _ in range(self.nworkers)]
        try:
            for w in workers:
                self._assign(w)
            # Bound: every iteration either receives a result, or ends a worker (by its death or by
            # a timeout); each job is assigned once, so there are at most 2 * len(jobs) iterations.
            while any(w.index is not None for w in workers):
                wait_for = min(w.deadline for w in workers if w.index is not None) - time.monotonic()
                ready = {fd for fd, _ in self.poller.poll(max(0, int(wait_for * 1000) + 1))}
                now = time.monotonic()
                for i, w in enumerate(workers):
                    if w.index is None:
                        continue
                    # its pipe readable: a reply, or EOF (it died: then its sentinel is ready too, in the
                    # same poll); its sentinel alone: it died with no reply
                    if w.conn.fileno() in ready and self._receive(w):
                        self._assign(w)
                    elif w.conn.fileno() in ready or w.process.sentinel in ready or now >= w.deadline:
                        self._bury(w, timed_out=now >= w.deadline and w.process.is_alive())
                        workers[i] = self._start()
                        self._assign(workers[i])
        except BaseException:
            for w in workers:  # interrupted (or a bug): no worker goes on working for nobody
                if w.process.is_alive():
                    w.process.kill()
            raise
        finally:
            for w in workers:
                self._stop(w)
        return self.results

    def _start(self) -> _Worker:
        parent, child = self.ctx.Pipe(duplex=True)
        # fork: the worker has the jobs in its memory (nothing is pickled); the parent sends numbers
        proc = self.ctx.Process(target=_worker_main, args=(child, self.limits, self.jobs), daemon=True)
        proc.start()
        child.close()
        w = _Worker(proc, parent)
        for fd in (parent.fileno(), proc.sentinel):
            self.poller.register(fd, select.POLLIN)
            self.by_fd[fd] = w
        return w

    def _forget(self, w: _Worker) -> None:
        """Stop polling the worker's descriptors (before they are closed, and their numbers reused)."""
        for fd, owner in list(self.by_fd.items()):
            if owner is w:
                self.poller.unregister(fd)
                del self.by_fd[fd]

    def _assign(self, w: _Worker) -> None:
        """Fill the worker's queue up to :data:`QUEUE_DEPTH` from the pending jobs."""
        while self.pending and len(w.queue) < QUEUE_DEPTH:
            index = self.pending.pop()
            if not w.queue:
                w.deadline = time.monotonic() + self.limits.timeout
            w.queue.append(index)
            # A worker that is already dead cannot take it: its sentinel reports that next round.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                w.conn.send_bytes(_INDEX.pack(index))

    def _receive(self, w: _Worker) -> bool:
        """Take the worker's reply; False if the worker died before sending a whole one."""
        try:
            index, status, value = w.conn.recv()
        except (EOFError, ConnectionResetError, OSError):
            return False
        job = self.jobs[index]
        if status == "bug":
            raise WorkerError(job.path, value)
        if status == "memory":
            value = ParserCrashError(job.path, f"ran out of the {_mib(self.limits.memory)} memory limit of its worker")
        self.results[index] = value
        w.queue.remove(index)  # the first (a worker answers in order)
        w.deadline = time.monotonic() + self.limits.timeout  # the next job starts now
        self._tick()
        return True

    def _tick(self) -> None:
        self.done += 1
        if self.progress is not None:
            self.progress(self.done, len(self.jobs))

    def _bury(self, w: _Worker, *, timed_out: bool) -> None:
        index = w.index
        assert index is not None
        path = self.jobs[index].path
        if timed_out:
            w.process.kill()
        w.process.join(5)
        code = w.process.exitcode
        if not timed_out and code is not None and -code in _INTERRUPTS:
            raise Interrupted(-code)  # stopped from outside: the run is interrupted, the file is not at fault
        if timed_out:
            err = ParserCrashError(path, f"analysis did not finish within {self.limits.timeout:g} s: worker killed")
        elif code is not None and code < 0:
            err = ParserCrashError(path, f"the ELF parser crashed: worker killed by {_signame(-code)}")
        else:
            err = ParserCrashError(path, f"the worker analysing the file exited unexpectedly (exit status {code})")
        self.results[index] = err
        self.pending.extend(reversed(w.queue[1:]))  # never started: next for another worker, in order
        w.queue.clear()
        self._forget(w)
        w.conn.close()
        self._tick()

    def _stop(self, w: _Worker) -> None:
        self._forget(w)
        if w.process.is_alive():
            with contextlib.suppress(BrokenPipeError, ConnectionResetError, OSError):
                w.conn.send_bytes(_INDEX.pack(_STOP))
            w.process.join(1)
            if w.process.is_alive():
                w.process.kill()
                w.process.join(5)
        w.conn.close()


def _warm_up() -> None:
    """Import LIEF before forking, so that workers share it instead of each importing it (0.2 s+)."""
    from soinspect.elf._lief import _lief

    _lief()


def _signame(num: int) -> str:
    try:
        return signal.Signals(num).name
    except ValueError:
        return f"signal {num}"


def _mib(n: int | None) -> str:
    return "unlimited" if n is None else f"{n >> 20} MiB"
