"""LeadNexus settings: one module, every value read from the environment.

With no environment at all the project runs on the embedded default: DEBUG on, a
SQLite file, a local-memory cache, Celery tasks run eagerly in-process and emails go
to the console. Production sets DEBUG=false (the Docker image does so itself), which
turns on the HTTPS-only defaults below and makes SECRET_KEY required.
`.env.example` lists every variable.
"""

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env(
    "SECRET_KEY", default="django-insecure-development-only-key-not-for-production" if DEBUG else environ.Env.NOTSET
)

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/api/.*$"
SITE_URL = env("SITE_URL", default="http://localhost:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "corsheaders",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "csp",
    "import_export",
    "leadnexus.core",
    "notifications",
    "accounts",
    "leads",
    "marketplace",
    "crm",
    "analytics",
]

MIDDLEWARE = [
    "leadnexus.core.middleware.RequestIdMiddleware",
    "leadnexus.core.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After the health checks, /metrics, the HTTPS redirect and static files: not counted.
    "leadnexus.core.metrics.RequestMetricsMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "leadnexus.core.middleware.ApiTrailingSlashMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After messages: signing an ended or idle session out tells the user why.
    "accounts.middleware.UserSessionMiddleware",
    "accounts.middleware_mfa.MfaRequirementMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "leadnexus.core.errors.ApplicationErrorMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "leadnexus.urls"
WSGI_APPLICATION = "leadnexus.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "analytics:dashboard"
LOGOUT_REDIRECT_URL = "core:landing"
CSRF_FAILURE_VIEW = "leadnexus.core.errors.csrf_failure"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "notifications.context_processors.unread_notifications",
                "accounts.context_processors.account",
                "crm.context_processors.crm",
            ],
        },
    },
]

# --- Data -------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several threads (dev server, eager tasks) share the file: wait on locks instead of failing.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Short queries only: compiling one with JIT costs more (tens of ms) than it could save.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default="")
# Seconds a Redis command (cache, rate limit, task publish) may wait for an answer. A Redis
# that stops answering without closing its connections (frozen, failing over, behind a
# network dropping packets) then costs a request this long per command instead of hanging it.
REDIS_TIMEOUT = env.float("REDIS_TIMEOUT_SECONDS", default=2.0)
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "leadnexus.core.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": REDIS_TIMEOUT, "socket_timeout": REDIS_TIMEOUT},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

SESSION_ENGINE = "django.contrib.sessions.backends.db"

# --- Auth -------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("email", "full_name")},
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
EMAIL_VERIFICATION_TTL = timedelta(hours=env.int("EMAIL_VERIFICATION_TTL_HOURS", default=48))
PASSWORD_RESET_CODE_TTL = timedelta(minutes=env.int("PASSWORD_RESET_CODE_TTL_MINUTES", default=10))
PASSWORD_RESET_CODE_MAX_ATTEMPTS = env.int("PASSWORD_RESET_CODE_MAX_ATTEMPTS", default=5)
PASSWORD_RESET_TOKEN_TTL = timedelta(minutes=env.int("PASSWORD_RESET_TOKEN_TTL_MINUTES", default=15))
PLATFORM_ORGANIZATION_NAME = env("PLATFORM_ORGANIZATION_NAME", default="LeadNexus Platform")
# A sign-in (page or API) ends this long after it began, however often its tokens are refreshed.
SESSION_MAX_AGE = timedelta(days=env.int("SESSION_MAX_AGE_DAYS", default=30))
# Seats (active members, the first user included) per plan; None is unlimited.
PLAN_LIMITS = {
    "free": {"seats": env.int("PLAN_FREE_SEATS", default=3)},
    "pro": {"seats": env.int("PLAN_PRO_SEATS", default=25)},
    "enterprise": {"seats": None},
}
OTP_TOTP_ISSUER = "LeadNexus"

# --- API --------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.SessionJWTAuthentication",
        "accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "leadnexus.core.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "leadnexus.core.pagination.PageNumberPagination",
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "leadnexus.core.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["leadnexus.core.quotas.QuotaThrottle"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "leadnexus.core.errors.api_exception_handler",
    # Export endpoints own `?format=csv|xlsx`.
    "URL_FORMAT_OVERRIDE": None,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
