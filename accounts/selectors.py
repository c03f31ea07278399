from django.db.models import QuerySet

from accounts.managers import normalize_email
from accounts.models import User
from leadnexus.core.exceptions import NotFound


def user_list(*, user: User) -> QuerySet[User]:
    """The members of the viewer's organization."""
    return User.objects.filter(organization_id=user.organization_id).select_related(
        "organization", "sub_user_permissions"
    )


def user_get(*, user: User, user_id: int) -> User:
    member = user_list(user=user).filter(pk=user_id).first()
    if member is None:
        raise NotFound("User not found.")
    return member


def user_find_by_email(*, email: str) -> User | None:
    """For sign-in and recovery flows, before anyone is authenticated."""
    return User.objects.select_related("organization").filter(email=normalize_email(email)).first()
