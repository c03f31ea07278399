import factory
from rest_framework.test import APIClient

from accounts.devices import Device
from accounts.models import Organization, SubUserPermissions, User, UserSession
from accounts.services.sessions import jwt_issue, session_start
from accounts.services.users import staff_user_create

PASSWORD = "correct-horse-battery"


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Faker("company")
    slug = factory.Sequence(lambda n: f"org-{n}")
    is_buyer = True
    is_vendor = False
    verified = True


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    full_name = factory.Faker("name")
    organization = factory.SubFactory(OrganizationFactory)
    role = User.Role.MANAGEMENT
    email_verified = True
    password = factory.django.Password(PASSWORD)


class SubUserFactory(UserFactory):
    """A sub-user of a management user, with explicit permission flags."""

    parent = factory.SubFactory(UserFactory)
    organization = factory.SelfAttribute("parent.organization")
    role = User.Role.SALES_REP

    @factory.post_generation
    def permissions(self, create, flags, **kwargs):
        if create:
            SubUserPermissions.objects.create(user=self, **(flags or {}))


def StaffUserFactory(**kwargs) -> User:
    """Staff are made the way `createsuperuser` makes them: in the platform org."""
    n = User.objects.count()
    return staff_user_create(email=kwargs.get("email", f"staff{n}@example.com"), password=PASSWORD)


def bearer_token(user: User) -> str:
    """An access token from a fresh API sign-in of `user` (no sign-in email)."""
    device = Device(ip="127.0.0.1", user_agent="pytest")
    return jwt_issue(session=session_start(user=user, kind=UserSession.Kind.API, device=device, notify=False)).access


def bearer_client(user: User) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {bearer_token(user)}")
    return client