# How many proxies in front of the app append to X-Forwarded-For (client IPs for rate limits).
NUM_PROXIES = env.int("NUM_PROXIES", default=0)
PAGE_SIZE = env.int("PAGE_SIZE", default=25)
# Dotted path of `f(*, user) -> int`, the signed-in user's default page size (core cannot import accounts).
PAGE_SIZE_FOR_USER = "accounts.selectors.items_per_page_of"
MAX_PAGE_SIZE = 200

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=60)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "SIGNING_KEY": SECRET_KEY,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "LeadNexus API",
    "DESCRIPTION": "B2B lead marketplace with a sales CRM built in.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a Status (or Kind) choice set: name each one in the schema.
    "ENUM_NAME_OVERRIDES": {
        "LeadStatusEnum": "leads.models.Lead.Status",
        "ImportJobStatusEnum": "leads.models.ImportJob.Status",
        "ImportJobKindEnum": "leads.models.ImportJob.Kind",
        "ListingStatusEnum": "marketplace.models.Listing.Status",
        "OrderStatusEnum": "marketplace.models.Order.Status",
        "PaymentStatusEnum": "marketplace.models.Payment.Status",
        "PurchaseStatusEnum": "marketplace.models.Purchase.Status",
        "OpportunityStageEnum": "crm.models.Opportunity.Stage",
        "OpportunityOpenStageEnum": "crm.pipeline.OPEN_STAGE_CHOICES",
        "ActivityKindEnum": "crm.models.Activity.Kind",
        "WebhookDeliveryStatusEnum": "crm.models.WebhookDelivery.Status",
        "CampaignStatusEnum": "crm.models.Campaign.Status",
        "CampaignStepStatusEnum": "crm.models.CampaignStep.Status",
        "CampaignVariantEnum": "crm.models.Campaign.Variant",
        "CampaignAbMetricEnum": "crm.models.Campaign.AbMetric",
        "RecipientStatusEnum": "crm.models.CampaignRecipient.Status",
        "WebhookEventEnum": "crm.webhook_events.EVENT_CHOICES",
        "LedgerTransactionKindEnum": "marketplace.models.LedgerTransaction.Kind",
        "ReportExportStatusEnum": "analytics.models.ReportExport.Status",
        "ReportFormatEnum": "analytics.models.ReportExport.Format",
        "ReportFrequencyEnum": "analytics.models.ReportSubscription.Frequency",
        "ReportKindEnum": "analytics.reports.KIND_CHOICES",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "leadnexus.core.schema.add_error_responses",
        "leadnexus.core.schema.add_resource_links",
    ],
}

# --- Rate limits: "<count>/<second|minute|hour|day>", all multiplied by RATE_LIMIT_SCALE ---
RATE_LIMIT_SCALE = env.float("RATE_LIMIT_SCALE", default=1.0)
RATE_LIMITS = {
    "register": env("RATE_LIMIT_REGISTER", default="10/hour"),
    "login": env("RATE_LIMIT_LOGIN", default="20/minute"),
    "verify": env("RATE_LIMIT_VERIFY", default="10/hour"),
    "verify_resend": env("RATE_LIMIT_VERIFY_RESEND", default="5/hour"),
    "forgot_password": env("RATE_LIMIT_FORGOT_PASSWORD", default="5/hour"),
    "code_check": env("RATE_LIMIT_CODE_CHECK", default="10/hour"),
    "mfa_check": env("RATE_LIMIT_MFA_CHECK", default="10/15minute"),
    "form_submit": env("RATE_LIMIT_FORM_SUBMIT", default="20/hour"),
}
# Per-user quotas by endpoint group, same format and scale; endpoints name their group.
QUOTAS = {
    "search_goals": env("QUOTA_SEARCH_GOALS", default="100/day"),
    "validate": env("QUOTA_VALIDATE", default="5000/day"),
    "reports": env("QUOTA_REPORTS", default="50/day"),
    "lead_writes": env("QUOTA_LEAD_WRITES", default="500/hour"),
    # Checkouts and payment attempts: bounds card testing with stolen numbers.
    "payments": env("QUOTA_PAYMENTS", default="60/hour"),
}

# --- Email and notifications ------------------------------------------------
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="LeadNexus <no-reply@leadnexus.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)
EMAIL_MAX_ATTEMPTS = env.int("EMAIL_MAX_ATTEMPTS", default=5)
# An email still queued this long after its attempt was due, or still sending this long after
# the attempt began, lost its task: a beat job sends it again. Longer than any attempt can take.
EMAIL_STALE_AFTER = timedelta(seconds=env.int("EMAIL_STALE_AFTER_SECONDS", default=900))

