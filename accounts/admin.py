from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import BaseUserCreationForm
from django.db.models import Count, Q
from django.template.response import TemplateResponse
from django.urls import path

from accounts.devices import describe_device
from accounts.forms import PersonForm
from accounts.models import ApiToken, Organization, SubUserPermissions, User, UserSession
from accounts.selectors import plan_in_effect
from accounts.services.organization import (
    COMPANY_SIZES,
    STAFF_EDITABLE,
    organization_changes_clean,
    organization_create_by_staff,
    organization_update_by_staff,
    time_zone_choices,
)
from accounts.services.privacy import person_erase, person_export
from accounts.services.sessions import sessions_end_by_staff
from accounts.services.tokens import api_tokens_revoke_by_staff
from accounts.services.users import user_create, user_save_by_staff
from leadnexus.core.exceptions import ApplicationError, ValidationFailed


class OrganizationAdminForm(forms.ModelForm):
    """Shape from the model; the values are checked and normalized by the same function the
    organization's own settings page uses (phone to E.164, known time zones...)."""

    time_zone = forms.ChoiceField(choices=lambda: [(zone, zone) for zone in time_zone_choices()])
    company_size = forms.ChoiceField(
        choices=[("", "Not set"), *((size, size) for size in COMPANY_SIZES)], required=False
    )

    website = forms.URLField(max_length=200, required=False, assume_scheme="https")

    class Meta:
        model = Organization
        fields = list(STAFF_EDITABLE)

    def clean(self):
        cleaned = super().clean()
        proposed = {
            field: cleaned[field] for field in self.changed_data if field in cleaned and field in STAFF_EDITABLE
        }
        try:
            cleaned.update(organization_changes_clean(proposed, allowed=STAFF_EDITABLE))
        except ValidationFailed as exc:
            for field, problems in exc.details.items():
                self.add_error(field if field in self.fields else None, problems)
        return cleaned


class StaffPersonForm(PersonForm):
    organization = forms.ModelChoiceField(
        Organization.objects.order_by("name"), required=False, help_text="Empty: every organization."
    )


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    """Staff change plans and verification here; every save and action goes through the
    organization services, which record the change as an event and tell the org's management.
    Its "Data protection" page exports or erases one person's data across organizations."""

    form = OrganizationAdminForm
    change_list_template = "admin/accounts/organization/change_list.html"
    list_display = [
        "name",
        "slug",
        "is_buyer",
        "is_vendor",
        "verified",
        "plan",
        "plan_status",
        "seats",
        "member_count",
        "created_at",
    ]
    list_filter = ["is_buyer", "is_vendor", "verified", "plan", "plan_status", "require_mfa", "is_platform"]
    search_fields = ["name", "slug", "website"]
    readonly_fields = ["slug", "is_platform", "created_at"]
    ordering = ["-created_at"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "is_platform", "created_at"]}),
        ("Marketplace", {"fields": ["is_buyer", "is_vendor", "verified"]}),
        ("Plan", {"fields": ["plan", "plan_status"]}),
        ("Security", {"fields": ["require_mfa"]}),
        ("Profile", {"fields": ["time_zone", "company_size", "industry", "website", "phone"]}),
        ("Sales", {"fields": ["response_target_minutes"]}),
    ]
    actions = ["mark_verified", "mark_unverified", "set_plan_free", "set_plan_pro", "set_plan_enterprise"]

    def get_urls(self):
        page = self.admin_site.admin_view(self.data_protection_view)
        return [path("data-protection/", page, name="accounts_organization_data_protection"), *super().get_urls()]

    def data_protection_view(self, request):
        form = StaffPersonForm(request.POST or None)
        erasure = None
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            person = {
                "email": data["email"],
                "phone": data["phone"],
                "organization_id": getattr(data["organization"], "pk", None),
            }
            try:
                if request.POST.get("action") != "erase":
                    return person_export(actor=request.user, **person).download()
                if data["confirm"]:
                    erasure = person_erase(actor=request.user, **person)
                else:
                    form.add_error("confirm", "Tick this box to erase.")
            except ApplicationError as exc:
                messages.error(request, exc.message)
        context = {**self.admin_site.each_context(request), "title": "Data protection", "form": form,
                   "erasure": erasure, "opts": self.model._meta}  # fmt: skip
        return TemplateResponse(request, "admin/accounts/data_protection.html", context)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                member_count=Count("members"),
                active_member_count=Count("members", filter=Q(members__is_active=True)),
            )
        )

    @admin.display(ordering="member_count", description="Members")
    def member_count(self, obj):
        return obj.member_count

    @admin.display(description="Seats used")
    def seats(self, obj):
        limit = settings.PLAN_LIMITS[plan_in_effect(organization=obj)]["seats"]
        return f"{obj.active_member_count} / {'unlimited' if limit is None else limit}"

    def save_model(self, request, obj, form, change):
        fields = form.changed_data if change else [field for field in form.cleaned_data if field != "name"]
        changes = {field: form.cleaned_data[field] for field in fields if field in STAFF_EDITABLE}
        if change:
            saved = organization_update_by_staff(actor=request.user, organization_id=obj.pk, changes=changes)
        else:
            saved = organization_create_by_staff(actor=request.user, name=form.cleaned_data["name"], changes=changes)
            obj.pk, obj._state.adding = saved.pk, False
        obj.refresh_from_db()

    def _update_each(self, request, queryset, changes: dict, done: str) -> None:
        changed = 0
        for organization in queryset:
            if any(getattr(organization, field) != value for field, value in changes.items()):
                organization_update_by_staff(actor=request.user, organization_id=organization.pk, changes=changes)
                changed += 1
        self.message_user(request, f"{changed} organization(s) {done}.", messages.SUCCESS)

    @admin.action(description="Mark verified")
    def mark_verified(self, request, queryset):
        self._update_each(request, queryset, {"verified": True}, "marked verified")

    @admin.action(description="Mark not verified")
    def mark_unverified(self, request, queryset):
        self._update_each(request, queryset, {"verified": False}, "marked not verified")

    @admin.action(description="Move to the Free plan (active)")
    def set_plan_free(self, request, queryset):
        self._update_each(request, queryset, {"plan": "free", "plan_status": "active"}, "moved to Free")

    @admin.action(description="Move to the Pro plan (active)")
    def set_plan_pro(self, request, queryset):
        self._update_each(request, queryset, {"plan": "pro", "plan_status": "active"}, "moved to Pro")

    @admin.action(description="Move to the Enterprise plan (active)")
    def set_plan_enterprise(self, request, queryset):
        self._update_each(request, queryset, {"plan": "enterprise", "plan_status": "active"}, "moved to Enterprise")


