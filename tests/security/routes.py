"""Every route, and who may use it. The sweep walks the URL resolver (pages) and the OpenAPI
schema (API operations) and fails on any route missing from these tables, so a new route is
reviewed here before it ships.

An entry is `(requirement, object)`:
- requirement: `public` (no sign-in), `member` (any signed-in user, who sees and changes only
  their own or their organization's records), `staff`, `management` (the organization's
  management role), `manager` (management or sales manager), or a permission flag a sub-user
  may lack (`can_view_leads`, `can_edit_leads`, `can_add_leads`, `can_export`, `can_buy`,
  `can_sell`);
- object: the key in `tests.security.world` of the record the path names, or None.
"""

import functools
import re
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator

from leads.tests.factories import spreadsheet_upload

REQUIREMENTS = {
    "public",
    "member",
    "staff",
    "management",
    "manager",
    "can_view_leads",
    "can_edit_leads",
    "can_add_leads",
    "can_export",
    "can_buy",
    "can_sell",
}

PAGE_METHODS = ("GET", "POST")

# Pages, by route pattern; a dict value gives each method its own entry. The Django admin
# (under `admin/`) is for staff, every page of it.
ADMIN_PREFIX = "admin/"
PAGES = {
    "": ("public", None),
    "admin/login/": ("public", None),
    "admin/logout/": ("public", None),
    "signup/": ("public", None),
    "signup/done/": ("public", None),
    "verify": ("public", None),
    "verify/resend/": ("public", None),
    "login/": ("public", None),
    "login/code/": ("public", None),
    "logout/": ("public", None),
    "forgot-password/": ("public", None),
    "forgot-password/code/": ("public", None),
    "forgot-password/new/": ("public", None),
    "invite/<str:uidb64>/<str:token>/": ("public", None),
    "f/<slug:slug>/": ("public", "form"),
    "f/<slug:slug>/thanks/": ("public", "form"),
    "t/o/<str:token>.gif": ("public", None),
    "t/c/<str:token>": ("public", None),
    "u/<str:token>": ("public", None),
    "api/schema/": ("public", None),
    "api/docs/": ("public", None),
    # Own account.
    "settings/two-factor/": ("member", None),
    "settings/two-factor/setup/": ("member", None),
    "settings/two-factor/confirm/": ("member", None),
    "settings/two-factor/recovery-codes/": ("member", None),
    "settings/two-factor/disable/": ("member", None),
    "settings/two-factor/requirement/": ("management", None),
    "settings/profile/": ("member", None),
    "settings/profile/password/": ("member", None),
    "settings/preferences/": ("member", None),
    "settings/notifications/": ("member", None),
    "settings/security/": ("member", None),
    "settings/theme/": ("member", None),
    "settings/sessions/": ("member", None),
    "settings/sessions/<id:session_id>/end/": ("member", "session"),
    "settings/api-tokens/": ("member", None),
    "settings/api-tokens/<id:token_id>/revoke/": ("member", "token"),
    "notifications/": ("member", None),
    "notifications/<id:pk>/read/": ("member", "notification"),
    "notifications/read-all/": ("member", None),
    # The organization.
    "settings/team/": ("management", None),
    "settings/team/<id:pk>/": ("management", "member"),
    "settings/team/<id:pk>/permissions/": ("management", "member"),
    "settings/team/<id:pk>/budget/": ("management", "member"),
    "settings/team/<id:pk>/deactivate/": ("management", "member"),
    "settings/team/<id:pk>/reactivate/": ("management", "member"),
    "settings/team/<id:pk>/resend-invitation/": ("management", "member"),
    "settings/team/<id:pk>/delete/": ("management", "member"),
    # Every member reads the organization's settings; management changes them.
    "settings/organization/": {"GET": ("member", None), "POST": ("management", None)},
    # A person's data exported or erased: the organization's own data only.
    "settings/privacy/": ("management", None),
    # Dashboards and reports.
    "dashboard/": ("member", None),
    "dashboard/buyer/": ("can_buy", None),
    "dashboard/vendor/": ("can_sell", None),
    "dashboard/overview/": ("staff", None),
    "dashboard/reports/": ("member", None),
    "dashboard/reports/run/<slug:kind>/": ("member", None),
    "dashboard/reports/exports/<id:export_id>/progress/": ("member", "export"),
    "dashboard/reports/exports/<id:export_id>/download/": ("member", "export"),
    "dashboard/reports/subscriptions/": ("member", None),
    "dashboard/reports/subscriptions/<id:subscription_id>/delete/": ("member", "subscription"),
    # Leads.
    "leads/": ("can_view_leads", None),
    "leads/new/": ("can_add_leads", None),
    "leads/bulk/": ("can_edit_leads", None),
    "leads/deleted/": ("can_view_leads", None),
    "leads/export/": ("can_export", None),
    "leads/<id:pk>/": ("can_view_leads", "lead"),
    "leads/<id:pk>/edit/": ("can_edit_leads", "lead"),
    "leads/<id:pk>/status/": ("can_edit_leads", "lead"),
    "leads/<id:pk>/assign/": ("can_edit_leads", "lead"),
    "leads/<id:pk>/delete/": ("can_edit_leads", "lead"),
    "leads/<id:pk>/restore/": ("can_edit_leads", "lead"),
    "leads/<id:pk>/merge/": ("can_edit_leads", "lead"),
    "leads/import/": ("can_add_leads", None),
    "leads/import/history/": ("can_add_leads", None),
    "leads/import/<id:job_id>/": ("can_add_leads", "lead_import"),
    "leads/import/<id:job_id>/mapping/": ("can_add_leads", "lead_import"),
    "leads/import/<id:job_id>/confirm/": ("can_add_leads", "lead_import"),
    "leads/import/<id:job_id>/progress/": ("can_add_leads", "lead_import"),
    "leads/import/<id:job_id>/rejected/": ("can_add_leads", "lead_import"),
    # Every member who may view leads reads the rules; managers change them.
    "leads/assignment/": ("can_view_leads", None),
    "leads/assignment/new/": ("manager", None),
    "leads/assignment/<id:pk>/": {"GET": ("can_view_leads", "rule"), "POST": ("manager", "rule")},
    "leads/assignment/<id:pk>/move/": ("manager", "rule"),
    "leads/assignment/<id:pk>/active/": ("manager", "rule"),
    "leads/assignment/<id:pk>/delete/": ("manager", "rule"),
    "leads/forms/": ("can_view_leads", None),
    # Like assignment rules, capture forms show read-only to those who may not change them.
    "leads/forms/new/": ("management", None),
    "leads/forms/<id:pk>/": ("can_view_leads", "form"),
    "leads/forms/<id:pk>/edit/": {"GET": ("can_view_leads", "form"), "POST": ("management", "form")},
    "leads/forms/<id:pk>/delete/": ("management", "form"),
    "leads/forms/submissions/<id:pk>/reached-out/": ("can_edit_leads", "submission"),
    "leads/forms/submissions/<id:pk>/attachment/": ("can_view_leads", "submission"),
    # CRM.
    "crm/contacts/": ("can_view_leads", None),
    "crm/contacts/new/": ("can_add_leads", None),
    "crm/contacts/<id:pk>/": ("can_view_leads", "contact"),
    "crm/contacts/<id:pk>/edit/": ("can_edit_leads", "contact"),
    "crm/contacts/<id:pk>/delete/": ("can_edit_leads", "contact"),
    "crm/contacts/import/": ("can_add_leads", None),
    "crm/contacts/import/history/": ("can_add_leads", None),
    "crm/contacts/import/<id:job_id>/": ("can_add_leads", "contact_import"),
    "crm/contacts/import/<id:job_id>/mapping/": ("can_add_leads", "contact_import"),
    "crm/contacts/import/<id:job_id>/confirm/": ("can_add_leads", "contact_import"),
    "crm/contacts/import/<id:job_id>/progress/": ("can_add_leads", "contact_import"),
    "crm/contacts/import/<id:job_id>/rejected/": ("can_add_leads", "contact_import"),
    "crm/contacts/export/": ("can_export", None),
    "crm/opportunities/": ("can_view_leads", None),
    "crm/opportunities/new/": ("can_add_leads", None),
    "crm/opportunities/board/": ("can_view_leads", None),
    "crm/opportunities/forecast/": ("can_view_leads", None),
    "crm/opportunities/<id:pk>/": ("can_view_leads", "opportunity"),
    "crm/opportunities/<id:pk>/edit/": ("can_edit_leads", "opportunity"),
    "crm/opportunities/<id:pk>/move/": ("can_edit_leads", "opportunity"),
    "crm/opportunities/<id:pk>/reopen/": ("manager", "closed_opportunity"),
    "crm/tasks/": ("can_view_leads", None),
    "crm/activities/new/": ("can_edit_leads", None),
    "crm/activities/<id:pk>/done/": ("can_edit_leads", "activity"),
    "crm/activities/<id:pk>/snooze/": ("can_edit_leads", "activity"),
    "crm/leads/<id:pk>/convert/": ("can_edit_leads", "lead"),
    "crm/campaigns/": ("can_view_leads", None),
    "crm/campaigns/new/": ("manager", None),
    "crm/campaigns/audience/": ("manager", None),
    "crm/campaigns/<id:pk>/": ("can_view_leads", "campaign"),
    "crm/campaigns/<id:pk>/edit/": ("manager", "campaign"),
    "crm/campaigns/<id:pk>/progress/": ("can_view_leads", "campaign"),
    "crm/campaigns/<id:pk>/recipients/": ("can_view_leads", "campaign"),
    "crm/campaigns/<id:pk>/schedule/": ("manager", "campaign"),
    "crm/campaigns/<id:pk>/test/": ("manager", "campaign"),
    "crm/campaigns/<id:pk>/pause/": ("manager", "campaign"),
    "crm/campaigns/<id:pk>/resume/": ("manager", "campaign"),
    "crm/campaigns/<id:pk>/cancel/": ("manager", "campaign"),
    "crm/campaigns/<id:pk>/delete/": ("manager", "campaign"),
    "crm/webhooks/": ("manager", None),
    "crm/webhooks/<id:pk>/": ("manager", "webhook"),
    "crm/webhooks/<id:pk>/active/": ("manager", "webhook"),
    "crm/webhooks/<id:pk>/test/": ("manager", "webhook"),
    "crm/webhooks/<id:pk>/delete/": ("manager", "webhook"),
    # Marketplace: the catalog is public; buying, selling and searching are not.
    "marketplace/": ("public", None),
    "marketplace/export/": ("can_export", None),
    "marketplace/listings/<id:pk>/": ("public", "listing"),
    "marketplace/cart/": ("can_buy", None),
    "marketplace/cart/add/<id:pk>/": ("can_buy", "listing"),
    "marketplace/cart/items/<id:pk>/remove/": ("can_buy", "cart_item"),
    "marketplace/orders/": ("can_buy", None),
    "marketplace/orders/<id:pk>/": ("can_buy", "order"),
    "marketplace/orders/<id:pk>/pay/": ("can_buy", "order"),
    "marketplace/purchases/": ("can_buy", None),
    "marketplace/purchases/<id:pk>/dispute/": ("can_buy", "purchase"),
    "marketplace/sales/": ("can_sell", None),
    "marketplace/disputes/": ("member", None),
    "marketplace/disputes/<id:pk>/": ("member", "dispute"),
    "marketplace/wallet/": ("can_buy", None),
    "marketplace/earnings/": ("can_sell", None),
    "marketplace/my-listings/": ("can_sell", None),
    "marketplace/my-listings/new/": ("can_sell", None),
    "marketplace/my-listings/from-lead/": ("can_sell", None),
    "marketplace/my-listings/from-lead/<id:lead_id>/": ("can_sell", "lead"),
    "marketplace/my-listings/<id:listing_id>/edit/": ("can_sell", "pending_listing"),
    "marketplace/my-listings/<id:listing_id>/withdraw/": ("can_sell", "listing"),
    "marketplace/uploads/": ("can_sell", None),
    "marketplace/uploads/history/": ("can_sell", None),
    "marketplace/uploads/<id:upload_id>/": ("can_sell", "upload"),
    "marketplace/uploads/<id:upload_id>/mapping/": ("can_sell", "upload"),
    "marketplace/uploads/<id:upload_id>/confirm/": ("can_sell", "upload"),
    "marketplace/uploads/<id:upload_id>/progress/": ("can_sell", "upload"),
    "marketplace/uploads/<id:upload_id>/rejected/": ("can_sell", "upload"),
    "marketplace/review/": ("staff", None),
    "marketplace/review/bulk/": ("staff", None),
    "marketplace/review/<id:listing_id>/approve/": ("staff", "pending_listing"),
    "marketplace/review/<id:listing_id>/reject/": ("staff", "pending_listing"),
    "marketplace/search/": ("can_buy", None),
    "marketplace/search/<id:pk>/strategy/": ("can_buy", "goal"),
    "marketplace/search/<id:pk>/chips/remove/": ("can_buy", "goal"),
    "marketplace/saved-searches/": ("can_buy", None),
    "marketplace/saved-searches/new/": ("can_buy", None),
    "marketplace/saved-searches/<id:pk>/": ("can_buy", "saved_search"),
    "marketplace/saved-searches/<id:pk>/edit/": ("can_buy", "saved_search"),
    "marketplace/saved-searches/<id:pk>/delete/": ("can_buy", "saved_search"),
}