# --- Celery -------------------------------------------------------------------
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
# Eager tasks keep their failures in the result (the outbox logs them), so retries run too.
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # workers log JSON lines like the web tier
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=15 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 60
# Redis re-delivers an unacknowledged task after the visibility timeout, so it must
# outlast the longest task (the hard time limit) or a running task would start twice.
# A publish waits at most REDIS_TIMEOUT per command and reconnects once, at once (else the
# broker counts as down and the outbox keeps the task), instead of retrying while it is down.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_TASK_TIME_LIMIT * 2,
    "socket_timeout": REDIS_TIMEOUT,
    "socket_connect_timeout": REDIS_TIMEOUT,
    "max_retries": 1,
    "interval_start": 0,
}
CELERY_BEAT_SCHEDULE_FILENAME = env(
    "CELERY_BEAT_SCHEDULE_FILENAME", default=str(BASE_DIR / "var" / "celerybeat-schedule")
)
CELERY_BEAT_SCHEDULE = {
    "outbox-resend": {"task": "leadnexus.core.tasks.outbox_resend", "schedule": 60.0},
    "backup-nightly": {"task": "leadnexus.core.tasks.backup_nightly", "schedule": crontab(hour=3, minute=0)},
    "events-purge": {"task": "leadnexus.core.tasks.events_purge", "schedule": crontab(hour=4, minute=0)},
    "emails-resume-stale": {"task": "notifications.tasks.emails_resume_stale", "schedule": 300.0},
    "email-bodies-purge": {"task": "notifications.tasks.email_bodies_purge", "schedule": crontab(hour=4, minute=15)},
    "crm-deleted-purge": {"task": "crm.tasks.deleted_purge", "schedule": crontab(hour=4, minute=30)},
    "idempotency-purge": {"task": "leadnexus.core.tasks.idempotency_purge", "schedule": 3600.0},
    "leads-purge": {"task": "leads.tasks.leads_purge", "schedule": 6 * 3600.0},
    "leads-rescore": {"task": "leads.tasks.leads_rescore", "schedule": 24 * 3600.0},
    "leads-response-alert": {"task": "leads.tasks.leads_response_alert", "schedule": 300.0},
    "imports-resume-stale": {"task": "leads.imports.tasks.imports_resume_stale", "schedule": 120.0},
    "saved-searches-notify": {"task": "marketplace.tasks.saved_searches_notify", "schedule": 300.0},
    "checkout-reservations-expire": {"task": "marketplace.tasks.reservations_expire", "schedule": 60.0},
    "earnings-release": {"task": "marketplace.tasks.earnings_release", "schedule": 3600.0},
    "activities-remind": {"task": "crm.tasks.activities_remind", "schedule": 300.0},
    "webhooks-retry": {"task": "crm.tasks.webhook_deliveries_retry", "schedule": 30.0},
    "campaigns-advance": {"task": "crm.tasks.campaigns_advance", "schedule": 60.0},
    "rollups-refresh": {"task": "analytics.tasks.rollups_refresh", "schedule": 60.0},
    "report-exports-resume-stale": {"task": "analytics.tasks.report_exports_resume_stale", "schedule": 120.0},
    "report-exports-purge": {"task": "analytics.tasks.report_exports_purge", "schedule": 3600.0},
    "report-subscriptions-send": {"task": "analytics.tasks.report_subscriptions_send", "schedule": 900.0},
    "daily-summaries-send": {"task": "analytics.tasks.daily_summaries_send", "schedule": 900.0},
}
OUTBOX_RESEND_AFTER = timedelta(seconds=env.int("OUTBOX_RESEND_AFTER_SECONDS", default=120))
IDEMPOTENCY_TTL = timedelta(hours=24)

# --- Leads ---------------------------------------------------------------------
# A deleted lead can be restored for this long; a beat job then purges it.
LEAD_RESTORE_WINDOW = timedelta(days=env.int("LEAD_RESTORE_DAYS", default=30))
# A lead scoring at least this much is "hot": its owner is told.
HOT_LEAD_SCORE = env.int("HOT_LEAD_SCORE", default=80)
IMPORT_MAX_FILE_BYTES = env.int("IMPORT_MAX_FILE_MB", default=20) * 1024 * 1024
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=200_000)
IMPORT_BATCH_SIZE = env.int("IMPORT_BATCH_SIZE", default=2000)
IMPORT_PREVIEW_ROWS = 20
# A processing import whose worker has not reported for this long is handed to another.
IMPORT_STALE_AFTER = timedelta(seconds=env.int("IMPORT_STALE_AFTER_SECONDS", default=300))
SUBMISSION_MAX_ATTACHMENT_BYTES = env.int("SUBMISSION_MAX_ATTACHMENT_MB", default=5) * 1024 * 1024
# Phone numbers without a country code are read as numbers of this region.
PHONE_DEFAULT_REGION = env("PHONE_DEFAULT_REGION", default="US")
# MX look-ups call out to DNS, so they are off unless turned on.
EMAIL_MX_CHECK = env.bool("EMAIL_MX_CHECK", default=False)
EMAIL_MX_TIMEOUT = env.int("EMAIL_MX_TIMEOUT_SECONDS", default=3)

