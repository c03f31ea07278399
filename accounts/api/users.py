from rest_framework import mixins, viewsets

from accounts.api.serializers import UserOutputSerializer
from accounts.models import User
from accounts.selectors import user_get, user_list


class UserViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Members of my organization, for assignment pickers and integrations."""

    serializer_class = UserOutputSerializer
    # Names the model for schema introspection only: get_queryset() scopes every request.
    queryset = User.objects.none()
    lookup_value_regex = r"\d+"
    search_fields = ["email", "full_name"]
    ordering_fields = ["email", "full_name", "date_joined"]
    filterset_fields = ["role", "is_active"]

    def get_queryset(self):
        return user_list(user=self.request.user)

    def get_object(self):
        return user_get(user=self.request.user, user_id=int(self.kwargs["pk"]))
