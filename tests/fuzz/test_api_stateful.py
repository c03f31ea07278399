"""Stateful fuzzing: schemathesis chains operations along the schema's OpenAPI links (each
create to the reads, updates, actions and deletes of the record it made, see
`leadnexus.core.schema.add_resource_links`, plus the links schemathesis infers from the
schemas, e.g. an id in a list answer to the detail operation), as each role of the seeded
dataset. Every answer on the way passes the same checks as the single-request fuzzing."""

import pytest
from django.db import transaction
from hypothesis import HealthCheck, Phase
from hypothesis import settings as hypothesis_settings

from tests.fuzz.api import CHECKS, config, load
from tests.fuzz.dataset import ROLES

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db]

# Budget: per role, 25 scenarios of at most 8 steps (about 120 requests) cost ~3 s of CPU
# (80 scenarios measured at ~9 s a role): ~15 s in all.
SCENARIOS = 25
STEPS = 8
schema = load(config(max_examples=1, phases={"stateful": {"enabled": True, "max-steps": STEPS}}))
StateMachine = schema.as_state_machine()


@pytest.mark.parametrize("role", ROLES)
def test_api_stateful(role_headers):
    class SignedIn(StateMachine):
        # Each scenario starts from the seeded data: its writes are rolled back after it, so
        # a failing scenario replays the same way.
        def setup(self):
            self.scenario = transaction.atomic()
            self.scenario._from_testcase = True
            self.scenario.__enter__()

        def teardown(self):
            transaction.set_rollback(True)
            self.scenario.__exit__(None, None, None)

        def get_call_kwargs(self, case):
            return {"headers": role_headers}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=CHECKS, headers=role_headers)

    SignedIn.run(
        settings=hypothesis_settings(
            max_examples=SCENARIOS,
            stateful_step_count=STEPS,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
    )
