"""Assignment rules: who gets a new lead.

An organization orders its rules by priority (lower first). A new lead from a source goes to
the first *active* rule whose `sources` include it (an empty list means every source) and that
can name someone:

- `round_robin` deals leads in turn to the rule's active members, in id order, starting after
  the member who got the last one (`last_assigned_user_id`); a deactivated member is skipped
  and the turn passes to the next, so the load stays even;
- `fixed` gives every lead to `fixed_user`, unless that user is deactivated: then the rule is
  passed over like a rule with no active member, and the next one decides.

Concurrency: the chosen round-robin rule's row is locked (`select_for_update`) while its
position is read and advanced, so two leads created at the same time never get the same "next"
member; each call locks one row only, so two calls cannot deadlock on each other. Imports take
a whole batch of turns in one lock (`assignees_pick`).

Who may manage rules: management and sales managers (with `can_edit_leads`); every member who
may view leads can read them (reps see who gets what, read-only).
"""

from django.db import transaction

from accounts.models import User
from accounts.selectors import user_list
from leadnexus.core.events import publish
from leadnexus.core.exceptions import ValidationFailed
from leadnexus.core.ids import is_db_id
from leads.models import AssignmentRule, Lead
from leads.policy import require_assignment_rule_manager
from leads.selectors import assignment_rule_get

# The sources a rule may name: where new leads of the organization come from (vendor
# inventory, `listing`, is never assigned).
RULE_SOURCES = (
    Lead.Source.MANUAL,
    Lead.Source.IMPORT,
    Lead.Source.FORM,
    Lead.Source.MARKETPLACE,
    Lead.Source.API,
)

# --- Picking an assignee ------------------------------------------------------------------


def _applies(rule: AssignmentRule, source: str) -> bool:
    return not rule.sources or source in rule.sources


