from django.utils.functional import SimpleLazyObject

from notifications.selectors import notification_unread_count


def unread_notifications(request):
    """The bell's count, queried only if the page shows it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notification_count": SimpleLazyObject(lambda: notification_unread_count(user=user))}
