from django.utils.functional import SimpleLazyObject

from crm.policy import can_manage_webhooks


def crm(request):
    """Whether the settings menu offers the webhooks page, decided only when a page shows it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"can_manage_webhooks": SimpleLazyObject(lambda: can_manage_webhooks(user))}
