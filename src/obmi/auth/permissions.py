"""Every permission of OBMi, named per action and resource, with the small rule that grants it.
This module is the one place to read who may do what; operations declare which permission they
need, and `check()` applies it before the operation does anything else.

A rule is `rule(actor, resource) -> bool`. `resource` describes the object acted on (its
organisation, its owner) for object-level rules, or is None for actions on no particular object.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Literal

from obmi.auth.actor import Actor
from obmi.auth.roles import Role
from obmi.errors import NotAllowed, NotAuthenticated, NotVisible


@dataclass(frozen=True)
class Resource:
    kind: str  # "indicator", "user", "import_run", "token", "organisation", …
    id: str | int | None = None  # None: a new object, or the kind as a whole
    organisation: str | None = None  # organisation code; None: shared by the whole instance
    owner: str | None = None  # user name of the owner (object-level rules)
    # Whether other organisations may know the object exists: a public indicator of another
    # organisation is visible (refusing to edit it is a 403); another organisation's user or
    # import run is not (a 404, so ids cannot be probed).
    visible_across_organisations: bool = False
    admin_only: bool = False  # e.g. an instance administrator's account: only administrators act on it

    @property
    def label(self) -> str:
        return f"{self.kind} {self.id}" if self.id is not None else self.kind


Rule = Callable[[Actor, Resource | None], bool]


# --- the rules ------------------------------------------------------------------------------

def anyone(actor: Actor, resource: Resource | None) -> bool:
    """anyone, the anonymous public included"""
    return True


def signed_in(actor: Actor, resource: Resource | None) -> bool:
    """any signed-in user or token"""
    return not actor.is_anonymous


def administrator(actor: Actor, resource: Resource | None) -> bool:
    """instance administrators"""
    return actor.is_admin


def system_only(actor: Actor, resource: Resource | None) -> bool:
    """OBMi itself (resolving who the command line acts as)"""
    return actor.via == "system"


def same_organisation(actor: Actor, resource: Resource | None) -> bool:
    return resource is None or resource.organisation is None or resource.organisation == actor.organisation


def organisation_role(*roles: Role) -> Rule:
    """Administrators, or one of `roles` within the resource's own organisation."""
    def rule(actor: Actor, resource: Resource | None) -> bool:
        return actor.is_admin or (actor.has(*roles) and same_organisation(actor, resource))
    rule.__doc__ = f"administrators, or {' / '.join(roles)} of the organisation"
    return rule


def maintains_shared_data(actor: Actor, resource: Resource | None) -> bool:
    """administrators, and org_admin / coordinator of the host organisation

    Geography, Statbel data and shared indicators belong to the whole instance; the host is the
    organisation (the city) that runs the installation."""
    return actor.is_admin or (actor.host_organisation and actor.has(Role.ORG_ADMIN, Role.COORDINATOR))


def writes_indicator(actor: Actor, resource: Resource | None) -> bool:
    """administrators; org_admin / coordinator of its organisation; the editor who owns it

    Shared indicators: as maintains_shared_data. A new indicator: administrators, org_admin and
    coordinators of the organisation it is for."""
    if actor.is_admin:
        return True
    if resource is None or resource.organisation is None:
        return maintains_shared_data(actor, resource)
    if resource.organisation != actor.organisation:
        return False
    if actor.has(Role.ORG_ADMIN, Role.COORDINATOR):
        return True
    return actor.has(Role.EDITOR) and resource.id is not None and resource.owner == actor.name


def organisation_member(actor: Actor, resource: Resource | None) -> bool:
    """administrators; any signed-in user of the organisation"""
    if actor.is_admin:
        return True
    if actor.is_anonymous or actor.organisation is None:
        return False
    return resource is None or resource.organisation in (None, actor.organisation)


def reports_on_item(actor: Actor, resource: Resource | None) -> bool:
    """administrators; org_admin / coordinator of its organisation; the item's owner

    A plan item (action, project, …) is reported on by the person named as its owner."""
    if actor.is_admin:
        return True
    if resource is None or resource.organisation != actor.organisation or actor.is_anonymous:
        return False
    return actor.has(Role.ORG_ADMIN, Role.COORDINATOR) or (resource.owner is not None and resource.owner == actor.name)


def manages_users(actor: Actor, resource: Resource | None) -> bool:
    """administrators; org_admin for the users of their own organisation

    Never for an instance administrator's account."""
    if actor.is_admin:
        return True
    if not actor.has(Role.ORG_ADMIN):
        return False
    return resource is None or (resource.organisation == actor.organisation and not resource.admin_only)


