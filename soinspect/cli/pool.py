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
  A worker is forked (``os.fork``, not multiprocessing, whose import cost every start about 35 ms) with
  the list of jobs in its memory: the parent sends it a job's number (8 bytes) down one pipe, never the
  job pickled, and reads its replies (a length, then a pickle) from another, whose end-of-file says the
  worker died; it waits on all of them with one ``poll`` object kept for the run. A worker holds no end
  of another worker's pipes, so each one sees end-of-file the moment the parent is gone.
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
import os
import pickle
import resource
import select
import signal
import struct
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from soinspect._frozen import frozen
from soinspect.errors import ParserCrashError, SoinspectError

FAULT_ENV = "SOINSPECT_TEST_WORKER_FAULT"
#: jobs a worker holds at once: the one it works on and the next (sent ahead, so the parent's turn of
#: receiving and sending overlaps the worker's next job instead of leaving it idle)
QUEUE_DEPTH = 2


@frozen
class Job:
    """One unit of work: ``func(path, **kwargs)``."""

    func: Callable[..., Any]
    path: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)


@frozen
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


# -- the channel: two pipes per worker --------------------------------------------------------------
#
# A worker is a plain fork (no multiprocessing: its import, with socket, tempfile and subprocess, was
# about 35 ms of every start). The parent writes job numbers into one pipe; the worker writes its replies
# into another, each as an 8-byte length and a pickle. The worker holds the only write end of its reply
# pipe, so the parent's end reports end-of-file when the worker dies, whatever killed it: that end is
# also the worker's sentinel.

#: a job's number as the parent sends it; :data:`_STOP` asks the worker to exit
_INDEX = struct.Struct("<q")
_STOP = -1
#: the length of a reply's pickle, before it
_LENGTH = struct.Struct("<Q")


def _read_exact(fd: int, n: int) -> bytes:
    """*n* bytes from the pipe *fd*, fewer only where it ends first (the writer died). Bound: each read
    returns at least one byte or ends the loop."""
    first = os.read(fd, n)
    if len(first) == n or not first:
        return first
    chunks = [first]
    got = len(first)
    while got < n:
        chunk = os.read(fd, n - got)
        if not chunk:
            break
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def _write_all(fd: int, parts: list[bytes]) -> None:
    """Write *parts* to the pipe *fd*, whole (a pipe write may take less than it was given)."""
    views = [memoryview(p) for p in parts if p]
    while views:  # bound: each writev takes at least one byte, or raises
        done = os.writev(fd, views)
        while views and done >= len(views[0]):
            done -= len(views[0])
            views.pop(0)
        if views and done:
            views[0] = views[0][done:]


# -- the worker side ----------------------------------------------------------------------------------