# API operations, by schema path; a dict value gives each method its own entry.
API = {
    # Signing in and out, registering, resetting a password: before authentication.
    "/api/auth/register/": ("public", None),
    "/api/auth/verify/": ("public", None),
    "/api/auth/verify/resend/": ("public", None),
    "/api/auth/login/": ("public", None),
    "/api/auth/login/mfa/": ("public", None),
    "/api/auth/refresh/": ("public", None),
    "/api/auth/logout/": ("public", None),
    "/api/auth/forgot-password/": ("public", None),
    "/api/auth/verify-otp/": ("public", None),
    "/api/auth/reset-password/": ("public", None),
    "/api/public/forms/{slug}/submit/": ("public", "form"),
    "/api/payments/webhook/": ("public", None),
    "/api/campaigns/bounces/": ("public", None),
    "/api/marketplace/listings/": {"GET": ("public", None), "POST": ("can_sell", None)},
    "/api/marketplace/listings/{id}/": {
        "GET": ("public", "listing"),
        "PATCH": ("can_sell", "pending_listing"),
        "DELETE": ("can_sell", "listing"),
    },
    # Own account.
    "/api/auth/me/": ("member", None),
    "/api/auth/mfa/": ("member", None),
    "/api/auth/mfa/setup/": ("member", None),
    "/api/auth/mfa/confirm/": ("member", None),
    "/api/auth/mfa/disable/": ("member", None),
    "/api/auth/mfa/recovery-codes/": ("member", None),
    "/api/auth/sessions/": ("member", None),
    "/api/auth/sessions/{session_id}/": ("member", "session"),
    "/api/profile/": ("member", None),
    "/api/profile/change-password/": ("member", None),
    "/api/profile/preferences/": ("member", None),
    "/api/profile/preferences/app/": ("member", None),
    "/api/profile/preferences/notifications/": ("member", None),
    "/api/profile/preferences/security/": ("member", None),
    "/api/profile/api-tokens/": ("member", None),
    "/api/profile/api-tokens/{token_id}/": ("member", "token"),
    "/api/workflows/notifications/": ("member", None),
    "/api/workflows/notifications/{id}/read/": ("member", "notification"),
    "/api/workflows/notifications/read-all/": ("member", None),
    "/api/users/": ("member", None),
    "/api/users/{id}/": ("member", "member"),
    # The organization.
    "/api/organization/": {"GET": ("member", None), "PATCH": ("management", None)},
    "/api/organization/mfa-requirement/": {
        "GET": ("member", None),
        "POST": ("management", None),
        "PUT": ("management", None),
    },
    "/api/profile/sub-users/": ("management", None),
    "/api/profile/sub-users/{id}/": ("management", "member"),
    "/api/profile/sub-users/{id}/budget/": ("management", "member"),
    "/api/profile/sub-users/{id}/permissions/": ("management", "member"),
    "/api/profile/sub-users/{id}/resend-invitation/": ("management", "member"),
    "/api/privacy/export/": ("management", None),
    "/api/privacy/erase/": ("management", None),
    # Leads.
    "/api/leads/": {"GET": ("can_view_leads", None), "POST": ("can_add_leads", None)},
    "/api/leads/{id}/": {
        "GET": ("can_view_leads", "lead"),
        "PATCH": ("can_edit_leads", "lead"),
        "DELETE": ("can_edit_leads", "lead"),
    },
    "/api/leads/{id}/restore/": ("can_edit_leads", "lead"),
    "/api/leads/{id}/timeline/": ("can_view_leads", "lead"),
    "/api/leads/{lead_id}/convert/": ("can_edit_leads", "lead"),
    "/api/leads/{lead_id}/merge/": ("can_edit_leads", "lead"),
    "/api/leads/bulk/": ("can_edit_leads", None),
    "/api/leads/export/": ("can_export", None),
    # Checks the addresses sent, reads no record.
    "/api/leads/validate/": ("member", None),
    "/api/leads/import/": ("can_add_leads", None),
    "/api/leads/import/{job_id}/": ("can_add_leads", "lead_import"),
    "/api/leads/import/{job_id}/confirm/": ("can_add_leads", "lead_import"),
    "/api/leads/import/{job_id}/rejected/": ("can_add_leads", "lead_import"),
    "/api/assignment-rules/": {"GET": ("can_view_leads", None), "POST": ("manager", None)},
    "/api/assignment-rules/{id}/": {
        "GET": ("can_view_leads", "rule"),
        "PATCH": ("manager", "rule"),
        "DELETE": ("manager", "rule"),
    },
    "/api/lead-forms/": {"GET": ("can_view_leads", None), "POST": ("management", None)},
    "/api/lead-forms/{id}/": {
        "GET": ("can_view_leads", "form"),
        "PATCH": ("management", "form"),
        "DELETE": ("management", "form"),
    },
    "/api/lead-forms/{id}/submissions/": ("can_view_leads", "form"),
    "/api/lead-forms/submissions/{submission_id}/attachment/": ("can_view_leads", "submission"),
    "/api/lead-forms/submissions/{submission_id}/reached-out/": ("can_edit_leads", "submission"),
    # CRM.
    "/api/contacts/": {"GET": ("can_view_leads", None), "POST": ("can_add_leads", None)},
    "/api/contacts/{id}/": {
        "GET": ("can_view_leads", "contact"),
        "PATCH": ("can_edit_leads", "contact"),
        "DELETE": ("can_edit_leads", "contact"),
    },
    "/api/contacts/{id}/restore/": ("can_edit_leads", "contact"),
    "/api/contacts/export/": ("can_export", None),
    "/api/contacts/import/": ("can_add_leads", None),
    "/api/contacts/import/{job_id}/": ("can_add_leads", "contact_import"),
    "/api/contacts/import/{job_id}/confirm/": ("can_add_leads", "contact_import"),
    "/api/contacts/import/{job_id}/rejected/": ("can_add_leads", "contact_import"),
    "/api/opportunities/": {"GET": ("can_view_leads", None), "POST": ("can_add_leads", None)},
    "/api/opportunities/{id}/": {
        "GET": ("can_view_leads", "opportunity"),
        "PATCH": ("can_edit_leads", "opportunity"),
        "DELETE": ("can_edit_leads", "opportunity"),
    },
    "/api/opportunities/{id}/move/": ("can_edit_leads", "opportunity"),
    "/api/opportunities/{id}/reopen/": ("manager", "closed_opportunity"),
    "/api/opportunities/board/": ("can_view_leads", None),
    "/api/opportunities/forecast/": ("can_view_leads", None),
    # Logging an activity changes the record it is on.
    "/api/activities/": {"GET": ("can_view_leads", None), "POST": ("can_edit_leads", None)},
    "/api/activities/{id}/": {
        "GET": ("can_view_leads", "activity"),
        "PATCH": ("can_edit_leads", "activity"),
        "DELETE": ("can_edit_leads", "activity"),
    },
    "/api/campaigns/": {"GET": ("can_view_leads", None), "POST": ("manager", None)},
    "/api/campaigns/{id}/": {
        "GET": ("can_view_leads", "campaign"),
        "PATCH": ("manager", "campaign"),
        "DELETE": ("manager", "campaign"),
    },
    "/api/campaigns/{id}/preview/": ("can_view_leads", "campaign"),
    "/api/campaigns/{id}/recipients/": ("can_view_leads", "campaign"),
    "/api/campaigns/{id}/stats/": ("can_view_leads", "campaign"),
    "/api/campaigns/{id}/schedule/": ("manager", "campaign"),
    "/api/campaigns/{id}/test/": ("manager", "campaign"),
    "/api/campaigns/{id}/pause/": ("manager", "campaign"),
    "/api/campaigns/{id}/resume/": ("manager", "campaign"),
    "/api/campaigns/{id}/cancel/": ("manager", "campaign"),
    "/api/webhooks/": ("manager", None),
    "/api/webhooks/{id}/": ("manager", "webhook"),
    "/api/webhooks/{id}/deliveries/": ("manager", "webhook"),
    "/api/webhooks/{id}/test/": ("manager", "webhook"),
    # Marketplace.
    "/api/marketplace/listings/export/": ("can_export", None),
    "/api/marketplace/listings/{listing_id}/approve/": ("staff", "pending_listing"),
    "/api/marketplace/listings/{listing_id}/reject/": ("staff", "pending_listing"),
    "/api/workflows/leads/pending-approval/": ("staff", None),
    "/api/marketplace/uploads/": ("can_sell", None),
    "/api/marketplace/uploads/{upload_id}/": ("can_sell", "upload"),
    "/api/marketplace/uploads/{upload_id}/confirm/": ("can_sell", "upload"),
    "/api/marketplace/uploads/{upload_id}/rejected/": ("can_sell", "upload"),
    "/api/marketplace/cart/": ("can_buy", None),
    "/api/marketplace/cart/items/": ("can_buy", None),
    "/api/marketplace/cart/items/{id}/": ("can_buy", "cart_item"),
    "/api/payments/create-intent/": ("can_buy", None),
    "/api/payments/confirm/": ("can_buy", None),
    "/api/marketplace/orders/": ("can_buy", None),
    "/api/marketplace/orders/{id}/": ("can_buy", "order"),
    "/api/marketplace/purchases/": ("can_buy", None),
    "/api/marketplace/purchases/{id}/": ("can_buy", "purchase"),
    "/api/marketplace/purchases/{id}/dispute/": ("can_buy", "purchase"),
    "/api/marketplace/purchases/export/": ("can_export", None),
    "/api/marketplace/sales/": ("can_sell", None),
    "/api/marketplace/disputes/": ("member", None),
    "/api/marketplace/disputes/{id}/": ("member", "dispute"),
    "/api/marketplace/disputes/{id}/respond/": ("can_sell", "sale_dispute"),
    "/api/marketplace/disputes/{id}/resolve/": ("staff", "dispute"),
    "/api/marketplace/wallet/": ("can_buy", None),
    "/api/marketplace/earnings/": ("can_sell", None),
    "/api/search/goals/": ("can_buy", None),
    "/api/search/goals/{id}/": ("can_buy", "goal"),
    "/api/search/results/": ("can_buy", "goal"),
    "/api/marketplace/saved-searches/": ("can_buy", None),
    "/api/marketplace/saved-searches/{id}/": ("can_buy", "saved_search"),
    "/api/marketplace/saved-searches/{id}/matches/": ("can_buy", "saved_search"),
    "/api/marketplace/saved-searches/{id}/viewed/": ("can_buy", "saved_search"),
    # Analytics.
    "/api/analytics/": ("member", None),
    "/api/analytics/overview/": ("staff", None),
    "/api/dashboard/client/": ("can_buy", None),
    "/api/dashboard/client/purchase-trends/": ("can_buy", None),
    "/api/dashboard/vendor/": ("can_sell", None),
    "/api/dashboard/vendor/sales-trends/": ("can_sell", None),
    "/api/analytics/reports/": ("member", None),
    "/api/analytics/reports/{kind}/": ("member", None),
    "/api/analytics/reports/exports/": ("member", None),
    "/api/analytics/reports/exports/{export_id}/": ("member", "export"),
    "/api/analytics/reports/exports/{export_id}/download/": ("member", "export"),
    "/api/analytics/subscriptions/": ("member", None),
    "/api/analytics/subscriptions/{id}/": ("member", "subscription"),
}