# --- the permissions ------------------------------------------------------------------------

@dataclass(frozen=True)
class Permission:
    name: str
    rule: Rule
    kind: Literal["read", "write"]
    description: str


def _p(name: str, rule: Rule, kind: Literal["read", "write"], description: str) -> Permission:
    return Permission(name, rule, kind, description)


_STAFF = (Role.ORG_ADMIN, Role.COORDINATOR)
_DATA_STAFF = (Role.ORG_ADMIN, Role.COORDINATOR, Role.EDITOR)
_ANALYSTS = (Role.ORG_ADMIN, Role.COORDINATOR, Role.ANALYST)

PERMISSIONS: dict[str, Permission] = {p.name: p for p in (
    _p("statistics.read", anyone, "read", "Read published statistics (what one may see: see `sees_indicator`)."),
    _p("catalogue.read", anyone, "read", "Read indicator definitions one may see."),
    _p("geography.read", anyone, "read", "Read levels, areas and their geometry."),
    _p("content.read", anyone, "read", "Read dashboards and stories."),
    _p("system.health", anyone, "read", "Ask whether the service is up."),
    _p("auth.login", anyone, "write", "Sign in with a password, a single sign-on answer or a reset link."),
    _p("auth.session", anyone, "write", "Present a session cookie or an API token (records its last use)."),
    _p("auth.identify", system_only, "read", "Find the user the command line acts as."),
    _p("auth.logout", signed_in, "write", "End one's own session."),
    _p("auth.password.change", signed_in, "write", "Change one's own password."),
    _p("system.status", administrator, "read", "See the database and schema state."),
    _p("system.upgrade", administrator, "write", "Create or migrate the database schema."),
    _p("system.backup", administrator, "write", "Write a backup file of the whole installation (audited)."),
    _p("system.restore", administrator, "write", "Replace everything by a backup."),
    _p("data.derive", administrator, "write", "Recompute every derived value and disclosure decision."),
    _p("geography.import", maintains_shared_data, "write", "Import area levels, hierarchy and geometry."),
    _p("shared_data.import", maintains_shared_data, "write", "Import Statbel open data (shared indicators)."),
    _p("observations.import", organisation_role(*_DATA_STAFF), "write",
       "Import observations (each indicator also needs indicator.write)."),
    _p("catalogue.import", organisation_role(*_DATA_STAFF), "write",
       "Import indicator definitions (each indicator also needs indicator.write)."),
    _p("indicator.write", writes_indicator, "write", "Change one indicator's definition or data."),
    _p("imports.read", organisation_role(*_ANALYSTS), "read", "See import runs and their rejected rows."),
    _p("imports.cleanup", administrator, "write",
       "Mark import runs whose process is gone (killed, crashed) as interrupted."),
    _p("reports.export", organisation_role(*_ANALYSTS), "read", "Write report files (PDF fact sheets) on this machine."),
    _p("warehouse.export", organisation_role(*_ANALYSTS, Role.EDITOR), "write",
       "Write the warehouse (star schema as Parquet) on this machine: audience public, or internal (what the "
       "actor sees of the organisation). Audited."),
    _p("users.read", manages_users, "read", "List users and their roles."),
    _p("users.manage", manages_users, "write", "Add users, change roles and groups, disable, reset passwords."),
    _p("organisations.read", signed_in, "read", "See organisations (one's own; administrators: all)."),
    _p("organisations.manage", administrator, "write", "Add and change organisations."),
    _p("tokens.read", organisation_role(Role.ORG_ADMIN), "read", "List API tokens (never their secrets)."),
    _p("tokens.manage", organisation_role(Role.ORG_ADMIN), "write", "Create and revoke API tokens."),
    _p("audit.read", organisation_role(Role.ORG_ADMIN), "read", "Read and export the audit log."),
    _p("plans.read", organisation_member, "read", "See the organisation's plans, items, status updates and KPIs."),
    _p("plans.public.read", anyone, "read", "See the published items of a plan (approved status and KPIs only)."),
    _p("plans.import", organisation_role(*_STAFF), "write", "Import a plan or an amended plan (a new plan version)."),
    _p("plans.manage", organisation_role(*_STAFF), "write",
       "Configure follow-up (periods, roll-up, reminders) and edit items, KPIs and milestones."),
    _p("status.report", reports_on_item, "write",
       "Draft, submit or confirm (geen wijziging) status updates, measure KPIs, update milestones."),
    _p("status.bulk", organisation_member, "write",
       "Upload a filled-in status sheet (each row also needs status.report on its item)."),
    _p("status.approve", organisation_role(*_STAFF), "write", "Approve or return submitted status updates."),
    _p("plans.remind", organisation_role(*_STAFF), "write", "Send the reminder digests of due and overdue updates."),
    _p("signals.evaluate", organisation_role(*_STAFF), "write",
       "Evaluate the early-warning rules over a plan: signals raised, brought up to date and resolved."),
    _p("signals.acknowledge", reports_on_item, "write",
       "Acknowledge an open early-warning signal with a comment (its owner, or a coordinator)."),
    _p("signals.configure", organisation_role(Role.ORG_ADMIN, Role.COORDINATOR), "write",
       "Enable, disable and tune the parameters of the organisation's early-warning rules."),
    _p("reports.read", organisation_member, "read",
       "Download the opvolgingsrapportering and college reports of the organisation's plans (approved texts)."),
    _p("reports.write", organisation_role(*_DATA_STAFF), "write",
       "Draft, add and submit the text sections of the follow-up and college reports."),
    _p("reports.approve", organisation_role(*_STAFF), "write",
       "Approve, return or reopen the text sections of the follow-up and college reports."),
    _p("finance.import", organisation_role(*_STAFF), "write",
       "Import ramingen and realisaties from a finance-package export into a plan."),
)}


