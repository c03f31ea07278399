from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import BaseUserCreationForm
from django.db.models import Count

from accounts.models import Organization, SubUserPermissions, User
from accounts.services.users import user_create


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "slug",
        "is_buyer",
        "is_vendor",
        "verified",
        "plan",
        "plan_status",
        "member_count",
        "created_at",
    ]
    list_filter = ["is_buyer", "is_vendor", "verified", "plan", "plan_status", "is_platform"]
    search_fields = ["name", "slug", "website"]
    readonly_fields = ["slug", "is_platform", "created_at"]
    ordering = ["-created_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(member_count=Count("members"))

    @admin.display(ordering="member_count", description="Members")
    def member_count(self, obj):
        return obj.member_count


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
        "last_login",
    ]
    list_filter = [
        "role",
        "email_verified",
        "is_active",
        "is_staff",
        "organization__is_vendor",
        "organization__is_buyer",
    ]
    search_fields = ["email", "full_name", "organization__name"]
    list_select_related = ["organization"]
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
            return super().save_model(request, obj, form, change)
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
        updated = queryset.filter(email_verified=False).update(email_verified=True)
        self.message_user(request, f"{updated} user(s) marked verified.", messages.SUCCESS)
