"""Run one coverage-guided harness with atheris (libFuzzer), short or long.

    python -m fuzz.run NAME                        # until stopped; findings stop it (libFuzzer's crash)
    python -m fuzz.run NAME --time 10              # a bounded run (CI: tests/test_fuzz_harnesses.py)
    python -m fuzz.run NAME --until 18:00 --keep-going --nice 19    # a long run, restarted on a timeout
    python -m fuzz.run NAME --until 18:00 --cpu-minutes 61 --keep-going # ... that stops at 61 CPU-minutes
    python -m fuzz.run --list

NAME is one of :data:`fuzz.harnesses.HARNESSES`. Everything goes under ``--out`` (default ``fuzz-out/``)
``/NAME/``: ``seeds/`` (written from the corpus on every start), ``corpus/`` (what the fuzzer kept: the
inputs that reached new coverage), ``artifacts/`` (libFuzzer's crash, timeout and out-of-memory inputs),
``findings/`` (with ``--keep-going``: one input per distinct finding, the rest only counted) and
``stats.json`` (executions, CPU seconds, findings; a long run adds up its child processes).

Bounds per input: ``--cpu-limit`` CPU seconds (default 5; measured around each input, so a busy machine
does not trip it: over it is a finding, ``slow-NAME``), ``--timeout`` wall-clock seconds (libFuzzer's
``-timeout``, default 60: it stops the process and saves the input; a backstop for a hang in native code,
where Python cannot measure) and ``--rss-mb`` MiB of resident memory (libFuzzer's ``-rss_limit_mb``). A long
run (``--until``) runs the fuzzer in a child process and starts a new one after a timeout or an
out-of-memory stop, until the time given; the corpus carries over, so the search goes on where it was.
With ``--cpu-minutes`` it stops earlier, once its processes (``go`` children included) have used that much
CPU time in all, counted across every long run on the same ``--out`` (``long.json``).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import re
import resource
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
NAMES = ("elf", "buildinfo", "gomodule", "versions", "ldcache", "ldconf", "config", "manifest")


def _innermost(exc: BaseException) -> str:
    """``file:function`` of the innermost soinspect frame of *exc* (where a reader missed a check)."""
    where = "?"
    for fs in traceback.extract_tb(exc.__traceback__):
        if "/soinspect/" in fs.filename:
            where = f"{Path(fs.filename).stem}.{fs.name}"
    return where


class Stats:
    def __init__(self, out: Path) -> None:
        self.path = out / f"stats-{os.getpid()}.json"
        self.executions = 0
        self.outcomes: dict[str, int] = {}
        self.findings: dict[str, int] = {}
        self.last = 0.0

    def write(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < 5:
            return
        self.last = now
        ru = resource.getrusage(resource.RUSAGE_SELF)
        data = {"executions": self.executions, "cpu": ru.ru_utime + ru.ru_stime, "outcomes": self.outcomes,
                "findings": self.findings, "peak_rss_mib": ru.ru_maxrss // 1024}  # fmt: skip
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, sort_keys=True))
        os.replace(tmp, self.path)


def fuzz(args: argparse.Namespace) -> None:
    """The fuzzing process itself: never returns (libFuzzer exits)."""
    import atheris

    with atheris.instrument_imports(include=["soinspect", "tomllib", "fuzz"]):
        from fuzz import harnesses
    h = harnesses.HARNESSES[args.name]
    out = Path(args.out) / args.name
    seeds, corpus_dir, artifacts, findings = (out / d for d in ("seeds", "corpus", "artifacts", "findings"))
    for d in (seeds, corpus_dir, artifacts, findings):
        d.mkdir(parents=True, exist_ok=True)
    for name, data in h.seeds():
        (seeds / name).write_bytes(data[: h.max_len])
    stats = Stats(out)
    dictionary: list[str] = []
    if h.tokens is not None:  # libFuzzer's -dict: one quoted token a line, non-printable bytes as \xNN
        lines = ('"' + "".join(chr(b) if 32 <= b < 127 and b not in b'"\\' else f"\\x{b:02x}" for b in t) + '"'
                 for t in h.tokens())  # fmt: skip
        (out / "tokens.dict").write_text("\n".join(lines) + "\n")
        dictionary = [f"-dict={out / 'tokens.dict'}"]

    def record(key: str, data: bytes, text: str, file: bytes | None = None) -> None:
        key = re.sub(r"[^\w.+-]+", "_", key)[:80]
        stats.findings[key] = stats.findings.get(key, 0) + 1
        if stats.findings[key] == 1:
            digest = hashlib.sha1(data).hexdigest()[:12]
            (findings / f"{key}-{digest}").write_bytes(data)
            (findings / f"{key}-{digest}.txt").write_text(text)
            if file is None and h.mutant is not None:
                file = h.mutant(data)
            if file is not None:  # the whole mutant file, for the regression seed
                (findings / f"{key}-{digest}.file").write_bytes(file)
            print(f"FINDING {key}: {text.splitlines()[-1] if text else ''}", file=sys.stderr, flush=True)

    def one(data: bytes) -> None:
        stats.executions += 1
        cpu = time.process_time()
        try:
            outcome = h.one(data)
            stats.outcomes[outcome] = stats.outcomes.get(outcome, 0) + 1
        except harnesses.Disagreement as exc:
            if not args.keep_going:
                raise
            record(f"disagree-{exc.key}", exc.data, str(exc))
        except Exception as exc:
            if not args.keep_going:
                raise
            record(f"{type(exc).__name__}-{_innermost(exc)}", data, traceback.format_exc())
        cpu = time.process_time() - cpu
        if cpu > args.cpu_limit:  # the time bound, in CPU seconds: a loaded machine does not trip it
            record(f"slow-{args.name}", data, f"{cpu:.1f} s of CPU for one input (bound {args.cpu_limit:g} s)")
            if not args.keep_going:
                raise RuntimeError(f"one input took {cpu:.1f} s of CPU, over the bound of {args.cpu_limit:g} s")
        stats.write()
        if stop_after and stats.executions >= initial and time.monotonic() > stop_after:
            finish()

    def finish() -> None:
        """The end of a bounded run: compare what the batched oracle holds, write the figures, exit 0.
        (libFuzzer's own -max_total_time exits from C, where no Python exit handler runs.)"""
        if h.flush is not None:
            try:
                h.flush()
            except harnesses.Disagreement as exc:
                record(f"disagree-{exc.key}", exc.data, str(exc))
                if not args.keep_going:
                    stats.write(force=True)
                    raise
        stats.write(force=True)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)

    # Warm up outside the fuzzer's clock: the first input pays for imports (LIEF takes seconds at nice 19
    # on a busy machine) and a libFuzzer timeout there would be no finding.
    with contextlib.suppress(Exception):
        h.one(next(iter(h.seeds()))[1])
    # every seed and every input the corpus already holds runs once before the time bound counts
    initial = len(list(seeds.iterdir())) + len(list(corpus_dir.iterdir()))
    started = time.monotonic()
    stop_after = started + args.time if args.time else 0.0

    libfuzzer = [
        sys.argv[0],
        str(corpus_dir),
        str(seeds),
        f"-max_len={h.max_len}",
        f"-timeout={args.timeout}",
        f"-rss_limit_mb={args.rss_mb}",
        f"-artifact_prefix={artifacts}/",
        "-print_final_stats=1",
        *dictionary,
    ]
    atheris.Setup(libfuzzer, one)
    atheris.Fuzz()


