"""servegate.fanout: units evaluated by forked children give exactly what one process gives, in
unit order; a child that dies, hangs, reads a new file or could have changed the PromQL budget's
outcome leaves the evaluation to the parent, and no child outlives the call."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import fresh_promql, resources_of

from servegate import fanout, promql
from servegate.config import Config
from servegate.evaluate import evaluate_unit
from servegate.model import Unit, UnitResult
from servegate.plan import Operator, Planner
from servegate.schema.validate import SchemaSet
from servegate.sources import SourceFiles

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork: Linux only")

POD = """\
apiVersion: v1
kind: Pod
metadata: {{name: {name}, namespace: ml}}
spec:
  containers:
  - name: c
    image: registry.example.com/c@sha256:{digest}
    securityContext: {{privileged: {privileged}}}
---
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata: {{name: {name}, namespace: ml}}
spec:
  groups:
  - name: g
    rules:
    - alert: A
      expr: {expr}
"""


def _units(count: int = 6) -> list[Unit]:
    """``count`` units of a Pod and a PrometheusRule each: every other Pod privileged, every
    third query broken, each query distinct."""
    units = []
    for i in range(count):
        text = POD.format(
            name=f"m{i}",
            digest=f"{i:064x}",
            privileged=str(i % 2 == 0).lower(),
            expr=f"sum(rate(x{i}[5m]))" if i % 3 else f"sum(rate(x{i}[5m])",
        )
        unit = Unit(f"root:m{i}", f"m{i}", None, resources_of(text, f"m{i}/all.yaml"))
        unit.files = {f"m{i}/all.yaml"}
        units.append(unit)
    return units


@pytest.fixture(autouse=True)
def fresh() -> Iterator[None]:
    """Each test with its own PromQL budget and memo (they are per process, per run)."""
    with fresh_promql():
        yield


@pytest.fixture
def world(tmp_path: Path) -> tuple[Planner, SchemaSet, SourceFiles]:
    planner = Planner(tmp_path, Operator(), Config())
    return planner, SchemaSet((1, 37), []), SourceFiles(tmp_path)


def _evaluate(
    world: tuple[Planner, SchemaSet, SourceFiles], units: list[Unit], jobs: int
) -> tuple[list[UnitResult], int]:
    evaluations = fanout.Evaluations(*world, jobs=jobs, min_resources=0)
    for unit in units:
        evaluations.add(unit)
    return evaluations.results(), evaluations.forked


def _shown(results: list[UnitResult]) -> list[Any]:
    return [
        (r.resources, r.files, [(f.rule, f.file, f.line, f.message, f.unit) for f in r.findings])
        for r in results
    ]


def _here(
    monkeypatch: pytest.MonkeyPatch, in_child: Callable[[Unit], None] | None = None
) -> list[str]:
    """The units evaluated in this process (a child's evaluations are not seen here); in a
    child, ``in_child(unit)`` runs before each unit is evaluated (to die, hang, look)."""
    seen: list[str] = []
    parent = os.getpid()

    def counted(unit: Unit, *args: Any) -> UnitResult:
        if os.getpid() == parent:
            seen.append(unit.id)
        elif in_child is not None:
            in_child(unit)
        return evaluate_unit(unit, *args)

    monkeypatch.setattr(fanout, "evaluate_unit", counted)
    return seen


def _no_child_left() -> None:
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)


def test_children_give_what_one_process_gives(
    world: tuple[Planner, SchemaSet, SourceFiles], monkeypatch: pytest.MonkeyPatch
) -> None:
    units = _units()
    alone, forked = _evaluate(world, units, jobs=1)
    assert forked == 0
    rules = {f.rule for r in alone for f in r.findings}
    assert {"pss.privileged", "monitoring.promql"} <= rules  # the fixtures find something
    here = _here(monkeypatch)
    for jobs in (2, 3):
        together, forked = _evaluate(world, units, jobs=jobs)
        assert forked == jobs
        assert _shown(together) == _shown(alone)
    assert here == []  # the children did the work
    _no_child_left()


def test_a_small_check_stays_in_one_process(world: tuple[Planner, SchemaSet, SourceFiles]) -> None:
    evaluations = fanout.Evaluations(*world, jobs=2)  # MIN_RESOURCES: far more than 12
    for unit in _units():
        evaluations.add(unit)
    assert len(evaluations.results()) == 6 and evaluations.forked == 0


def test_a_child_that_dies_leaves_the_work_to_the_parent(
    world: tuple[Planner, SchemaSet, SourceFiles], monkeypatch: pytest.MonkeyPatch
) -> None:
    units = _units()
    alone, _ = _evaluate(world, units, jobs=1)

    def dying(unit: Unit) -> None:
        if unit.id == "root:m4":
            os._exit(3)

    here = _here(monkeypatch, dying)
    together, forked = _evaluate(world, units, jobs=2)
    assert forked == 2
    assert _shown(together) == _shown(alone)
    assert here == [u.id for u in units]  # every unit again, in order, here
    _no_child_left()


def test_a_stuck_child_is_killed_at_the_deadline(
    world: tuple[Planner, SchemaSet, SourceFiles], monkeypatch: pytest.MonkeyPatch
) -> None:
    units = _units()
    alone, _ = _evaluate(world, units, jobs=1)
    _here(monkeypatch, lambda unit: time.sleep(120))
    monkeypatch.setattr(fanout, "deadline", lambda resources: 1.0)
    started = time.monotonic()
    together, forked = _evaluate(world, units, jobs=2)
    assert time.monotonic() - started < 30
    assert forked == 2 and _shown(together) == _shown(alone)
    _no_child_left()


def test_a_promql_budget_one_process_would_spend_is_not_split(
    world: tuple[Planner, SchemaSet, SourceFiles], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Six distinct queries of cost 64: one process may charge five. Each of two children
    charges three and refuses nothing; the parent sees that together they charged six."""
    monkeypatch.setattr(promql, "RUN_COST", 5 * 64)
    units = _units()
    alone, _ = _evaluate(world, units, jobs=1)
    refused = [f for r in alone for f in r.findings if "PromQL not parsed" in f.message]
    assert [f.unit for f in refused] == ["root:m5"]  # the sixth query, in unit order
    for memo in (promql._problem, promql._parse_here):
        memo.cache_clear()
    promql._cost, promql._refused = 0, False
    here = _here(monkeypatch)
    together, forked = _evaluate(world, units, jobs=2)
    assert forked == 2
    assert _shown(together) == _shown(alone)
    assert len(here) == len(units)  # evaluated again here, after the children


def test_a_child_that_reads_a_new_file_leaves_the_work_to_the_parent(
    world: tuple[Planner, SchemaSet, SourceFiles], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run's YAML budget and the report's file count belong to the parent."""
    _, _, sources = world
    (sources.root / "extra.yaml").write_text("a: 1\n", encoding="utf-8")
    units = _units()
    real = evaluate_unit

    def reading(unit: Unit, *args: Any) -> UnitResult:
        sources.load("extra.yaml")
        return real(unit, *args)

    monkeypatch.setattr(fanout, "evaluate_unit", reading)
    _, forked = _evaluate(world, units, jobs=2)
    assert forked == 2
    assert sources.loaded("extra.yaml")  # only the parent's own evaluation loads it here


def test_units_split_in_consecutive_runs_of_about_equal_size() -> None:
    sizes = [5, 1, 1, 1, 1, 1, 10, 1]  # weights (resources + 1): 6 2 2 2 2 2 11 2, 29 in all
    config_map = resources_of("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")
    units: list[Any] = [
        (Unit(f"u{i}", "", None, config_map * n), None) for i, n in enumerate(sizes)
    ]
    assert fanout._split(units, 2) == [[0, 1, 2, 3, 4], [5, 6, 7]]  # 14 and 15
    assert fanout._split(units, 1) == [list(range(8))]
    assert [i for part in fanout._split(units, 5) for i in part] == list(range(8))
    assert len(fanout._split(units[:2], 5)) == 2


def test_no_fork_to_be_had_leaves_the_work_to_the_parent(
    world: tuple[Planner, SchemaSet, SourceFiles], monkeypatch: pytest.MonkeyPatch
) -> None:
    units = _units()
    alone, _ = _evaluate(world, units, jobs=1)
    real = os.fork
    made: list[int] = []

    def second_fails() -> int:
        if made:
            raise BlockingIOError(11, "Resource temporarily unavailable")
        pid = real()
        if pid:
            made.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", second_fails)
    together, forked = _evaluate(world, units, jobs=2)
    assert forked == 1 and _shown(together) == _shown(alone)
    _no_child_left()


@pytest.mark.parametrize(
    ("files", "cpus"),
    [
        ({"cpu.max": "max 100000\n"}, None),
        ({"cpu.max": "150000 100000\n"}, 1),
        ({"cpu.max": "400000 100000\n"}, 4),
        ({"cpu.max": "50000 100000\n"}, 1),
        ({"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, None),
        ({"cpu/cpu.cfs_quota_us": "200000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 2),
        ({"cpu.max": "garbage\n"}, None),
        ({}, None),
    ],
)
def test_a_cgroup_cpu_quota_bounds_the_jobs(
    tmp_path: Path, files: dict[str, str], cpus: int | None
) -> None:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="ascii")
    assert fanout.cgroup_cpus(str(tmp_path)) == cpus


def test_one_unit_is_not_sent_to_a_child(world: tuple[Planner, SchemaSet, SourceFiles]) -> None:
    results, forked = _evaluate(world, _units(1), jobs=2)
    assert len(results) == 1 and forked == 0


def test_a_child_holds_no_descriptor_of_the_parent(
    world: tuple[Planner, SchemaSet, SourceFiles], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pipe the parent has open (kustomize's output, another child's results) is closed in
    every child: its reader sees its end when the parent's writer closes it."""
    read_end, write_end = os.pipe()

    def checking(unit: Unit) -> None:
        for fd in (read_end, write_end):
            with pytest.raises(OSError):
                os.fstat(fd)

    here = _here(monkeypatch, checking)
    try:
        _, forked = _evaluate(world, _units(), jobs=2)
    finally:
        os.close(read_end)
        os.close(write_end)
    assert forked == 2 and here == []  # no child failed the check


def test_a_check_is_evaluated_here_until_it_is_large(
    world: tuple[Planner, SchemaSet, SourceFiles], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Units are evaluated as they come (beside kustomize) until the check holds
    min_resources objects; the rest go to children."""
    units = _units()  # 2 objects each
    alone, _ = _evaluate(world, units, jobs=1)
    here = _here(monkeypatch)
    evaluations = fanout.Evaluations(*world, jobs=2, min_resources=5)
    for unit in units:
        evaluations.add(unit)
    assert here == ["root:m0", "root:m1"]  # 2 and 4 objects: under 5
    together = evaluations.results()
    assert evaluations.forked == 2 and here == ["root:m0", "root:m1"]
    assert _shown(together) == _shown(alone)


def test_one_failed_child_ends_the_wait_for_the_others(
    world: tuple[Planner, SchemaSet, SourceFiles], monkeypatch: pytest.MonkeyPatch
) -> None:
    units = _units()
    alone, _ = _evaluate(world, units, jobs=1)

    def one_dies_one_hangs(unit: Unit) -> None:
        if unit.id == "root:m0":
            os._exit(3)
        time.sleep(120)

    _here(monkeypatch, one_dies_one_hangs)
    started = time.monotonic()
    together, forked = _evaluate(world, units, jobs=2)
    assert time.monotonic() - started < 20  # not the 30 s deadline
    assert forked == 2 and _shown(together) == _shown(alone)
    _no_child_left()


STUCK_PARENT = """\
import os, sys, time
from pathlib import Path
sys.path[:0] = [sys.argv[2]]
import test_fanout
from servegate import fanout
from servegate.config import Config
from servegate.plan import Operator, Planner
from servegate.schema.validate import SchemaSet
from servegate.sources import SourceFiles

def stuck(unit, *args):
    os.write(1, b"%d\\n" % os.getpid())  # one write: two children never interleave
    time.sleep(120)

fanout.evaluate_unit = stuck
root = Path(sys.argv[1])
world = (Planner(root, Operator(), Config()), SchemaSet((1, 37), []), SourceFiles(root))
evaluations = fanout.Evaluations(*world, jobs=2, min_resources=0)
for unit in test_fanout._units():
    evaluations.add(unit)
evaluations.results()
"""


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting for a reaper does not)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    except OSError:
        return False
    return "\nState:\tZ" not in status


def test_children_die_with_their_parent(tmp_path: Path) -> None:
    """A parent killed outright (the OOM killer) leaves no child evaluating for nobody."""
    import signal
    import subprocess

    tests = str(Path(__file__).parent)
    parent = subprocess.Popen(
        [sys.executable, "-c", STUCK_PARENT, str(tmp_path), tests],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(tests).parent)},
    )
    assert parent.stdout is not None
    try:
        with parent.stdout:
            children = [int(parent.stdout.readline()) for _ in range(2)]
            assert all(_alive(pid) for pid in children)
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    until = time.monotonic() + 10
    while any(_alive(pid) for pid in children) and time.monotonic() < until:
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in children)
