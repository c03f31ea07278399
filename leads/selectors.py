"""Which leads a user may see, decided once here (DESIGN §1) and used by every list,
detail, timeline, export, bulk action and service handed a lead id.

- management and sales managers: every lead of their organization;
- sales reps: the leads assigned to or created by them (all of the org's with
  `can_view_all_org_leads`);
- a sub-user without `can_view_leads`: none (permission denied);
- another organization's lead: not found. Vendor inventory stays out of CRM lists.
"""

from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from accounts.policy import permissions_of
from leadnexus.core.exceptions import NotFound, PermissionDenied
from leadnexus.core.ids import is_db_id
from leadnexus.core.models import Event
from leads.models import AssignmentRule, CaptureForm, Lead, Submission


def lead_scope(*, user: User, inventory: bool = False, deleted: bool = False) -> QuerySet[Lead]:
    """Every lead `user` may see (live ones; `deleted=True`: the recently deleted instead)."""
    flags = permissions_of(user)
    if not flags["can_view_leads"]:
        raise PermissionDenied("You do not have permission to view leads.")
    leads = Lead.objects.filter(organization_id=user.organization_id, is_inventory=inventory)
    if deleted:
        leads = leads.filter(deleted_at__gte=timezone.now() - settings.LEAD_RESTORE_WINDOW)
    else:
        leads = leads.filter(deleted_at__isnull=True)
    if user.role == User.Role.SALES_REP and not flags["can_view_all_org_leads"]:
        leads = leads.filter(Q(assigned_to=user) | Q(created_by=user))
    return leads


def lead_list(*, user: User, deleted: bool = False) -> QuerySet[Lead]:
    # The organization comes along for each lead's response target (`awaiting_first_contact`).
    return lead_scope(user=user, deleted=deleted).select_related("assigned_to", "organization")


def lead_get(*, user: User, lead_id: int, deleted: bool = False) -> Lead:
    lead = lead_list(user=user, deleted=deleted).filter(pk=lead_id).first()
    if lead is None:
        raise NotFound("Lead not found.")
    return lead


def lead_timeline(*, user: User, lead_id: int) -> QuerySet[Event]:
    """The lead's history, newest first, with the history of leads merged into it."""
    lead = lead_get(user=user, lead_id=lead_id)
    merged = [lead.pk]
    frontier = [lead.pk]
    while frontier:  # merges can chain: A absorbed B, which had absorbed C
        frontier = list(Lead.objects.filter(merged_into__in=frontier).values_list("pk", flat=True))
        merged += frontier
    return Event.objects.filter(subject_type="leads.lead", subject_id__in=[str(pk) for pk in merged]).select_related(
        "actor"
    )


def leads_awaiting_first_contact(leads: QuerySet[Lead], *, target_minutes: int | None, now=None) -> QuerySet[Lead]:
    """Those of `leads` still new and not reached past a response target of `target_minutes`
    (none without a target)."""
    if target_minutes is None:
        return leads.none()
    cutoff = (now or timezone.now()) - timedelta(minutes=target_minutes)
    return leads.filter(status=Lead.Status.NEW, first_contacted_at__isnull=True, created_at__lte=cutoff)


def leads_purgeable(*, now=None) -> QuerySet[Lead]:
    """Soft-deleted leads past the restore window (for the purge job; not scoped to a user)."""
    return Lead.objects.filter(deleted_at__lt=(now or timezone.now()) - settings.LEAD_RESTORE_WINDOW)


# --- Assignment rules and capture forms ---------------------------------------------------


def assignment_rule_list(*, user: User) -> QuerySet[AssignmentRule]:
    """The organization's rules in the order they apply, for any member who may view leads."""
    if not permissions_of(user)["can_view_leads"]:
        raise PermissionDenied("You do not have permission to view assignment rules.")
    return (
        AssignmentRule.objects.filter(organization_id=user.organization_id)
        .select_related("fixed_user")
        .prefetch_related(Prefetch("members", queryset=User.objects.order_by("pk")))
    )


def assignment_rule_get(*, user: User, rule_id: int) -> AssignmentRule:
    rule = assignment_rule_list(user=user).filter(pk=rule_id).first() if is_db_id(rule_id) else None
    if rule is None:
        raise NotFound("Assignment rule not found.")
    return rule


def capture_form_list(*, user: User) -> QuerySet[CaptureForm]:
    if not permissions_of(user)["can_view_leads"]:
        raise PermissionDenied("You do not have permission to view lead forms.")
    return (
        CaptureForm.objects.filter(organization_id=user.organization_id)
        .prefetch_related(Prefetch("notify_users", queryset=User.objects.order_by("pk")))
        .annotate(
            submission_count=Count("submissions"),
            open_count=Count("submissions", filter=Q(submissions__reached_out_at__isnull=True)),
        )
        .order_by("name", "pk")  # an aggregate query drops the model's default order
    )


def capture_form_get(*, user: User, form_id: int) -> CaptureForm:
    form = capture_form_list(user=user).filter(pk=form_id).first() if is_db_id(form_id) else None
    if form is None:
        raise NotFound("Lead form not found.")
    return form


def capture_form_public_get(*, slug: str) -> CaptureForm:
    """An active form by its public slug, for anyone."""
    form = CaptureForm.objects.filter(slug=slug, is_active=True).first()
    if form is None:
        raise NotFound("This form does not exist or no longer takes submissions.")
    return form


def submission_scope(user: User) -> QuerySet[Submission]:
    flags = permissions_of(user)
    submissions = Submission.objects.filter(form__organization_id=user.organization_id)
    if user.role == User.Role.SALES_REP and not flags["can_view_all_org_leads"]:
        submissions = submissions.filter(lead__in=lead_scope(user=user).values("pk"))
    elif not flags["can_view_leads"]:
        raise PermissionDenied("You do not have permission to view leads.")
    return submissions.select_related("lead", "lead__assigned_to", "reached_out_by")


def submission_list(*, user: User, form_id: int) -> QuerySet[Submission]:
    """The form's submissions the viewer may see, newest first."""
    form = capture_form_get(user=user, form_id=form_id)
    return submission_scope(user).filter(form=form)


def submission_get(*, user: User, submission_id: int) -> Submission:
    submission = (
        submission_scope(user).select_related("form").filter(pk=submission_id).first()
        if is_db_id(submission_id)
        else None
    )
    if submission is None:
        raise NotFound("Submission not found.")
    return submission