@dataclass(frozen=True)
class Route:
    pattern: str  # as the table names it
    method: str
    requirement: str
    obj: str | None


def _sheet(columns: str, row: str):
    return spreadsheet_upload("people.csv", f"{columns}\n{row}\n")


# Requests that pass input validation, so that what refuses them is the permission check
# (`pk(name)`: the id of a record of the world). API uploads go as multipart.
VICTIM = {"email": "victim.lead@victim-secret.example.com"}
BODIES = {
    "POST settings/organization/": lambda pk: {"name": "Renamed", "time_zone": "UTC"},
    "POST settings/privacy/": lambda pk: {**VICTIM, "action": "erase", "confirm": "on"},
    "POST /api/privacy/export/": lambda pk: VICTIM,
    "POST /api/privacy/erase/": lambda pk: VICTIM,
    "POST leads/bulk/": lambda pk: {"ids": [pk("lead")], "action": "delete"},
    "POST leads/<id:pk>/status/": lambda pk: {"status": "contacted"},
    "POST leads/assignment/<id:pk>/": lambda pk: {"name": "Renamed", "mode": "round_robin"},
    "POST leads/assignment/<id:pk>/move/": lambda pk: {"direction": "down"},
    "POST leads/forms/<id:pk>/edit/": lambda pk: {"name": "Renamed", "email__ask": "on", "email__label": "Email"},
    "POST crm/opportunities/<id:pk>/edit/": lambda pk: {"title": "Renamed"},
    "POST marketplace/review/bulk/": lambda pk: {"ids": [pk("pending_listing")], "decision": "approve"},
    "POST marketplace/review/<id:listing_id>/reject/": lambda pk: {"reason": "Incomplete."},
    "POST /api/activities/": lambda pk: {"kind": "note", "subject": "Called", "lead_id": pk("lead")},
    "POST /api/assignment-rules/": lambda pk: {"name": "Everyone"},
    "POST /api/campaigns/": lambda pk: {"name": "Spring", "steps": [{"subject": "Hello", "body": "Hi"}]},
    "POST /api/lead-forms/": lambda pk: {"name": "Contact", "fields": [{"name": "email", "label": "Email"}]},
    "POST /api/leads/{lead_id}/merge/": lambda pk: {"other_id": pk("bought_lead")},
    "POST /api/leads/bulk/": lambda pk: {"ids": [pk("lead")], "action": "delete"},
    "POST /api/leads/validate/": lambda pk: {"email": "someone@example.com"},
    "POST /api/leads/import/": lambda pk: {"file": _sheet("email", "new@example.com")},
    "POST /api/contacts/import/": lambda pk: {"file": _sheet("email", "new@example.com")},
    "POST /api/marketplace/uploads/": lambda pk: {"file": _sheet("title,price,email", "Lead,10,new@example.com")},
    "POST /api/marketplace/cart/items/": lambda pk: {"listing_id": pk("seller_listing")},
    "POST /api/marketplace/disputes/{id}/resolve/": lambda pk: {"decision": "reject", "note": "Valid lead."},
    "POST /api/marketplace/disputes/{id}/respond/": lambda pk: {"response": "The email works."},
    "POST /api/marketplace/listings/": lambda pk: {"title": "CTO", "price": "10.00", "email": "cto@example.com"},
    "POST /api/marketplace/listings/{listing_id}/reject/": lambda pk: {"reason": "Incomplete."},
    "POST /api/marketplace/purchases/{id}/dispute/": lambda pk: {"reason": "invalid_email", "details": "Bounced."},
    "POST /api/marketplace/saved-searches/": lambda pk: {"name": "Software", "filters": {}},
    "POST /api/opportunities/{id}/move/": lambda pk: {"stage": "qualification"},
    "POST /api/organization/mfa-requirement/": lambda pk: {"required": True},
    "PUT /api/organization/mfa-requirement/": lambda pk: {"required": True},
    "POST /api/payments/create-intent/": lambda pk: {},
    "POST /api/payments/confirm/": lambda pk: {"payment_intent_id": "pi_x", "card_number": "4242424242424242"},
    "POST /api/profile/sub-users/": lambda pk: {"email": "new.member@example.com"},
    "PATCH /api/profile/sub-users/{id}/budget/": lambda pk: {"monthly_budget": "10.00"},
    "POST /api/search/goals/": lambda pk: {"goal": "CTOs of software companies in Texas"},
    "PATCH /api/search/goals/{id}/": lambda pk: {"strategy": {"keywords": ["cto"]}},
    "POST /api/webhooks/": lambda pk: {"url": "https://hooks.example.com/in", "events": ["lead.created"]},
}