def _worker_main(jobs_fd: int, replies_fd: int, limits: Limits, jobs: Sequence[Job]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles ^C and kills its workers
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the parent's handler: die, and the parent sees it
    faulthandler.disable()  # the parent names the signal; no Python stack dump on stderr
    if limits.memory is not None:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        soft = limits.memory if hard == resource.RLIM_INFINITY else min(limits.memory, hard)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    fault = os.environ.get(FAULT_ENV, "")
    while True:
        msg = _read_exact(jobs_fd, _INDEX.size)
        if len(msg) != _INDEX.size:
            return  # the parent is gone (or sent half a number): nothing to work for
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
            reply = (index, "bug", _traceback_text())
        try:
            data = pickle.dumps(reply, pickle.HIGHEST_PROTOCOL)
        except MemoryError:
            data = pickle.dumps((index, "memory", None), pickle.HIGHEST_PROTOCOL)
        except Exception:  # a result that does not pickle is a bug of the job's function
            data = pickle.dumps((index, "bug", _traceback_text()), pickle.HIGHEST_PROTOCOL)
        _write_all(replies_fd, [_LENGTH.pack(len(data)), data])


def _traceback_text() -> str:
    import traceback  # a bug's text: imported when there is one

    return traceback.format_exc()


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


class _Process:
    """A forked worker process, reaped by this module alone."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        #: as multiprocessing reports it: the exit status, or minus the signal that killed it; None while alive
        self.exitcode: int | None = None

    def poll(self) -> int | None:
        if self.exitcode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:  # reaped already: by nobody else in soinspect, so gone
                self.exitcode = 255
            else:
                if pid:
                    self.exitcode = os.waitstatus_to_exitcode(status)
        return self.exitcode

    def is_alive(self) -> bool:
        return self.poll() is None

    def kill(self) -> None:
        if self.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)

    def join(self, timeout: float) -> None:
        """Wait at most *timeout* seconds for it to end. Bound: the timeout."""
        deadline = time.monotonic() + timeout
        pause = 0.0005
        while self.poll() is None and time.monotonic() < deadline:
            time.sleep(pause)
            pause = min(2 * pause, 0.02)


@dataclass(eq=False)  # one worker is one process: compared (and hashed) by identity
class _Worker:
    process: _Process
    jobs_fd: int  # the parent's end of the pipe of job numbers
    replies_fd: int  # the parent's end of the pipe of replies (end-of-file: the worker died)
    queue: list[int] = field(default_factory=list)  # the jobs sent to it, in order; the first is running
    deadline: float = 0.0  # of the first job
    closed: bool = False

    @property
    def index(self) -> int | None:
        """The job it is working on."""
        return self.queue[0] if self.queue else None

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            for fd in (self.jobs_fd, self.replies_fd):
                with contextlib.suppress(OSError):
                    os.close(fd)


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
        self.poller = select.poll()  # every live worker's reply pipe, for the whole run
        self.live: list[_Worker] = []  # the workers whose pipes are open

    def run(self) -> list[Any]:
        _warm_up()
        workers: list[_Worker] = []
        try:
            for _ in range(self.nworkers):
                workers.append(self._start())
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
                    # its reply pipe readable: a reply, or end-of-file (it died)
                    if w.replies_fd in ready and self._receive(w):
                        self._assign(w)
                    elif w.replies_fd in ready or now >= w.deadline:
                        self._bury(w, timed_out=now >= w.deadline and w.process.is_alive())
                        workers[i] = self._start()
                        self._assign(workers[i])
        except BaseException:
            for w in workers:  # interrupted (or a bug): no worker goes on working for nobody
                w.process.kill()
            raise
        finally:
            self._stop(workers)
        return self.results

    def _start(self) -> _Worker:
        jobs_r, jobs_w = os.pipe()
        replies_r, replies_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the worker: it has the jobs in its memory (nothing is pickled); the parent sends numbers
            code = 1
            try:
                os.close(jobs_w)
                os.close(replies_r)
                for other in self.live:  # the other workers' pipes: their ends must be the parent's alone
                    other.close()
                _worker_main(jobs_r, replies_w, self.limits, self.jobs)
                code = 0
            finally:
                os._exit(code)
        os.close(jobs_r)
        os.close(replies_w)
        w = _Worker(_Process(pid), jobs_w, replies_r)
        self.poller.register(replies_r, select.POLLIN)
        self.live.append(w)
        return w

    def _forget(self, w: _Worker) -> None:
        """Stop polling the worker's pipe and close the parent's ends (their numbers may then be reused)."""
        if w in self.live:
            self.poller.unregister(w.replies_fd)
            self.live.remove(w)
        w.close()

    def _assign(self, w: _Worker) -> None:
        """Fill the worker's queue up to :data:`QUEUE_DEPTH` from the pending jobs."""
        while self.pending and len(w.queue) < QUEUE_DEPTH:
            index = self.pending.pop()
            if not w.queue:
                w.deadline = time.monotonic() + self.limits.timeout
            w.queue.append(index)
            # A worker that is already dead cannot take it: its reply pipe reports that next round.
            with contextlib.suppress(BrokenPipeError):
                os.write(w.jobs_fd, _INDEX.pack(index))

    def _receive(self, w: _Worker) -> bool:
        """Take the worker's reply; False if the worker died before sending a whole one."""
        head = _read_exact(w.replies_fd, _LENGTH.size)
        if len(head) != _LENGTH.size:
            return False
        (size,) = _LENGTH.unpack(head)
        data = _read_exact(w.replies_fd, size)
        if len(data) != size:
            return False
        index, status, value = pickle.loads(data)
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
        self._tick()

    def _stop(self, workers: list[_Worker]) -> None:
        """Ask every worker to exit, all at once, then wait for each (one that lingers is killed)."""
        for w in workers:
            if not w.closed and w.process.is_alive():
                with contextlib.suppress(BrokenPipeError, OSError):
                    os.write(w.jobs_fd, _INDEX.pack(_STOP))
            self._forget(w)  # its end of the job pipe closed too: end-of-file, should the number not come
        for w in workers:
            w.process.join(1)
            if w.process.is_alive():
                w.process.kill()
                w.process.join(5)
            w.process.poll()


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
