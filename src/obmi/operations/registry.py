"""The operations registry. Every use case of OBMi is one function declared with

    @operation("indicator.write", resource=some_loader)
    def update_indicator(unit: Unit, code: str, ...) -> ...

and called as `ops.update_indicator(ctx, code, ...)` by the web pages, the API, the command
line and the tests alike. The registry, not the use case, owns:

1. the permission check — first, always: against the acting user and, for object-level rules,
   the resource the loader describes;
2. the unit of work — one transaction (reads get a plain connection);
3. for writes, the write pipeline (derive → disclosure → data version, obmi.operations.pipeline)
   in that same transaction, and the audit record(s), also in that transaction;
4. for refused or failed writes, an audit record written after the rollback;
5. `dry_run=True`: everything is done and checked, then rolled back.

Operations never call one another (that would nest transactions): shared logic lives in the
domain packages. The store refuses to be used outside an operation (obmi.store.database).
"""

from __future__ import annotations

import functools
import json
import logging
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Callable, Iterator, Literal, ParamSpec, TypeVar

from sqlalchemy import Connection

from obmi.auth import permissions
from obmi.auth.actor import Actor
from obmi.changes import ChangeSet
from obmi.context import Context
from obmi.errors import NotAllowed, NotVisible, ObmiError
from obmi.store.database import current_operation, operation_scope
from obmi.store.state import advance, record_changes
from obmi.store.tables import audit_event

log = logging.getLogger("obmi.operations")
P = ParamSpec("P")
R = TypeVar("R")
ResourceLoader = Callable[..., "permissions.Resource | None"]


@dataclass(frozen=True)
class Operation:
    name: str
    permission: str
    kind: Literal["read", "write"]
    summary: str
    module: str
    resource: ResourceLoader | None = None
    # Writes of published state advance the data version; sign-in bookkeeping does not.
    advances_version: bool = True
    # Every write leaves an audit record, except the bookkeeping of presenting a session or
    # token on each request (last-use times): sign-ins and sign-outs are audited themselves.
    audited: bool = True
    needs_schema: bool = True  # refuse to run on a database not migrated to this OBMi


REGISTRY: dict[str, Operation] = {}


@dataclass
class AuditEntry:
    resource_type: str
    resource_id: str
    before: Any = None
    after: Any = None
    message: str = ""


@dataclass
class Unit:
    """The unit of work of one operation call: its connection (begun lazily), what it changed,
    what it will audit."""

    ctx: Context
    operation: Operation
    dry_run: bool = False
    changes: ChangeSet = field(default_factory=ChangeSet)
    audits: list[AuditEntry] = field(default_factory=list)
    changed: bool = False  # something was settled by the pipeline
    touched: frozenset[tuple[str, str]] = frozenset()  # what the settled changes were about
    target: permissions.Resource | None = None  # what the permission check was about
    _conn: Connection | None = None
    _transaction: Any = None
    _rollback_callbacks: list[Callable[[BaseException | None], None]] = field(default_factory=list)

    @property
    def actor(self) -> Actor:
        return self.ctx.actor

    @property
    def settings(self) -> Any:
        return self.ctx.settings

    @property
    def conn(self) -> Connection:
        if self._conn is None:
            self._conn = self.ctx.db.engine.connect()
            if self.operation.kind == "write":
                self._transaction = self._conn.begin()
        return self._conn

    @contextmanager
    def autonomous(self) -> Iterator[Connection]:
        """A short transaction of its own, committed at once whatever happens to the unit: for
        provenance that must survive a rollback (an import run marked running, then failed)."""
        with self.ctx.db.engine.begin() as side:
            yield side

    def after_rollback(self, callback: Callable[[BaseException | None], None]) -> None:
        """`callback(exc)` runs after the unit rolled back (exc None: a dry run)."""
        self._rollback_callbacks.append(callback)

    def progress(self, phase: str, rows: int | None = None) -> None:
        if self.ctx.progress is not None:
            self.ctx.progress(phase, rows)

    def require(self, permission: str, resource: permissions.Resource | None = None) -> None:
        """A further check inside an operation, once its object is known (object-level rules)."""
        permissions.check(self.actor, permission, resource)

    def audit(self, resource_type: str, resource_id: object, *, before: Any = None, after: Any = None,
              message: str = "") -> None:
        self.audits.append(AuditEntry(resource_type, str(resource_id), before, after, message))

    def settle(self) -> int:
        """Run the write pipeline now for the changes so far (derive, disclosure); returns the
        number of derived values written. The registry settles whatever is left at the end."""
        from obmi.operations.pipeline import settle
        taken = self.changes.take()
        if not taken:
            return 0
        self.changed = True
        settled = settle(self.conn, taken, default_threshold=self.settings.default_threshold)
        self.touched |= settled.touched
        return settled.derived

    # --- the end of a unit ------------------------------------------------------------------

    def commit(self, result: Any) -> None:
        if self.operation.kind == "read":
            return
        self.settle()
        if self.dry_run:
            self._rollback(None)
            return
        if not self.audits and self.operation.audited:
            # Operations audit what they changed themselves; this is the floor. Only the kind of
            # result: a result may carry a secret (a new token, a session) that must not be logged.
            kind, key = self._failed_resource()
            self.audit(kind, key, after={"result": type(result).__name__})
        if self.changed and self.operation.advances_version:
            state = advance(self.conn)  # step 3 of the write pipeline: what caches and ETags key on
            record_changes(self.conn, state.version, self.touched)
        if self.audits:
            _write_audits(self.conn, self, "ok", self.audits)
        if self._transaction is not None:
            self._transaction.commit()

    def fail(self, exc: BaseException) -> None:
        self._rollback(exc)
        if self.operation.kind == "write" and self.operation.audited:
            outcome = ("refused" if isinstance(exc, (NotAllowed, NotVisible)) else "rejected" if isinstance(exc, ObmiError)
                       else "failed")
            try:
                with self.autonomous() as side:
                    _write_audits(side, self, outcome, [AuditEntry(*self._failed_resource(), message=str(exc)[:4000])])
            except Exception:  # noqa: BLE001 — never hide the original error behind an audit failure
                log.exception("could not write the audit record of a failed operation")

    def _failed_resource(self) -> tuple[str, str]:
        """(type, id) the audit record of the whole call is about."""
        if self.audits:
            return self.audits[0].resource_type, self.audits[0].resource_id
        if self.target is not None:
            return self.target.kind, "" if self.target.id is None else str(self.target.id)
        return self.operation.name, ""

    def _rollback(self, exc: BaseException | None) -> None:
        if self._transaction is not None and self._transaction.is_active:
            self._transaction.rollback()
        self.close()
        for callback in self._rollback_callbacks:
            callback(exc)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _json_safe(value: Any) -> Any:
    return json.loads(json.dumps(value, default=_default)) if value is not None else None


