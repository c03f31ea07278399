"""Goal search: a buyer types a business goal in plain words; it is read into a strategy
(`marketplace.goals.parser.goal_parse`) and kept in their history. The strategy is theirs to edit
(the chips above the results): remove a part, or change the parts outright.

Each goal read counts against the user's `search_goals` quota (settings.QUOTAS), from the
page and the API alike; a goal refused for its shape does not count.
"""

from django.db import transaction

from accounts.models import User
from leadnexus.core.events import publish
from leadnexus.core.exceptions import ValidationFailed
from leadnexus.core.quotas import quota_consume
from marketplace.goals.parser import STRATEGY_KEYS, goal_parse, strategy_clean
from marketplace.models import SearchGoal
from marketplace.selectors import require_buyer, search_goal_get

MAX_GOAL_LENGTH = 500


def search_goal_create(*, actor: User, goal: str) -> SearchGoal:
    """Read `goal` into a strategy and keep it in the actor's history."""
    require_buyer(actor)
    text = " ".join(str(goal or "").replace("\x00", " ").split())
    if not text:
        raise ValidationFailed("Describe what you are looking for.", details={"goal": ["This field is required."]})
    if len(text) > MAX_GOAL_LENGTH:
        raise ValidationFailed("The goal is too long.", details={"goal": [f"At most {MAX_GOAL_LENGTH} characters."]})
    quota_consume(user=actor, group="search_goals")
    strategy = goal_parse(text)
    with transaction.atomic():
        search_goal = SearchGoal.objects.create(
            user=actor, organization_id=actor.organization_id, goal=text, strategy=strategy
        )
        publish(
            "marketplace.search_goal.created",
            actor=actor,
            org=actor.organization_id,
            subject=search_goal,
            data={"goal": text, "strategy": strategy},
        )
    return search_goal


def search_goal_update(*, actor: User, goal_id: int, changes: dict) -> SearchGoal:
    """Change parts of a goal's strategy (`industries`, `locations`, `employee_min`,
    `employee_max`, `price_max`, `keywords`); the goal's words stay as typed."""
    with transaction.atomic():
        search_goal = search_goal_get(user=actor, goal_id=goal_id, lock=True)
        strategy, problems = strategy_clean(changes, current=search_goal.strategy)
        if problems:
            raise ValidationFailed("Some parts of the strategy are not valid.", details=problems)
        return _strategy_save(actor, search_goal, strategy)


def search_goal_chip_remove(*, actor: User, goal_id: int, part: str, value: str = "") -> SearchGoal:
    """Drop one chip of the strategy: one value of a list part (an industry, a place, a
    keyword), or a bound (`employees` drops both employee bounds, `price_max` the cap)."""
    with transaction.atomic():
        search_goal = search_goal_get(user=actor, goal_id=goal_id, lock=True)
        current = search_goal.strategy
        if part in ("industries", "locations", "keywords"):
            changes = {part: [item for item in current.get(part) or [] if item != value]}
        elif part == "employees":
            changes = {"employee_min": None, "employee_max": None}
        elif part in STRATEGY_KEYS:
            changes = {part: None}
        else:
            raise ValidationFailed("Not a part of a strategy.", details={"part": ["Not a part of a strategy."]})
        strategy, problems = strategy_clean(changes, current=current)
        if problems:  # the stored strategy itself no longer passes: say so rather than guess
            raise ValidationFailed("Some parts of the strategy are not valid.", details=problems)
        return _strategy_save(actor, search_goal, strategy)


def _strategy_save(actor: User, search_goal: SearchGoal, strategy: dict) -> SearchGoal:
    before = search_goal.strategy
    if strategy == before:
        return search_goal
    search_goal.strategy = strategy
    search_goal.save(update_fields=["strategy"])
    publish(
        "marketplace.search_goal.refined",
        actor=actor,
        org=search_goal.organization_id,
        subject=search_goal,
        data={"from": before, "to": strategy},
    )
    return search_goal