def permission(name: str) -> Permission:
    try:
        return PERMISSIONS[name]
    except KeyError:
        raise KeyError(f"undeclared permission {name!r}") from None


def allowed(actor: Actor, name: str, resource: Resource | None = None) -> bool:
    perm = permission(name)
    if perm.kind == "write" and actor.scope == "read":
        return False
    return perm.rule(actor, resource)


def check(actor: Actor, name: str, resource: Resource | None = None) -> None:
    """Refuse unless `actor` holds permission `name` on `resource`: 404 when the resource belongs
    to another organisation that the actor may not even know of, 401 for the anonymous public,
    403 otherwise."""
    perm = permission(name)
    if allowed(actor, name, resource):
        return
    if (resource is not None and resource.organisation is not None and not actor.is_admin
            and resource.organisation != actor.organisation and not resource.visible_across_organisations):
        raise NotVisible(f"unknown {resource.label}")
    if actor.is_anonymous:
        raise NotAuthenticated(f"sign in first: {perm.description[0].lower()}{perm.description[1:]}")
    if perm.kind == "write" and actor.scope == "read":
        raise NotAllowed(f"this token may only read ({name} needs a token with scope write)")
    what = f" on {resource.label}" if resource is not None else ""
    raise NotAllowed(f"{actor.label} may not do this: {name}{what} ({perm.rule.__doc__ or perm.rule.__name__})"
                     .replace("\n", " ").replace("    ", ""))


# --- who sees which statistics --------------------------------------------------------------

@dataclass(frozen=True)
class Access:
    """Who may see an indicator: `public`, the `analysts` of its organisation, or named `groups`
    (plus its analysts). `public_from_level`: below this area level only the privileged see it."""
    organisation: str | None = None
    owner: str | None = None
    access: Literal["public", "analysts", "groups"] = "public"
    groups: tuple[str, ...] = ()
    public_from_level: str | None = None


ACCESS_LEVELS = ("public", "analysts", "groups")


def privileged_for(actor: Actor, access: Access) -> bool:
    """Sees the indicator whatever its access, at every level: administrators; analysts,
    coordinators and organisation administrators of its organisation (any organisation for a
    shared indicator); its owner."""
    if actor.is_admin:
        return True
    if access.owner is not None and access.owner == actor.name:
        return True
    if access.organisation is not None and access.organisation != actor.organisation:
        return False
    return actor.has(*_ANALYSTS)


def sees_indicator(actor: Actor, access: Access) -> bool:
    if access.access == "public" or privileged_for(actor, access):
        return True
    if access.access == "groups" and actor.organisation is not None:
        same = access.organisation is None or access.organisation == actor.organisation
        return same and bool(actor.groups & set(access.groups))
    return False


def sees_level(actor: Actor, access: Access, level_order: int, public_from_order: int | None) -> bool:
    """`level_order`: the level's sort order (fine levels small); `public_from_order`: that of
    `access.public_from_level` (None: no lower bound)."""
    if public_from_order is None or level_order >= public_from_order:
        return True
    return privileged_for(actor, access)


def describe() -> Iterable[tuple[str, str, str]]:
    """(permission, read/write, who) for the documentation."""
    for perm in PERMISSIONS.values():
        who = (perm.rule.__doc__ or perm.rule.__name__).strip().splitlines()[0]
        yield perm.name, perm.kind, who