def _active_members(rule: AssignmentRule) -> list[int]:
    return list(
        rule.members.filter(is_active=True, organization_id=rule.organization_id)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _deal(members: list[int], last: int | None, count: int) -> tuple[list[int], int]:
    """`count` turns over `members` (sorted ids), starting after `last`; the ids dealt and the
    new position. A `last` no longer among them (deactivated, removed) resumes at the next id."""
    start = next((i for i, pk in enumerate(members) if last is None or pk > last), 0)
    dealt = [members[(start + n) % len(members)] for n in range(count)]
    return dealt, dealt[-1]


def assignees_pick(*, organization_id: int, source: str, count: int) -> list[User | None]:
    """The assignees of `count` new leads from `source`, in order, taking `count` turns of the
    round-robin under one lock (an import's batch). None for each when no rule applies."""
    if count <= 0:
        return []
    with transaction.atomic():
        rules = AssignmentRule.objects.filter(organization_id=organization_id, is_active=True).select_related(
            "fixed_user"
        )
        for rule in rules:
            if not _applies(rule, source):
                continue
            if rule.mode == AssignmentRule.Mode.FIXED:
                user = rule.fixed_user
                if user is not None and user.is_active and user.organization_id == organization_id:
                    return [user] * count
                continue
            # Lock first, then read members and position, so the turn is taken once.
            locked = AssignmentRule.objects.select_for_update().filter(pk=rule.pk, is_active=True).first()
            if locked is None:
                continue
            members = _active_members(locked)
            if not members:
                continue
            dealt, last = _deal(members, locked.last_assigned_user_id, count)
            AssignmentRule.objects.filter(pk=locked.pk).update(last_assigned_user_id=last)
            users = User.objects.in_bulk(set(dealt))
            return [users[pk] for pk in dealt]
    return [None] * count


def assignee_pick(*, organization_id: int, source: str) -> User | None:
    """The member the organization's assignment rules give a new lead from `source` to."""
    return assignees_pick(organization_id=organization_id, source=source, count=1)[0]


# --- Reads --------------------------------------------------------------------------------


# --- Writes -------------------------------------------------------------------------------

_FIELDS = ("name", "is_active", "priority", "sources", "mode", "member_ids", "fixed_user_id")


def _members(actor: User, ids) -> list[User]:
    ids = list(dict.fromkeys(ids))
    if not all(is_db_id(pk) for pk in ids):
        raise ValidationFailed("Unknown member.", details={"members": ["Not a member of your organization."]})
    found = {member.pk: member for member in user_list(user=actor).filter(pk__in=ids)}
    missing = [pk for pk in ids if pk not in found]
    if missing:
        raise ValidationFailed(
            "Some members are not in your organization.",
            details={"members": [f"Not a member of your organization: {pk}." for pk in missing]},
        )
    return [found[pk] for pk in ids]


def _fixed_user(actor: User, user_id: int | None) -> User | None:
    if user_id is None:
        return None
    member = user_list(user=actor).filter(pk=user_id).first() if is_db_id(user_id) else None
    if member is None:
        raise ValidationFailed("Unknown member.", details={"fixed_user": ["Not a member of your organization."]})
    return member


def _check(*, name: str, sources: list, mode: str, members: list[User], fixed_user: User | None) -> None:
    problems: dict[str, list[str]] = {}
    if not name.strip():
        problems["name"] = ["Give the rule a name."]
    unknown = [source for source in sources if source not in RULE_SOURCES]
    if unknown:
        known = ", ".join(RULE_SOURCES)
        problems["sources"] = [f"Not a lead source: {', '.join(map(str, unknown))}. Choose from {known}."]
    if mode not in AssignmentRule.Mode.values:
        problems["mode"] = ["Choose round_robin or fixed."]
    elif mode == AssignmentRule.Mode.FIXED and fixed_user is None:
        problems["fixed_user"] = ["A fixed rule needs the member who gets the leads."]
    elif mode == AssignmentRule.Mode.ROUND_ROBIN and not members:
        problems["members"] = ["A round-robin rule needs at least one member."]
    if problems:
        raise ValidationFailed("The assignment rule is not valid.", details=problems)


def _snapshot(rule: AssignmentRule, member_ids: list[int]) -> dict:
    return {
        "name": rule.name,
        "is_active": rule.is_active,
        "priority": rule.priority,
        "sources": list(rule.sources),
        "mode": rule.mode,
        "members": sorted(member_ids),
        "fixed_user": rule.fixed_user_id,
    }


def assignment_rule_create(
    *,
    actor: User,
    name: str,
    mode: str = AssignmentRule.Mode.ROUND_ROBIN,
    member_ids: list[int] | None = None,
    fixed_user_id: int | None = None,
    sources: list[str] | None = None,
    priority: int | None = None,
    is_active: bool = True,
) -> AssignmentRule:
    """A new rule; without a priority it goes last."""
    require_assignment_rule_manager(actor)
    sources = list(dict.fromkeys(sources or []))
    members = _members(actor, member_ids or [])
    fixed_user = _fixed_user(actor, fixed_user_id)
    _check(name=name, sources=sources, mode=mode, members=members, fixed_user=fixed_user)
    with transaction.atomic():
        if priority is None:
            last = (
                AssignmentRule.objects.filter(organization_id=actor.organization_id)
                .order_by("-priority")
                .values_list("priority", flat=True)
                .first()
            )
            priority = min((last or 0) + 10, 32767)
        rule = AssignmentRule.objects.create(
            organization_id=actor.organization_id,
            name=name.strip(),
            is_active=is_active,
            priority=priority,
            sources=sources,
            mode=mode,
            fixed_user=fixed_user if mode == AssignmentRule.Mode.FIXED else None,
        )
        rule.members.set(members)
        publish(
            "leads.assignment_rule.created",
            actor=actor,
            org=actor.organization_id,
            subject=rule,
            data=_snapshot(rule, [m.pk for m in members]),
        )
    return assignment_rule_get(user=actor, rule_id=rule.pk)


def assignment_rule_update(*, actor: User, rule_id: int, changes: dict) -> AssignmentRule:
    """Change the fields given in `changes` (names of `assignment_rule_create`'s arguments)."""
    require_assignment_rule_manager(actor)
    unknown = set(changes) - set(_FIELDS)
    if unknown:
        raise ValidationFailed("Unknown fields.", details={name: ["Not a field of a rule."] for name in unknown})
    with transaction.atomic():
        rule = assignment_rule_get(user=actor, rule_id=rule_id)
        rule = AssignmentRule.objects.select_for_update().get(pk=rule.pk)
        current_members = list(rule.members.order_by("pk"))
        before = _snapshot(rule, [m.pk for m in current_members])
        members = _members(actor, changes["member_ids"]) if "member_ids" in changes else current_members
        fixed_user = _fixed_user(actor, changes["fixed_user_id"]) if "fixed_user_id" in changes else rule.fixed_user
        name = changes.get("name", rule.name)
        sources = list(dict.fromkeys(changes.get("sources", rule.sources)))
        mode = changes.get("mode", rule.mode)
        _check(name=name, sources=sources, mode=mode, members=members, fixed_user=fixed_user)
        rule.name = name.strip()
        rule.sources = sources
        rule.mode = mode
        rule.fixed_user = fixed_user if mode == AssignmentRule.Mode.FIXED else None
        rule.is_active = changes.get("is_active", rule.is_active)
        rule.priority = changes.get("priority", rule.priority)
        rule.save()
        rule.members.set(members)
        after = _snapshot(rule, [m.pk for m in members])
        changed = {key: [before[key], after[key]] for key in after if before[key] != after[key]}
        if changed:
            publish(
                "leads.assignment_rule.updated",
                actor=actor,
                org=rule.organization_id,
                subject=rule,
                data={"changes": changed},
            )
    return assignment_rule_get(user=actor, rule_id=rule.pk)


def assignment_rule_move(*, actor: User, rule_id: int, direction: str) -> AssignmentRule:
    """Move a rule one place up (applies earlier) or down; priorities are renumbered 10, 20..."""
    require_assignment_rule_manager(actor)
    if direction not in ("up", "down"):
        raise ValidationFailed("Unknown direction.", details={"direction": ["Choose up or down."]})
    with transaction.atomic():
        rule = assignment_rule_get(user=actor, rule_id=rule_id)
        rules = list(
            AssignmentRule.objects.select_for_update()
            .filter(organization_id=actor.organization_id)
            .order_by("priority", "pk")
        )
        index = next(i for i, other in enumerate(rules) if other.pk == rule.pk)
        target = index - 1 if direction == "up" else index + 1
        if not 0 <= target < len(rules):
            return rule
        rules[index], rules[target] = rules[target], rules[index]
        changed = []
        for position, other in enumerate(rules, start=1):
            if other.priority != position * 10:
                changed.append((other, other.priority, position * 10))
                other.priority = position * 10
        AssignmentRule.objects.bulk_update([other for other, _, _ in changed], ["priority"])
        for other, previous, now in changed:
            publish(
                "leads.assignment_rule.updated",
                actor=actor,
                org=other.organization_id,
                subject=other,
                data={"changes": {"priority": [previous, now]}},
            )
    return assignment_rule_get(user=actor, rule_id=rule_id)


def assignment_rule_delete(*, actor: User, rule_id: int) -> AssignmentRule:
    require_assignment_rule_manager(actor)
    with transaction.atomic():
        rule = assignment_rule_get(user=actor, rule_id=rule_id)
        publish(
            "leads.assignment_rule.deleted",
            actor=actor,
            org=rule.organization_id,
            subject=rule,
            data=_snapshot(rule, [m.pk for m in rule.members.all()]),
        )
        rule.delete()
    return rule
