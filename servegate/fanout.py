"""Evaluate a check's units in forked copies of this process, one per CPU it may use.

``servegate.evaluate.evaluate_unit`` is a function of a unit, its plan and the schema set,
all in memory once the units are loaded; a child made with ``fork`` shares them without
copying (copy-on-write) and sends back only its units' ``UnitResult`` values (pickled, through
a pipe). The units are split in runs of consecutive units of about equal resource counts,
several per child, which the children take from one queue as they go; the results are put
back in unit order, so the report is the one a single process writes.

What one process would have done differently is checked, not assumed. The parent evaluates
nothing while its children run, so it is still as it was; it evaluates every unit itself,
in order, as ``--jobs 1`` does, when:

- a child failed: it died, exited non-zero, wrote no well-formed result, or did not finish
  within ``deadline`` (then it is killed);
- the run's PromQL budget (``servegate.promql.usage``) could have run out in one process: a
  child refused a query, or the children together charged more than one process may;
- a child needed a source file the parent had not read (``SourceFiles.close``: it stops at
  once): the run's YAML budget, the memo and the report's file count are the parent's.

The first ``MIN_RESOURCES`` objects are evaluated by the parent as their units load (while
kustomize renders the next roots), so a small check never forks.

Only on Linux, where a child may use what it inherits: CPython takes its import lock and glibc
its allocator's locks around ``fork``, and the child closes every descriptor it does not need,
touches nothing of the one other thread (the memo's writer) and leaves with ``os._exit``.
macOS system libraries are not fork-safe and Windows has no ``fork``: there, one process
evaluates.

The children start once every unit is loaded, not in waves while the parent loads the rest:
after a fork, every page the parent writes (a reference count is a write) is copied, and a
parent loading beside its children was slower by more than the overlap gained (M=300 bench
repo: 3.0 to 3.3 s in one wave, 3.8 to 5.7 s in waves of 3,000 objects).
"""

from __future__ import annotations

import os
import pickle
import selectors
import signal
import struct
import sys
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from servegate import promql
from servegate.evaluate import evaluate_unit
from servegate.model import Unit, UnitResult
from servegate.procs import STOPPING_SIGNALS

if TYPE_CHECKING:
    from servegate.plan import Plan, Planner
    from servegate.schema.validate import SchemaSet
    from servegate.sources import SourceFiles

#: The objects a check's first units hold that the parent evaluates as they load: below this
#: a fork and the results' round trip cost more than half the evaluation (about 0.3 ms per
#: object on the bench repo), and evaluating beside kustomize costs no wall time.
MIN_RESOURCES = 1_000
#: The most processes ``jobs=None`` uses, however many CPUs there are.
MAX_AUTO_JOBS = 4


