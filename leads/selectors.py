"""Which leads a user may see, decided once here (DESIGN §1) and used by every list,
detail, timeline, export, bulk action and service handed a lead id.

- management and sales managers: every lead of their organization;
- sales reps: the leads assigned to or created by them (all of the org's with
  `can_view_all_org_leads`);
- a sub-user without `can_view_leads`: none (permission denied);
- another organization's lead: not found. Vendor inventory stays out of CRM lists.
"""

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import User
from accounts.policy import permissions_of
from leadnexus.core.exceptions import NotFound, PermissionDenied
from leadnexus.core.models import Event
from leads.models import Lead


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
    return lead_scope(user=user, deleted=deleted).select_related("assigned_to")


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


def leads_purgeable(*, now=None) -> QuerySet[Lead]:
    """Soft-deleted leads past the restore window (for the purge job; not scoped to a user)."""
    return Lead.objects.filter(deleted_at__lt=(now or timezone.now()) - settings.LEAD_RESTORE_WINDOW)