# --- Marketplace ---------------------------------------------------------------
# Valid leads scoring at least this, from verified vendors, are approved without review
# (unset: every listing waits for staff).
LISTING_AUTO_APPROVE_SCORE = env.int("LISTING_AUTO_APPROVE_SCORE", default=None)
# Catalog pages are cached this long at most (every change to the catalog starts afresh at
# once; this bounds what no change announces, such as a vendor's new name). 0: no cache.
CATALOG_CACHE_SECONDS = env.int("CATALOG_CACHE_SECONDS", default=60)
# Dashboard answers are cached this long at most (every change they show starts afresh at
# once; this bounds what no change announces, such as a task falling overdue). 0: no cache.
DASHBOARD_CACHE_SECONDS = env.int("DASHBOARD_CACHE_SECONDS", default=30)

# --- Backups ---------------------------------------------------------------------------------
# `manage.py backup` writes here; with BACKUP_NIGHTLY the beat job backs up at 03:00 UTC and
# deletes backups older than BACKUP_KEEP_DAYS.
BACKUP_DIR = Path(env("BACKUP_DIR", default=str(BASE_DIR / "var" / "backups")))
BACKUP_NIGHTLY = env.bool("BACKUP_NIGHTLY", default=False)
BACKUP_KEEP_DAYS = env.int("BACKUP_KEEP_DAYS", default=14)
# Events (the timelines' and audit trail, webhook delivery logs with them) and the bodies of
# emails sent, and soft-deleted contacts and opportunities (counted from their deletion), are
# kept this many days, then purged by beat jobs from 04:00 UTC. 0: kept forever.
RETENTION_DAYS = env.int("RETENTION_DAYS", default=365)
# Events kept past RETENTION_DAYS: the proof that a person's data was exported or erased
# (they hold digests, never the person's details).
RETENTION_KEPT_EVENTS = ("accounts.person.exported", "accounts.person.erased")
# The platform's commission on each sale, in percent of the price.
MARKETPLACE_COMMISSION_PERCENT = Decimal(env("MARKETPLACE_COMMISSION_PERCENT", default="20"))
# A buyer may dispute a purchase this many days after it; the vendor's earning is released then.
DISPUTE_WINDOW_DAYS = env.int("DISPUTE_WINDOW_DAYS", default=14)
# At most this many disputes per buyer organization per calendar month.
DISPUTES_PER_MONTH = env.int("DISPUTES_PER_MONTH", default=20)
# Staff are told of a buyer whose refunded disputes reach this share of their purchases
# (percent), once they have bought at least DISPUTE_FLAG_MIN_PURCHASES.
DISPUTE_FLAG_PERCENT = env.int("DISPUTE_FLAG_PERCENT", default=30)
DISPUTE_FLAG_MIN_PURCHASES = env.int("DISPUTE_FLAG_MIN_PURCHASES", default=5)
# A listing held for a checkout that is not paid within this many minutes is given back.
CHECKOUT_RESERVATION_MINUTES = env.int("CHECKOUT_RESERVATION_MINUTES", default=15)
# A vendor is rated (its quality score shown and blended into its listings' score) once it
# has sold this many leads; before that it is "not rated yet" (`analytics.quality`).
VENDOR_QUALITY_MIN_SAMPLE = env.int("VENDOR_QUALITY_MIN_SAMPLE", default=20)

