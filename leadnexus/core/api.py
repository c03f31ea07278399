from rest_framework.permissions import AllowAny
from rest_framework.views import APIView


class PublicAPIView(APIView):
    """An endpoint for callers who are not signed in (sign-up, sign-in, recovery): it neither
    requires nor reads credentials, so a stale token cannot get in the way."""

    permission_classes = [AllowAny]
    authentication_classes = []
