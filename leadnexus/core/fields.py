from rest_framework import serializers

from leadnexus.core.ids import is_db_id


class ScopedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """An id naming another object, looked up through the selector that scopes that model
    to the requesting user: an id the user may not see is "not found", never accepted.

        assigned_to = ScopedPrimaryKeyRelatedField(selector=user_list, model=User)
    """

    default_error_messages = {
        "does_not_exist": "Not found: no object with id {pk_value} is available to you.",
    }

    def __init__(self, *, selector, model, **kwargs):
        self.selector = selector
        # An empty queryset of the model tells DRF and the schema generator its type.
        kwargs.setdefault("queryset", model._default_manager.none())
        super().__init__(**kwargs)

    def get_queryset(self):
        return self.selector(user=self.context["request"].user)

    def to_internal_value(self, data):
        if isinstance(data, int) and not is_db_id(data):
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)