# --- CRM -------------------------------------------------------------------------------
# An open activity's assignee is reminded this many minutes before it is due.
ACTIVITY_REMINDER_MINUTES = env.int("ACTIVITY_REMINDER_MINUTES", default=30)
# Outbound webhooks: attempts per delivery, the first retry's delay (doubling after each
# failure), the wait for an answer, and how many deliveries in a row may fail for good
# before the endpoint is disabled.
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=8)
WEBHOOK_RETRY_BASE_SECONDS = env.int("WEBHOOK_RETRY_BASE_SECONDS", default=60)
WEBHOOK_TIMEOUT_SECONDS = env.int("WEBHOOK_TIMEOUT_SECONDS", default=5)
WEBHOOK_DISABLE_AFTER_FAILURES = env.int("WEBHOOK_DISABLE_AFTER_FAILURES", default=5)
# Webhook URLs resolving to private, loopback or link-local addresses are refused unless their
# host, address or network (CIDR) is listed here.
WEBHOOK_ALLOWED_HOSTS = env.list("WEBHOOK_ALLOWED_HOSTS", default=[])
# Email campaigns: messages per sending batch (one transaction each), campaign emails an
# organization may send per day (its own time zone's day), the sender's address (the
# organization's name is shown with it), and the mail service's signed bounce reports: the
# signing secret (unset: derived from SECRET_KEY) and their maximum age in seconds.
CAMPAIGN_BATCH_SIZE = env.int("CAMPAIGN_BATCH_SIZE", default=200)
CAMPAIGN_DAILY_CAP = env.int("CAMPAIGN_DAILY_CAP", default=2000)
CAMPAIGN_FROM_EMAIL = env("CAMPAIGN_FROM_EMAIL", default=DEFAULT_FROM_EMAIL)
CAMPAIGN_BOUNCE_SECRET = env("CAMPAIGN_BOUNCE_SECRET", default="")
CAMPAIGN_BOUNCE_TOLERANCE = env.int("CAMPAIGN_BOUNCE_TOLERANCE", default=300)

# --- Analytics: reports and summaries ---------------------------------------------------------
# A report with more rows than this runs as a background job (progress bar, emailed link).
REPORT_SYNC_MAX_ROWS = env.int("REPORT_SYNC_MAX_ROWS", default=5000)
# Report files are kept this many days for the history's downloads, then removed.
REPORT_RETENTION = timedelta(days=env.int("REPORT_RETENTION_DAYS", default=7))
# The longest range of dates a report may cover.
REPORT_MAX_SPAN_DAYS = env.int("REPORT_MAX_SPAN_DAYS", default=366)
# A report job records its progress every this many rows.
REPORT_PROGRESS_EVERY = env.int("REPORT_PROGRESS_EVERY", default=1000)
# A report job silent this long (its worker was killed) is queued again, at most
# REPORT_MAX_ATTEMPTS runs in all; then it is marked failed.
REPORT_STALE_AFTER = timedelta(seconds=env.int("REPORT_STALE_AFTER_SECONDS", default=600))
REPORT_MAX_ATTEMPTS = env.int("REPORT_MAX_ATTEMPTS", default=3)
# The daily summary email goes out from this hour (0-23) of each organization's local day.
DAILY_SUMMARY_HOUR = env.int("DAILY_SUMMARY_HOUR", default=17)

# --- Payments ----------------------------------------------------------------------------
# "mock": a local card processor (marketplace.payments.mock) with the test cards of the API
# guide; nothing leaves the machine.
PAYMENTS_PROVIDER = env("PAYMENTS_PROVIDER", default="mock")
# Signs the provider's webhook events (LeadNexus-Signature). A real provider gives it; unset,
# one is derived from SECRET_KEY (enough for the mock provider, which signs its own events).
PAYMENTS_WEBHOOK_SECRET = env("PAYMENTS_WEBHOOK_SECRET", default="")
# Events older than this (seconds) are refused: a captured event cannot be replayed later.
PAYMENTS_WEBHOOK_TOLERANCE = env.int("PAYMENTS_WEBHOOK_TOLERANCE", default=300)

# --- Internationalisation and money -----------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True
CURRENCY = env("CURRENCY", default="USD")

# --- Static files -------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = env("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = env("MEDIA_ROOT", default=str(BASE_DIR / "var" / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Uploaded attachments: outside any served URL, read back only through permission-checked views.
    "private": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": env("PRIVATE_MEDIA_ROOT", default=str(BASE_DIR / "var" / "private")), "base_url": None},
    },
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# --- Security -----------------------------------------------------------------
# Behind a TLS-terminating proxy in production (the health checks answer before this
# redirect, see leadnexus.core.health).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    },
}

# --- Metrics: /metrics (Prometheus) for internal scrapers ---------------------
# Networks (CIDR) or addresses allowed to read /metrics; the client address is taken as for
# rate limits (NUM_PROXIES), and the socket's peer must be in them too. Empty: by token only.
METRICS_ALLOWED_IPS = env.list(
    "METRICS_ALLOWED_IPS",
    default=["127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"],
)
# A bearer token that lets any address read /metrics (`Authorization: Bearer <token>`). Empty: none.
METRICS_TOKEN = env("METRICS_TOKEN", default="")

# --- Logging: JSON lines, each carrying the request id ------------------------
LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "leadnexus.core.logging.RequestIdFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["request_id"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # 4xx answers are expected traffic; the access log line already records them.
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "WARNING"},
    },
}
