"""Round-robin under concurrent creates: the rule's row lock makes each create take its own
turn. Row locks only exist on PostgreSQL, so this runs there (CI) and is skipped on SQLite."""

import threading
from collections import Counter

import pytest
from django.db import connection

from accounts.models import User
from accounts.tests.factories import OrganizationFactory, UserFactory
from leads.models import Lead
from leads.services.assignment import assignees_pick
from leads.services.records import lead_create
from leads.tests.factories import AssignmentRuleFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL: set DATABASE_URL=postgres://... to run the concurrency tests")


def _run_together(count: int, work) -> list:
    """Run `work(n)` in `count` threads released at the same instant; their results and errors."""
    barrier = threading.Barrier(count)
    results, errors = [None] * count, []

    def run(n):
        try:
            barrier.wait(timeout=10)
            results[n] = work(n)
        except Exception as exc:  # reported by the test, not lost in the thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, errors


def test_concurrent_creates_share_the_round_robin_evenly():
    # Given a round-robin rule over three reps and a manager
    org = OrganizationFactory()
    manager = UserFactory(organization=org, role=User.Role.SALES_MANAGER)
    reps = [UserFactory(organization=org, role=User.Role.SALES_REP) for _ in range(3)]
    AssignmentRuleFactory(organization=org, members=reps)

    # When twelve leads are created at the same moment
    _, errors = _run_together(
        12, lambda n: lead_create(actor=manager, data={"email": f"rush{n}@example.com"}, source="api").lead.pk
    )

    # Then none failed (no deadlock) and each rep got exactly 12 / 3 of them
    assert errors == []
    owners = Counter(Lead.objects.filter(organization=org).values_list("assigned_to_id", flat=True))
    assert owners == {rep.pk: 4 for rep in reps}


def test_concurrent_batches_never_take_the_same_turn():
    # Given a round-robin over four reps
    org = OrganizationFactory()
    reps = [UserFactory(organization=org, role=User.Role.SALES_REP) for _ in range(4)]
    AssignmentRuleFactory(organization=org, members=reps)

    # When six import batches of 6 ask for assignees at once
    results, errors = _run_together(
        6, lambda n: [u.pk for u in assignees_pick(organization_id=org.pk, source="import", count=6)]
    )

    # Then the 36 turns are spread 9 to each rep
    assert errors == []
    assert Counter(pk for batch in results for pk in batch) == {rep.pk: 9 for rep in reps}