class SubUserPermissionsInline(admin.StackedInline):
    model = SubUserPermissions
    can_delete = False
    extra = 0


class StaffUserCreationForm(BaseUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "full_name", "organization", "role")


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    add_form = StaffUserCreationForm
    list_display = [
        "email",
        "full_name",
        "organization",
        "role",
        "email_verified",
        "is_active",
        "is_staff",
        "parent",
        "last_login",
    ]
    list_filter = [
        "role",
        "email_verified",
        "is_active",
        "is_staff",
        "organization__is_vendor",
        "organization__is_buyer",
        "organization__plan",
        ("parent", admin.EmptyFieldListFilter),
    ]
    search_fields = ["email", "full_name", "organization__name"]
    list_select_related = ["organization", "parent"]
    autocomplete_fields = ["organization", "parent"]
    ordering = ["-date_joined"]
    readonly_fields = ["last_login", "date_joined"]
    inlines = [SubUserPermissionsInline]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Profile", {"fields": ["full_name", "organization", "role", "parent"]}),
        ("Status", {"fields": ["email_verified", "is_active", "is_staff", "is_superuser"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (
            None,
            {"classes": ["wide"], "fields": ["email", "full_name", "organization", "role", "password1", "password2"]},
        ),
    ]
    actions = ["mark_email_verified"]

    def get_inlines(self, request, obj):
        return self.inlines if obj else []

    def save_model(self, request, obj, form, change):
        if change:
            user_save_by_staff(actor=request.user, user=obj, changed=form.changed_data)
            return
        # Staff vouch for the address of a user they create, so it starts verified.
        created = user_create(
            email=obj.email,
            password=form.cleaned_data.get("password1"),
            organization=obj.organization,
            full_name=obj.full_name,
            role=obj.role,
            email_verified=True,
        )
        obj.pk, obj._state.adding = created.pk, False

    @admin.action(description="Mark email verified")
    def mark_email_verified(self, request, queryset):
        users = list(queryset.filter(email_verified=False))
        for user in users:
            user.email_verified = True
            user_save_by_staff(actor=request.user, user=user, changed=["email_verified"])
        self.message_user(request, f"{len(users)} user(s) marked verified.", messages.SUCCESS)


@admin.register(UserSession)
class UserSessionAdmin(admin.ModelAdmin):
    list_display = ["user", "kind", "device", "ip", "created_at", "last_seen_at", "revoked_at", "revoke_reason"]
    list_filter = ["kind", ("revoked_at", admin.EmptyFieldListFilter), "revoke_reason"]
    search_fields = ["user__email", "ip"]
    list_select_related = ["user"]
    date_hierarchy = "created_at"
    actions = ["end_sessions"]
    # The Django session key would let its holder sign in: never shown.
    exclude = ["session_key"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="Device")
    def device(self, obj):
        return describe_device(obj.user_agent)

    @admin.action(description="End the selected sign-ins")
    def end_sessions(self, request, queryset):
        ended = sessions_end_by_staff(actor=request.user, session_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{ended} sign-in(s) ended.", messages.SUCCESS)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix", "user__email"]
    list_select_related = ["user"]
    exclude = ["key_digest"]
    actions = ["revoke_tokens"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description="Revoke the selected tokens")
    def revoke_tokens(self, request, queryset):
        revoked = api_tokens_revoke_by_staff(actor=request.user, token_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{revoked} token(s) revoked.", messages.SUCCESS)