def default_jobs() -> int:
    """The CPUs this process may use, at most ``MAX_AUTO_JOBS``: its affinity mask, and its
    cgroup's CPU quota when there is one (a container's CPU limit, as Go 1.25 sets
    ``GOMAXPROCS`` from it): a pod limited to one CPU evaluates in one process."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    quota = cgroup_cpus()
    if quota is not None:
        cpus = min(cpus, quota)
    return max(1, min(cpus, MAX_AUTO_JOBS))


def cgroup_cpus(root: str = "/sys/fs/cgroup") -> int | None:
    """Whole CPUs of this process's cgroup quota (at least 1), or None when unlimited or
    unknown: cgroup v2's ``cpu.max`` (``<quota> <period>`` or ``max <period>``), else v1's
    ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us`` (-1: unlimited)."""
    for quota_file, period_file in (
        ("cpu.max", None),
        ("cpu/cpu.cfs_quota_us", "cpu/cpu.cfs_period_us"),
    ):
        try:
            with open(os.path.join(root, quota_file), encoding="ascii") as f:
                fields = f.read().split()
            if period_file is not None:
                with open(os.path.join(root, period_file), encoding="ascii") as f:
                    fields += f.read().split()
        except (OSError, ValueError):
            continue
        if len(fields) != 2 or fields[0] in ("max", "-1"):
            return None
        try:
            quota, period = int(fields[0]), int(fields[1])
        except ValueError:
            return None
        if quota <= 0 or period <= 0:
            return None
        return max(1, quota // period)
    return None


def deadline(resources: int) -> float:
    """Seconds the children of a fan-out over ``resources`` objects may take before they are
    killed and the parent evaluates alone: far beyond a healthy child (about 0.3 ms per
    resource), so only a stuck one is cut."""
    return 30.0 + 0.01 * resources


class Evaluations:
    """The results of every unit given to ``add``, in that order (``results``), each with its
    plan (resolved in this process, when the unit is added): the units of the first
    ``min_resources`` objects (None: ``MIN_RESOURCES``) evaluated here as they come, the rest
    by ``jobs`` processes (None: ``default_jobs()``)."""

    def __init__(
        self,
        planner: Planner,
        schemas: SchemaSet,
        sources: SourceFiles,
        jobs: int | None = None,
        min_resources: int | None = None,
    ) -> None:
        self._planner = planner
        self._schemas = schemas
        self._sources = sources
        self._jobs = default_jobs() if jobs is None else max(1, jobs)
        if not sys.platform.startswith("linux") or not hasattr(os, "fork"):
            self._jobs = 1
        self._min = MIN_RESOURCES if min_resources is None else min_resources
        self._units: list[tuple[Unit, Plan]] = []
        self._done: list[UnitResult] = []
        self._seen = 0
        """Objects of the units added so far."""
        self.forked = 0
        """Children the last ``results`` made (0: it evaluated here); for tests and bench."""

    def add(self, unit: Unit) -> None:
        """Take ``unit``: evaluated now (while kustomize renders the next roots) with one job
        and until the check has ``min_resources`` objects; from then on by children, when
        ``results`` is asked for. Units are evaluated here in order, and never one after a
        unit that was left to the children (so ``results``, should the children fail,
        evaluates the rest in order too)."""
        plan = self._planner.plan(unit.environment)  # any finding of the plan's is made here
        self._seen += len(unit.resources)
        if self._jobs == 1 or (not self._units and self._seen < self._min):
            self._done.append(evaluate_unit(unit, plan, self._schemas))
        else:
            self._units.append((unit, plan))

    def results(self) -> list[UnitResult]:
        """The result of every unit added, in the order they were added."""
        units, self._units = self._units, []
        self.forked, self._seen = 0, 0
        if units:  # left to children: the check has min_resources objects
            size = sum(len(u.resources) for u, _ in units)
            found = self._fan_out(units, min(self._jobs, len(units)), size)
            if found is None:
                found = [evaluate_unit(u, p, self._schemas) for u, p in units]
            self._done.extend(found)
        done, self._done = self._done, []
        return done

    def _fan_out(
        self, units: list[tuple[Unit, Plan]], count: int, size: int
    ) -> list[UnitResult] | None:
        """The units evaluated by ``count`` children, or None when one process must do it."""
        chunks = _split(units, count * CHUNKS_PER_JOB)
        if len(chunks) < 2:
            return None  # one run of units: a child would only add its fork to the time
        before = promql.usage()
        children: list[_Child] = []
        try:
            queue = _queue(len(chunks))
        except OSError:  # no pipe to be had (a files limit)
            return None
        try:
            for _ in range(min(count, len(chunks))):
                try:
                    children.append(self._fork(units, chunks, queue))
                except OSError:  # no process or pipe to be had (a pids or files limit)
                    return None
                self.forked += 1
            os.close(queue)
            queue = -1
            replies = _collect(children, time.monotonic() + deadline(size))
        finally:
            if queue >= 0:
                os.close(queue)
            for child in children:
                child.reap()
        if replies is None or not _within_budgets(before, [r.promql for r in replies]):
            return None
        results: list[UnitResult | None] = [None] * len(units)
        for reply in replies:
            for chunk, found in reply.results:
                if not 0 <= chunk < len(chunks) or len(found) != len(chunks[chunk]):
                    return None
                for index, result in zip(chunks[chunk], found, strict=True):
                    results[index] = result
        if any(r is None for r in results):
            return None  # a chunk no child sent back
        return [r for r in results if r is not None]

    def _fork(self, units: list[tuple[Unit, Plan]], chunks: list[list[int]], queue: int) -> _Child:
        parent = os.getpid()
        read_end, write_end = os.pipe()
        try:
            with warnings.catch_warnings():
                # Python 3.12+ warns about fork() beside other threads: the memo's writer
                # thread, which the child never uses
                warnings.simplefilter("ignore", DeprecationWarning)
                pid = os.fork()
        except OSError:
            os.close(read_end)
            os.close(write_end)
            raise
        if pid == 0:  # the child: evaluate, write, leave without running any cleanup
            code = 1
            try:
                for stopping in STOPPING_SIGNALS:
                    signal.signal(stopping, signal.SIG_DFL)
                _die_with(parent)
                _close_inherited(keep={write_end, queue})
                self._sources.close()  # a file the parent had not read: exit 1, below
                done = []
                for chunk in _taken(queue):
                    found = [evaluate_unit(*units[i], self._schemas) for i in chunks[chunk]]
                    done.append((chunk, found))
                reply = _Reply(done, promql.usage())
                _write_all(write_end, pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL))
                code = 0
            finally:
                os._exit(code)
        os.close(write_end)
        return _Child(pid, read_end)


#: The chunks of consecutive units per job: the children take them from one queue as they
#: finish the last, so a run of costly units (InferenceServices, many PromQL queries) does
#: not leave one child working alone at the end.
CHUNKS_PER_JOB = 8
_INDEX = struct.Struct("<I")


def _queue(count: int) -> int:
    """The read end of a pipe that holds the chunk numbers 0..count-1 (4 bytes each, written
    at once, the write end closed: a reader sees the end once they are all taken). Linux reads
    a pipe under its lock, so two children reading 4 bytes at a time never split a number."""
    read_end, write_end = os.pipe()
    try:
        _write_all(write_end, b"".join(_INDEX.pack(i) for i in range(count)))
    except OSError:
        os.close(read_end)
        raise
    return read_end


def _die_with(parent: int) -> None:
    """Have the kernel kill this child when the thread that forked it ends (``prctl``
    ``PR_SET_PDEATHSIG``, Linux): a parent killed outright (the OOM killer, SIGKILL) leaves no
    child working for nobody. Leave at once if the parent is already gone."""
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:
        os._exit(1)


def _close_inherited(keep: set[int]) -> None:
    """Close every descriptor but the standard streams and ``keep``: a child must not hold
    another child's pipe (its reader would wait for an end that never comes), kustomize's
    (a prefetch may still run), or the memo's files open."""
    import resource

    low = 3
    for fd in sorted(keep):
        os.closerange(low, fd)
        low = fd + 1
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    os.closerange(low, soft if 0 < soft < 1 << 20 else 1 << 16)


