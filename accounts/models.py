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
    plan = models.CharField(max_length=20, choices=Plan.choices, default=Plan.FREE)
    plan_status = models.CharField(max_length=20, choices=PlanStatus.choices, default=PlanStatus.ACTIVE)
    time_zone = models.CharField(max_length=64, default=settings.TIME_ZONE)
    company_size = models.CharField(max_length=20, blank=True)
    industry = models.CharField(max_length=100, blank=True)
    website = models.URLField(blank=True)
    phone = models.CharField(max_length=32, blank=True)
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
