"""Background jobs of the web interface: an upload is imported on a worker thread while the
browser polls its progress. A small in-process registry: one worker thread (imports run one
after another, as they would from the command line), a bounded queue and a bounded history.

Each job belongs to the user who started it: only they, or an instance administrator, may see
it (anyone else is told it does not exist, so job ids cannot be probed). Jobs live in memory:
a restart forgets them, but not what they did — every import leaves its run (provenance,
rejected rows) in the database, shown under /admin/imports.

The job itself is whatever the page hands in: a callable that receives a progress function and
returns the report (a JSON-able dict). What runs is an operation (`ops.import_statbel` …), with
the context of the request that started it: the same permission check, transaction, audit and
write pipeline as the command line."""

from __future__ import annotations

import logging
import queue
import secrets
import shutil
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from obmi.auth.actor import Actor
from obmi.errors import NotAuthenticated, NotFound, ObmiError, ValidationError
from obmi.timeutil import utcnow

log = logging.getLogger("obmi.web.jobs")

MAX_HISTORY = 200  # finished jobs kept (the oldest are forgotten first)
MAX_WAITING = 20  # jobs queued behind the running one; more are refused
Progress = Callable[[str, "int | None"], None]
Work = Callable[[Progress], dict]


@dataclass
class Job:
    id: str
    owner: str  # user name
    owner_id: int | None
    title: str  # what it does, for people (the file name)
    kind: str
    state: str = "queued"  # queued, running, done, failed
    phase: str = ""  # the operation's last reported phase (reading, deriving, …)
    rows: int | None = None
    created: datetime = field(default_factory=utcnow)
    started: datetime | None = None
    finished: datetime | None = None
    report: dict | None = None  # the import report (obmi.web.api_admin.report), when there is one
    error: str = ""  # what went wrong when there is no report (never a stack trace)
    _work: Work | None = field(default=None, repr=False)
    _cleanup: Path | None = field(default=None, repr=False)

    @property
    def finished_work(self) -> bool:
        return self.state in ("done", "failed")

    def progress(self, phase: str, rows: int | None = None) -> None:
        self.phase = phase
        if rows is not None:
            self.rows = rows

    def visible_to(self, actor: Actor) -> bool:
        if actor.is_admin:
            return True
        return not actor.is_anonymous and actor.user_id is not None and actor.user_id == self.owner_id


class JobRegistry:
    def __init__(self, *, history: int = MAX_HISTORY, waiting: int = MAX_WAITING):
        self.history, self.waiting = history, waiting
        self.jobs: OrderedDict[str, Job] = OrderedDict()
        self.lock = threading.Lock()
        self.queue: queue.Queue[Job | None] = queue.Queue()
        self.worker: threading.Thread | None = None

    # --- starting and seeing jobs -------------------------------------------------------------

    def submit(self, actor: Actor, *, title: str, kind: str, work: Work, cleanup: Path | None = None) -> Job:
        """Queue `work`; `cleanup` (a folder) is removed once the job is over, whatever happens."""
        if actor.is_anonymous:
            raise NotAuthenticated("sign in first")
        job = Job(secrets.token_urlsafe(12), actor.name, actor.user_id, title, kind, _work=work, _cleanup=cleanup)
        with self.lock:
            if sum(1 for j in self.jobs.values() if j.state == "queued") >= self.waiting:
                raise ValidationError(f"{self.waiting} imports are already waiting: try again when they are done",
                                      {"file": ["queue full"]})
            self.jobs[job.id] = job
            self._forget_old()
            self._ensure_worker()
        self.queue.put(job)
        return job

    def get(self, job_id: str, actor: Actor) -> Job:
        if actor.is_anonymous:
            raise NotAuthenticated("sign in first")
        with self.lock:
            job = self.jobs.get(job_id)
        if job is None or not job.visible_to(actor):
            raise NotFound(f"unknown job {job_id}")
        return job

    def position(self, job: Job) -> int:
        """How many jobs run or wait before this queued one."""
        with self.lock:
            ahead = 0
            for other in self.jobs.values():
                if other is job:
                    return ahead
                if other.state in ("queued", "running"):
                    ahead += 1
        return ahead

    def _forget_old(self) -> None:
        finished = [j.id for j in self.jobs.values() if j.finished_work]
        for job_id in finished[: max(0, len(self.jobs) - self.history)]:
            del self.jobs[job_id]

    # --- the worker ---------------------------------------------------------------------------

    def _ensure_worker(self) -> None:
        if self.worker is None or not self.worker.is_alive():
            self.worker = threading.Thread(target=self._run_forever, name="obmi-jobs", daemon=True)
            self.worker.start()

    def _run_forever(self) -> None:
        while True:
            job = self.queue.get()
            if job is None:
                return
            self._run(job)

    def _run(self, job: Job) -> None:
        job.state, job.started = "running", utcnow()
        try:
            assert job._work is not None
            job.report = job._work(job.progress)
            job.state = "failed" if job.report.get("status") == "failed" else "done"
        except Exception as exc:  # noqa: BLE001 — a job's failure is reported, never raised into the worker
            if isinstance(exc, ObmiError):
                job.error = str(exc.args[0]) if exc.args else str(exc)
            else:
                log.exception("background job failed", extra={"job": job.id, "kind": job.kind})
                job.error = f"internal error in job {job.id}: the administrators can find it in the log"
            job.state = "failed"
        finally:
            job.finished, job._work = utcnow(), None
            if job._cleanup is not None:
                shutil.rmtree(job._cleanup, ignore_errors=True)

    def stop(self, timeout: float = 10.0) -> None:
        """Let the running job finish, then stop the worker (tests, shutdown)."""
        if self.worker is not None and self.worker.is_alive():
            self.queue.put(None)
            self.worker.join(timeout)

    def wait(self, job_id: str, timeout: float = 60.0) -> Job:
        """Block until a job is over (tests and scripts; pages poll instead)."""
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                job = self.jobs[job_id]
            if job.finished_work or time.monotonic() > deadline:
                return job
            time.sleep(0.05)


_CREATE = threading.Lock()


def registry(app: Any) -> JobRegistry:
    """The app's job registry (one per app, made on first use)."""
    jobs = getattr(app.state, "jobs", None)
    if jobs is None:
        with _CREATE:
            jobs = getattr(app.state, "jobs", None)
            if jobs is None:
                jobs = app.state.jobs = JobRegistry()
    return jobs
