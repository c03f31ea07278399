from rest_framework import mixins, viewsets
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from leadnexus.core.ids import id_of


class PublicAPIView(APIView):
    """An endpoint for callers who are not signed in (sign-up, sign-in, recovery): it neither
    requires nor reads credentials, so a stale token cannot get in the way."""

    permission_classes = [AllowAny]
    authentication_classes = []


def validated(serializer_class, request, **context) -> dict:
    """The request body, validated for shape by an input serializer (400 with field details
    otherwise). The request is in the serializer's context for scoped fields."""
    serializer = serializer_class(data=request.data, context={"request": request, **context})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class ServiceViewSet(viewsets.GenericViewSet):
    """Base of viewsets whose writes call services: ids in the path are within the database's
    range, there is no full-replace PUT, and `respond` renders what a service returned."""

    lookup_value_regex = "[0-9]{1,19}"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    @property
    def object_id(self) -> int:
        return id_of(self.kwargs[self.lookup_url_kwarg or self.lookup_field])

    def validated(self, serializer_class) -> dict:
        return validated(serializer_class, self.request, view=self)

    def respond(self, instance, *, status: int = 200) -> Response:
        return Response(self.get_serializer(instance).data, status=status)


class RecordViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    ServiceViewSet,
):
    """A record's list, detail, create, change (PATCH) and delete; each viewset overrides the
    writes to call its services."""
