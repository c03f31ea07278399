from accounts import policy


def account(request):
    """What the layout needs to know about the signed-in user: which settings pages to offer."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "can_manage_team": policy.can_manage_team(user),
        "can_manage_organization": policy.can_manage_organization(user),
    }