def _taken(queue: int) -> Iterator[int]:
    """The chunk numbers this child takes from ``queue``, until it is empty."""
    while True:
        data = os.read(queue, _INDEX.size)
        if len(data) < _INDEX.size:
            return
        yield _INDEX.unpack(data)[0]


@dataclass(frozen=True, slots=True)
class _Reply:
    """What one child sends back."""

    results: list[tuple[int, list[UnitResult]]]
    """(chunk number, the results of its units in order), for each chunk it took."""
    promql: promql.Usage


class _Child:
    """One forked child: its pid and the read end of its pipe."""

    def __init__(self, pid: int, fd: int) -> None:
        self.pid = pid
        self.fd = fd
        self.data = bytearray()
        self.reaped = False

    def reap(self) -> None:
        """Kill the child if it still runs, and wait for it (no zombie is left)."""
        if self.reaped:
            return
        self.reaped = True
        try:
            done, _ = os.waitpid(self.pid, os.WNOHANG)
            if done == 0:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass
        finally:
            os.close(self.fd)

    def status(self) -> int | None:
        """The child's exit code once it has ended (it is then reaped), else None."""
        try:
            done, status = os.waitpid(self.pid, 0)
        except ChildProcessError:
            return None
        self.reaped = True
        os.close(self.fd)
        return os.waitstatus_to_exitcode(status) if done else None


def _split(units: list[tuple[Unit, Plan]], count: int) -> list[list[int]]:
    """The indexes of ``units`` in at most ``count`` runs of consecutive units with about equal
    resource counts. Consecutive: the overlays of one model are neighbours, and what one
    child learnt from a base (its PromQL, its CEL outcomes, its effective pods) serves the
    next overlay of it in the same child."""
    weights = [len(unit.resources) + 1 for unit, _ in units]
    total = sum(weights)
    parts: list[list[int]] = [[]]
    done = 0
    for index, weight in enumerate(weights):
        if parts[-1] and len(parts) < count and done + weight / 2 > total * len(parts) / count:
            parts.append([])
        parts[-1].append(index)
        done += weight
    return parts


def _collect(children: list[_Child], until: float) -> list[_Reply] | None:
    """Every child's reply, in ``children``'s order, read as they come (so that no child
    blocks on a full pipe); None as soon as one fails, or when the deadline passes."""
    replies: dict[int, _Reply] = {}
    with selectors.DefaultSelector() as selector:
        for child in children:
            selector.register(child.fd, selectors.EVENT_READ, child)
        while len(replies) < len(children):
            left = until - time.monotonic()
            if left <= 0:
                return None
            for key, _ in selector.select(timeout=left):
                child = key.data
                chunk = os.read(child.fd, 1 << 20)
                if chunk:
                    child.data += chunk
                    continue
                selector.unregister(child.fd)
                reply = _reply_of(child)
                if reply is None:
                    return None  # the others are killed; the parent evaluates
                replies[child.pid] = reply
    return [replies[child.pid] for child in children]


def _reply_of(child: _Child) -> _Reply | None:
    """What ``child`` sent, once its pipe has ended: None unless it exited 0 and sent one."""
    if child.status() != 0:
        return None
    try:
        # written by this program's own child through a pipe no one else holds
        reply = pickle.loads(child.data)  # noqa: S301
    except Exception:  # a truncated or foreign payload: the parent evaluates alone
        return None
    return reply if isinstance(reply, _Reply) else None


def _within_budgets(before: promql.Usage, after: list[promql.Usage]) -> bool:
    """Whether one process, charging what every child charged, would have refused nothing."""
    if before.refused or any(u.refused for u in after):
        return False
    cost = before.cost + sum(u.cost - before.cost for u in after)
    children = before.children + sum(u.children - before.children for u in after)
    return cost <= promql.RUN_COST and children <= promql.MAX_CHILD_PARSES


def _write_all(fd: int, data: bytes) -> None:
    """``data`` to ``fd``, which is then closed."""
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
    finally:
        os.close(fd)