# Operations that name their record in the query string.
QUERY = {"/api/search/results/": "goal"}


def _entry(table: dict, pattern: str, method: str) -> tuple[str, str | None] | None:
    entry = table.get(pattern)
    return entry.get(method) if isinstance(entry, dict) else entry


_PARAM = re.compile(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>[^)]*\)|\{(\w+)\}")


def _walk(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern)


def _shape(pattern: str) -> str:
    """A route with its parameters blanked, to compare resolver patterns with schema paths."""
    return "/" + _PARAM.sub("{}", pattern.replace("^", "").replace("$", "")).lstrip("/")


@functools.cache
def api_schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def schema_operations(schema: dict) -> list[tuple[str, str]]:
    return [(method.upper(), path) for path, ops in schema["paths"].items() for method in ops]


def page_patterns(schema: dict) -> list[str]:
    """Every resolver pattern that is not an operation of the API schema."""
    api_shapes = {_shape(path) for path in schema["paths"]}
    return [pattern for pattern in _walk(get_resolver().url_patterns) if _shape(pattern) not in api_shapes]


def unclassified(schema: dict) -> list[str]:
    """Routes in the resolver or the schema that the tables do not name, and table entries that
    no longer match a route."""
    pages = page_patterns(schema)
    problems = []
    for pattern in pages:
        if pattern.startswith(ADMIN_PREFIX) and pattern not in PAGES:
            continue
        for method in PAGE_METHODS:
            if _entry(PAGES, pattern, method) is None:
                problems.append(f"page route {method} {pattern!r} is missing from tests/security/routes.py PAGES")
    problems += [f"PAGES names {p!r}, which is no route" for p in PAGES if p not in pages]
    operations = schema_operations(schema)
    problems += [
        f"API operation {method} {path} is missing from tests/security/routes.py API"
        for method, path in operations
        if _entry(API, path, method) is None
    ]
    paths = {path for _, path in operations}
    problems += [f"API names {p!r}, which is no operation" for p in API if p not in paths]
    for table in (PAGES, API):
        for entry in table.values():
            for requirement, _ in entry.values() if isinstance(entry, dict) else [entry]:
                if requirement not in REQUIREMENTS:
                    problems.append(f"unknown requirement {requirement!r}")
    return problems


def page_routes(schema: dict) -> list[Route]:
    routes = []
    for pattern in page_patterns(schema):
        if pattern in PAGES:
            routes += [Route(pattern, method, *_entry(PAGES, pattern, method)) for method in PAGE_METHODS]
        elif pattern.startswith(ADMIN_PREFIX):
            # The admin site refuses every method alike before it reads a form.
            routes.append(Route(pattern, "GET", "staff", None))
    return routes  # an unclassified route is named by `unclassified`


def api_routes(schema: dict) -> list[Route]:
    return [
        Route(path, method, *_entry(API, path, method))
        for method, path in schema_operations(schema)
        if _entry(API, path, method) is not None
    ]


def url_for(pattern: str, value_of) -> str:
    """The path of `pattern` with each parameter filled by `value_of(name)`."""

    def fill(match):
        return str(value_of(match.group(1) or match.group(2) or match.group(3)))

    path = _PARAM.sub(fill, pattern.replace("^", "").replace("$", ""))
    if pattern in QUERY:
        path += f"?{QUERY[pattern]}={value_of(QUERY[pattern])}"
    return path if path.startswith("/") else "/" + path