def long_run(args: argparse.Namespace) -> int:
    """Child fuzzing processes, one after another, until ``--until``; their CPU time summed."""
    hh, mm = (int(x) for x in args.until.split(":"))
    now = time.localtime()
    deadline = time.mktime((now.tm_year, now.tm_mon, now.tm_mday, hh, mm, 0, 0, 0, -1))
    if deadline <= time.time():
        deadline += 24 * 3600  # a time of day already past: tomorrow's (a run started at 23:00 --until 01:00)
    out = Path(args.out) / args.name
    out.mkdir(parents=True, exist_ok=True)
    log = open(out / "log.txt", "a")  # noqa: SIM115 (open for the whole run)
    # a long run goes on where an earlier one on this --out stopped: its CPU time and children add up
    summary: dict[str, Any] = {"children": 0, "cpu": 0.0, "stops": {}, "elapsed": 0.0}
    with contextlib.suppress(OSError, ValueError):
        summary.update(json.loads((out / "long.json").read_text()))
    started = time.time() - summary["elapsed"]
    while time.time() < deadline - 5:
        if args.cpu_minutes and summary["cpu"] >= args.cpu_minutes * 60:
            break  # an earlier long run on this --out spent the budget
        cmd = [sys.executable, "-m", "fuzz.run", args.name, "--out", args.out, "--keep-going",
               "--time", str(int(deadline - time.time())), "--timeout", str(args.timeout),
               "--cpu-limit", str(args.cpu_limit), "--rss-mb", str(args.rss_mb)]  # fmt: skip
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=log, preexec_fn=lambda: os.nice(args.nice))
        budget = args.cpu_minutes * 60 - summary["cpu"] if args.cpu_minutes else 0.0
        spent = False
        # the CPU budget: checked every 10 s, ended with SIGTERM (os.wait4 alone reaps the child: its
        # rusage is the figure; Popen.poll would reap it first and lose that)
        pid, status, ru = os.wait4(proc.pid, os.WNOHANG if budget else 0)
        while not pid:
            time.sleep(10)
            if not spent and _process_cpu(proc.pid) >= budget:
                spent = True
                proc.terminate()
            pid, status, ru = os.wait4(proc.pid, os.WNOHANG)
        summary["children"] += 1
        summary["cpu"] += ru.ru_utime + ru.ru_stime
        code = os.waitstatus_to_exitcode(status)
        summary["stops"][str(code)] = summary["stops"].get(str(code), 0) + 1
        summary["elapsed"] = time.time() - started
        summary.update(_totals(out))
        (out / "long.json").write_text(json.dumps(summary, indent=1, sort_keys=True))
        if code == 0 or spent or (args.cpu_minutes and summary["cpu"] >= args.cpu_minutes * 60):
            break
        time.sleep(1)
    return 0


