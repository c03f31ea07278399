from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, PermissionsMixin
from django.db import models
from django.utils import timezone

from accounts.managers import UserManager


class Organization(models.Model):
    """The tenant. Every user belongs to exactly one; staff to the platform's own."""

    class Plan(models.TextChoices):
        FREE = "free"
        PRO = "pro"
        ENTERPRISE = "enterprise"

    class PlanStatus(models.TextChoices):
        ACTIVE = "active"
        PAST_DUE = "past_due"
        CANCELED = "canceled"

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=220, unique=True)
    is_buyer = models.BooleanField(default=False)
    is_vendor = models.BooleanField(default=False)
    is_platform = models.BooleanField(default=False, help_text="The operator's own organization, home of staff.")
    verified = models.BooleanField(default=False)
    require_mfa = models.BooleanField(default=False, help_text="Every member must sign in with a second factor.")
    plan = models.CharField(max_length=20, choices=Plan.choices, default=Plan.FREE)
    plan_status = models.CharField(max_length=20, choices=PlanStatus.choices, default=PlanStatus.ACTIVE)
    time_zone = models.CharField(max_length=64, default=settings.TIME_ZONE)
    company_size = models.CharField(max_length=20, blank=True)
    industry = models.CharField(max_length=100, blank=True)
    website = models.URLField(blank=True)
    phone = models.CharField(max_length=32, blank=True)
    response_target_minutes = models.PositiveIntegerField(
        null=True,
        blank=True,
        default=120,
        help_text="How long a new lead may wait for a first contact before it is flagged; blank: no target.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_platform"], condition=models.Q(is_platform=True), name="one_platform_organization"
            )
        ]

    def __str__(self):
        return self.name

    @property
    def zone(self) -> ZoneInfo:
        """The organization's time zone: its days, months and daily caps are counted in it."""
        return ZoneInfo(self.time_zone or settings.TIME_ZONE)

    def local_now(self) -> datetime:
        return timezone.now().astimezone(self.zone)

    def month_start(self) -> datetime:
        """The first instant of the organization's current month."""
        return self.local_now().replace(day=1, hour=0, minute=0, second=0, microsecond=0)


class User(AbstractBaseUser, PermissionsMixin):
    class Role(models.TextChoices):
        MANAGEMENT = "management"
        SALES_MANAGER = "sales_manager"
        SALES_REP = "sales_rep"

    # Stored lower-cased (see `normalize_email`), so uniqueness is case-insensitive.
    email = models.EmailField(max_length=254, unique=True)
    full_name = models.CharField(max_length=200, blank=True)
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="members")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.MANAGEMENT)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sub_users",
        help_text="The management user this sub-user was created by.",
    )
    email_verified = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        ordering = ["email"]

    def __str__(self):
        return self.email

    def get_full_name(self):
        return self.full_name or self.email

    def get_short_name(self):
        return self.full_name.split(" ")[0] if self.full_name else self.email


class SubUserPermissions(models.Model):
    """Flags that narrow what a sub-user may do; a flag that is off removes the right
    whatever the role. Users without a row (top-level users) have every right of their role."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="sub_user_permissions")
    can_view_leads = models.BooleanField(default=True)
    can_edit_leads = models.BooleanField(default=True)
    can_add_leads = models.BooleanField(default=True)
    can_view_all_org_leads = models.BooleanField(default=False)
    can_buy = models.BooleanField(default=True)
    can_sell = models.BooleanField(default=True)
    can_export = models.BooleanField(default=True)
    # What the sub-user may spend on the marketplace per calendar month; null: no limit.
    monthly_budget = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)

    FLAGS = (
        "can_view_leads",
        "can_edit_leads",
        "can_add_leads",
        "can_view_all_org_leads",
        "can_buy",
        "can_sell",
        "can_export",
    )

    def __str__(self):
        return f"Permissions of {self.user}"


class EmailVerification(models.Model):
    """A single-use link token proving the user owns their email. Only its hash is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="email_verifications")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"Email verification for {self.user_id}"


class PasswordResetOTP(models.Model):
    """A 6-digit code emailed for a password reset, then the short-lived reset token it is
    exchanged for. Both are stored hashed; the code burns after too many wrong tries."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="password_resets")
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    reset_token_hash = models.CharField(max_length=64, null=True, blank=True, unique=True)
    reset_token_expires_at = models.DateTimeField(null=True, blank=True)
    reset_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "-created_at"], name="password_reset_user_idx")]

    def __str__(self):
        return f"Password reset for {self.user_id}"


class UserSession(models.Model):
    """One sign-in, on a page (a Django session) or through the API (the JWTs carry its id as
    `sid`). Ending it stops that sign-in at its next request."""

    class Kind(models.TextChoices):
        PAGE = "page"
        API = "api"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="sessions")
    kind = models.CharField(max_length=4, choices=Kind.choices)
    # For page sessions: the Django session to delete when this one is ended.
    session_key = models.CharField(max_length=40, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoke_reason = models.CharField(max_length=30, blank=True)

    class Meta:
        ordering = ["-last_seen_at", "-id"]
        indexes = [models.Index(fields=["user", "revoked_at"], name="user_session_active_idx")]

    def __str__(self):
        return f"{self.kind} session of {self.user_id} from {self.ip or 'unknown address'}"


class SecuritySettings(models.Model):
    class SessionTimeout(models.IntegerChoices):
        MINUTES_15 = 15, "15 minutes"
        MINUTES_30 = 30, "30 minutes"
        HOUR = 60, "1 hour"
        HOURS_4 = 240, "4 hours"
        HOURS_8 = 480, "8 hours"
        DAY = 1440, "1 day"
        WEEK = 10080, "7 days"
        TWO_WEEKS = 20160, "14 days"

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="security_settings")
    login_notifications = models.BooleanField(default=True, help_text="Email me on each new sign-in.")
    session_timeout_minutes = models.PositiveIntegerField(
        choices=SessionTimeout.choices,
        default=SessionTimeout.TWO_WEEKS,
        help_text="Sign me out of pages after this long without activity.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"Security settings of {self.user_id}"


class UserPreferences(models.Model):
    class ItemsPerPage(models.IntegerChoices):
        TEN = 10, "10"
        TWENTY_FIVE = 25, "25"
        FIFTY = 50, "50"
        HUNDRED = 100, "100"

    class LeadsView(models.TextChoices):
        TABLE = "table"
        CARDS = "cards"

    class Theme(models.TextChoices):
        SYSTEM = "system", "Same as my device"
        LIGHT = "light"
        DARK = "dark"

    class ExportFormat(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "Excel (XLSX)"

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="preferences")
    items_per_page = models.PositiveSmallIntegerField(choices=ItemsPerPage.choices, default=ItemsPerPage.TWENTY_FIVE)
    leads_view = models.CharField(max_length=10, choices=LeadsView.choices, default=LeadsView.TABLE)
    compact_mode = models.BooleanField(default=False)
    theme = models.CharField(max_length=10, choices=Theme.choices, default=Theme.SYSTEM)
    export_format = models.CharField(max_length=10, choices=ExportFormat.choices, default=ExportFormat.CSV)
    export_include_notes = models.BooleanField(default=True, help_text="Lead and contact exports include notes.")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"Preferences of {self.user_id}"


class ApiToken(models.Model):
    """A personal API token (`Authorization: Token <key>`), acting with its owner's rights.
    The key is shown once; only its prefix (to tell tokens apart) and digest are kept."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    key_digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"
