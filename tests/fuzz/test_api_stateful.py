"""Stateful fuzzing: schemathesis chains operations along the schema's OpenAPI links (each
create to the reads, updates, actions and deletes of the record it made, see
`leadnexus.core.schema.add_resource_links`, plus the links schemathesis infers from the
schemas, e.g. an id in a list answer to the detail operation), as each role of the seeded
dataset. Every answer on the way passes the same checks as the single-request fuzzing."""

import pytest
from hypothesis import HealthCheck, Phase
from hypothesis import settings as hypothesis_settings

from tests.fuzz.api import CHECKS, config, load
from tests.fuzz.dataset import ROLES

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db]

# Budget: per role, 12 scenarios of at most 8 steps, about 60 requests at ~15 ms each plus
# the state machine's own generation: ~5 s a role, ~25 s in all.
SCENARIOS = 12
STEPS = 8
schema = load(config(max_examples=1, phases={"stateful": {"enabled": True, "max-steps": STEPS}}))
StateMachine = schema.as_state_machine()


@pytest.mark.parametrize("role", ROLES)
def test_api_stateful(role_headers):
    class SignedIn(StateMachine):
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
