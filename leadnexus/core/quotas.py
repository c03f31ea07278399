"""Per-user quotas by endpoint group (`QUOTAS` in settings: search goals a day, lead writes
an hour...). A view names its group and the `QuotaThrottle` counts each request of an
authenticated user against it, atomically in the cache; past the quota the answer is
429 `throttled` with `Retry-After`.

    class SearchGoalViewSet(...):
        quota_group = "search_goals"                   # every request of the view
        quota_groups = {"create": "lead_writes"}       # or per viewset action
"""

from django.conf import settings
from rest_framework.throttling import BaseThrottle

from leadnexus.core.ratelimit import count_hit


def quota_consume(*, user, group: str, amount: int = 1) -> None:
    count_hit(
        f"quota:{group}",
        str(user.pk),
        settings.QUOTAS[group],
        amount=amount,
        message=f"You have used your quota of {{limit}} {group.replace('_', ' ')} for now. "
        "Try again in {retry_after} seconds.",
    )


class QuotaThrottle(BaseThrottle):
    def allow_request(self, request, view):
        group = getattr(view, "quota_groups", {}).get(getattr(view, "action", None)) or getattr(
            view, "quota_group", None
        )
        if group and request.user.is_authenticated:
            quota_consume(user=request.user, group=group)
        return True
