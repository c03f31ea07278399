from django.utils.functional import SimpleLazyObject

from accounts import policy
from accounts.selectors import preferences_of


def account(request):
    """What the layout needs to know about the signed-in user: which settings pages to offer,
    and the preferences it renders (theme, compact mode): one query, made only when a page
    shows them."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "can_manage_team": policy.can_manage_team(user),
        "can_manage_organization": policy.can_manage_organization(user),
        "can_handle_personal_data": policy.can_export_personal_data(user) or policy.can_erase_personal_data(user),
        "ui_preferences": SimpleLazyObject(lambda: preferences_of(user=user)),
    }