def _default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)


def _write_audits(conn: Connection, unit: Unit, outcome: str, entries: list[AuditEntry]) -> None:
    actor, ctx, now = unit.actor, unit.ctx, datetime.now(UTC)
    # Whose record it is: the actor's organisation, or — for the public (a failed sign-in, a
    # reset link) — that of the object acted on.
    organisation = actor.organisation or (unit.target.organisation if unit.target is not None else None)
    conn.execute(audit_event.insert(), [{
        "uuid": str(uuid.uuid4()), "at": now, "actor": actor.name[:100], "actor_id": actor.user_id,
        "organisation": organisation, "via": actor.via, "operation": unit.operation.name,
        "permission": unit.operation.permission, "resource_type": e.resource_type[:40],
        "resource_id": e.resource_id[:200], "outcome": outcome, "before": _json_safe(e.before),
        "after": _json_safe(e.after), "message": e.message, "request_id": ctx.request_id[:64],
        "source_address": ctx.source_address[:64]} for e in entries])


def operation(permission: str, *, resource: ResourceLoader | None = None, advances_version: bool = True,
              audited: bool = True, needs_schema: bool = True) -> Callable[[Callable[..., R]], Callable[..., R]]:
    """Declare a use case. Its first parameter is the Unit; callers pass a Context instead."""
    perm = permissions.permission(permission)

    def declare(function: Callable[..., R]) -> Callable[..., R]:
        summary = " ".join((function.__doc__ or "").strip().split("\n\n")[0].split())
        op = Operation(function.__name__, permission, perm.kind, summary,
                       function.__module__, resource, advances_version, audited, needs_schema)
        if op.name in REGISTRY:
            raise RuntimeError(f"operation {op.name} declared twice")
        REGISTRY[op.name] = op

        @functools.wraps(function)
        def call(ctx: Context, *args: Any, **kwargs: Any) -> R:
            return _run(op, function, ctx, args, kwargs)

        call.operation = op  # type: ignore[attr-defined]
        return call
    return declare


def _run(op: Operation, function: Callable[..., R], ctx: Context, args: tuple[Any, ...], kwargs: dict[str, Any]) -> R:
    if not isinstance(ctx, Context):
        raise TypeError(f"{op.name}: the first argument must be a Context, not {type(ctx).__name__}")
    if current_operation() is not None:
        raise RuntimeError(f"{op.name} called inside {current_operation()}: operations do not call each other")
    dry_run = bool(kwargs.pop("dry_run", False))
    with operation_scope(op.name):
        unit = Unit(ctx, op, dry_run=dry_run)
        try:
            if op.needs_schema:
                ctx.db.require_schema()
            if op.resource is not None and ctx.actor.is_anonymous:
                # The public is asked to sign in before anything is looked up: whether an object
                # exists is not the public's business either.
                permissions.check(ctx.actor, op.permission, None)
            unit.target = op.resource(unit, *args, **kwargs) if op.resource is not None else None
            permissions.check(ctx.actor, op.permission, unit.target)
            result = function(unit, *args, **kwargs)
            unit.commit(result)
            return result
        except BaseException as exc:
            unit.fail(exc)
            raise
        finally:
            unit.close()


def list_operations() -> list[Operation]:
    import obmi.operations  # noqa: F401 — every module registers its operations on import
    return sorted(REGISTRY.values(), key=lambda o: (o.module, o.name))
