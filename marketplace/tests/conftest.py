"""Fixtures shared by the marketplace's tests (a module may define its own `vendor`)."""

import pytest

from accounts.tests.factories import UserFactory
from marketplace.tests.factories import VendorFactory


@pytest.fixture
def vendor():
    """A vendor organization."""
    return VendorFactory()


@pytest.fixture
def seller(vendor):
    """A member of `vendor`, allowed to sell."""
    return UserFactory(organization=vendor)


@pytest.fixture
def buyer():
    """A management member of a buyer organization: allowed to buy."""
    return UserFactory()