def _process_cpu(pid: int) -> float:
    """CPU seconds of a running process and of its children it has waited for (``/proc/PID/stat``)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def _totals(out: Path) -> dict[str, Any]:
    """Executions and findings of every fuzzing process this directory has seen (its stats files)."""
    total: dict[str, Any] = {"executions": 0, "findings": {}, "outcomes": {}}
    for p in out.glob("stats-*.json"):
        try:
            s = json.loads(p.read_text())
        except (OSError, ValueError):
            continue
        total["executions"] += s["executions"]
        for part in ("findings", "outcomes"):
            for k, v in s[part].items():
                total[part][k] = total[part].get(k, 0) + v
    total["corpus_files"] = len(list((out / "corpus").glob("*"))) if (out / "corpus").is_dir() else 0
    return total


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("name", nargs="?", choices=NAMES)
    ap.add_argument("--list", action="store_true", help="list the harnesses")
    ap.add_argument("--out", default=str(ROOT / "fuzz-out"))
    ap.add_argument("--time", type=int, default=0, help="stop after this many seconds (libFuzzer -max_total_time)")
    ap.add_argument("--timeout", type=int, default=60, help="wall-clock seconds for one input (libFuzzer -timeout)")
    ap.add_argument("--cpu-limit", type=float, default=5.0, help="CPU seconds one input may take: over it, a finding")
    ap.add_argument("--rss-mb", type=int, default=3072, help="resident memory bound (libFuzzer -rss_limit_mb)")
    ap.add_argument("--keep-going", action="store_true", help="record findings and go on instead of stopping")
    ap.add_argument("--until", help="HH:MM (the next such time): a long run, restarting the fuzzer after each stop")
    ap.add_argument("--cpu-minutes", type=float, default=0, help="with --until: stop once the run used this much CPU")
    ap.add_argument("--nice", type=int, default=19, help="niceness of a long run's fuzzing processes")
    args = ap.parse_args(argv)
    if args.list:
        print("\n".join(NAMES))
        return 0
    if args.name is None:
        ap.error("name a harness (--list)")
    if args.until:
        return long_run(args)
    sys.argv = [sys.argv[0]]  # libFuzzer parses its own flags from what Setup is given
    fuzz(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
