from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser as DRFJSONParser


class JSONParser(DRFJSONParser):
    """DRF's parser, with every unreadable body (malformed, or nested deep enough to exhaust
    the recursion limit) answered with one plain message instead of Python internals."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except (ParseError, RecursionError):
            raise ParseError("The request body is not valid JSON.") from None
