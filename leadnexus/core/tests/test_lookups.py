import pytest

from accounts.models import User
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_any_matches_exactly_what_in_matches():
    users = UserFactory.create_batch(5)
    wanted = [users[0].email, users[3].email, "nobody@example.com"]
    assert set(User.objects.filter(email__any=wanted)) == set(User.objects.filter(email__in=wanted))
    assert set(User.objects.filter(email__any=set(wanted))) == {users[0], users[3]}
    assert not User.objects.filter(email__any=[]).exists()
    # combined with other conditions, and with thousands of values in one parameter
    many = [f"x{n}@example.com" for n in range(5000)] + [users[1].email]
    assert list(User.objects.filter(email__any=many, is_active=True)) == [users[1]]
