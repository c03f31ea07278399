import pytest

from accounts.tests.factories import UserFactory


@pytest.fixture
def manager():
    """A manager (the organization's first user), who sees every record of it."""
    return UserFactory()


@pytest.fixture
def rep(manager):
    """A sales rep of the manager's organization, who sees their own records."""
    return UserFactory(organization=manager.organization, role="sales_rep")
