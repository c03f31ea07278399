"""`field__any=[...]`: membership in a long list, sent to PostgreSQL as ONE array parameter
(`field = ANY(%s)`) instead of one placeholder per value, which costs client-side quoting and
server-side parsing per value when batches look up thousands of keys at once. Other
databases get the usual `IN (...)`."""

from django.db.models import Field, Lookup


@Field.register_lookup
class Any(Lookup):
    lookup_name = "any"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = list(self.rhs)
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s)", [*lhs_params, values]
        if not values:
            return "1 = 0", []
        return f"{lhs} IN ({', '.join(['%s'] * len(values))})", [*lhs_params, *values]
