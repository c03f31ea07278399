"""Every page route and API operation, requested as someone who may not use it on one
organization's records: anonymous visitors are sent to sign in (pages) or answered 401
(API); another organization's user and a sub-user without the permission are refused (403,
404 or a redirect) and never see the records; unsafe methods change nothing.

Unsafe requests carry the body of `routes.BODIES`, made to pass input validation so that the
permission check is what answers; without one (an empty body), a 400 or 415 counts as a refusal."""

from urllib.parse import quote

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.factories import OrganizationFactory, StaffUserFactory, UserFactory, bearer_token
from leadnexus.core.testing import assert_error
from tests.security.routes import BODIES, api_routes, api_schema, page_routes, unclassified, url_for
from tests.security.world import ALL_FLAGS, sub_user, world_build

pytestmark = pytest.mark.django_db

# What each kind of member may not see without the right (the world's texts by name). Shown to
# anyone by design: the vendor's name and listings in the public catalog, a member's name to
# their team, a capture form's name on the form itself.
PUBLIC_TEXTS = {"organization_name", "user_full_name", "listing_title", "listing_description", "form_name"}
LEADS_TEXTS = (
    "lead_",
    "contact_",
    "opportunity_",
    "lost_",
    "activity_",
    "campaign_",
    "form_notes",
    "rule_",
    "leads_file",
)
BUYING_TEXTS = ("dispute_details", "saved_search", "search_goal")
SELLING_TEXTS = ("pending_title", "sale_dispute", "listings_file")
PERSONAL_TEXTS = ("notification_title", "api_token_name", "saved_search", "search_goal")
HIDDEN_WITHOUT = {"can_view_leads": LEADS_TEXTS, "can_buy": BUYING_TEXTS, "can_sell": SELLING_TEXTS}
# Records a sales rep without can_view_all_org_leads reaches only when they are theirs.
OWNED = {"lead", "contact", "opportunity", "closed_opportunity", "activity", "submission", "lead_import"}
OWNED_TEXTS = ("lead_", "contact_", "opportunity_", "lost_", "activity_", "form_notes", "leads_file")
LEADS_FLAGS = {"can_view_leads", "can_edit_leads", "can_add_leads", "can_export"}
# Records of one user that even their organization's management never reaches.
PERSONAL = {"session", "token", "notification", "export", "subscription", "saved_search", "goal", "cart_item"}
# How a record names its organization, by model.
ORGANIZATION_FIELDS = ("organization", "vendor", "buyer", "user__organization", "form__organization")
OUTSIDERS = {"anonymous", "another organization's management"}
REFUSED = {301, 302, 303, 401, 403, 404, 405}
REFUSED_FORM = {*REFUSED, 400, 415}
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def test_every_route_and_operation_is_classified():
    problems = unclassified(api_schema())

    assert not problems, "Classify each route in tests/security/routes.py:\n" + "\n".join(problems)


class Sweep:
    """Requests every route as each actor and collects what went wrong."""

    def __init__(self, *, api: bool):
        self.api = api
        self.world = world_build(lambda name: f"zqv{name.replace('_', '')}")
        self.texts = {k: v.lower().encode() for k, v in self.world.texts.items() if k not in PUBLIC_TEXTS}
        owner = self.world.owner
        other = UserFactory(organization=OrganizationFactory(is_buyer=True, is_vendor=True))
        manager = User.Role.SALES_MANAGER
        self.actors = {
            "anonymous": self._client(None),
            "the organization's management": self._client(owner),
            "staff": self._client(StaffUserFactory()),
            "another organization's management": self._client(other),
            "a member without any permission": self._client(
                sub_user(owner, role=User.Role.SALES_REP, without=tuple(ALL_FLAGS))
            ),
            "a sales manager of the organization": self._client(sub_user(owner, role=manager)),
            "a sales rep of the organization": self._client(sub_user(owner, role=User.Role.SALES_REP)),
            "a sales rep who sees only their own records": self._client(
                sub_user(owner, role=User.Role.SALES_REP, without=("can_view_all_org_leads",))
            ),
        }
        for flag in ("can_view_leads", "can_edit_leads", "can_add_leads", "can_export", "can_buy", "can_sell"):
            self.actors[f"a sub-user without {flag}"] = self._client(sub_user(owner, role=manager, without=(flag,)))
        self.failures: list[str] = []

    def _client(self, user):
        if self.api:
            client = APIClient()
            if user:
                client.credentials(HTTP_AUTHORIZATION=f"Bearer {bearer_token(user)}")
        else:
            client = Client()
            if user:
                client.force_login(user)
        return client

    def value_of(self, obj: str | None):
        def value(name: str):
            if name == "kind":
                return "leads"
            if name == "app_label":
                return "accounts"
            if obj is None or name in ("token", "uidb64", "url"):
                return "x" if name != "object_id" else 1
            record = self.world.objects[obj]
            return record.slug if name == "slug" else record.pk

        return value

    def insiders(self, route) -> list[tuple[str, tuple[str, ...] | None, bool]]:
        """The members of the organization who may not use this route on the world's records,
        each with the texts they may not see there (None: all of them) and whether they must
        be refused outright (or, on `member` routes, may use it for their own records)."""
        requirement = route.requirement
        if requirement == "public":
            return []
        refused = requirement != "member" or route.obj in PERSONAL
        if requirement == "member":
            insiders = [("a member without any permission", None, refused)]
        elif requirement in ("staff", "management"):
            insiders = [("a sales manager of the organization", (), refused)]
        elif requirement == "manager":
            insiders = [("a sales rep of the organization", (), refused)]
        else:
            insiders = [(f"a sub-user without {requirement}", HIDDEN_WITHOUT.get(requirement, ()), refused)]
        if route.obj in PERSONAL:
            insiders.append(("a sales manager of the organization", PERSONAL_TEXTS, True))
        if route.obj in OWNED or (route.obj is None and requirement in LEADS_FLAGS):
            refused = route.obj is not None or self.body_names_record(route)
            insiders.append(("a sales rep who sees only their own records", OWNED_TEXTS, refused))
        return insiders

    def fingerprint(self) -> list:
        """The organization's records as stored (bookkeeping of sign-ins aside), and how many
        of each kind it has."""
        changing = {"last_seen", "last_login", "last_used_at"}
        records = [self.world.owner, self.world.owner.organization, *self.world.objects.values()]
        rows = []
        for obj in records:
            values = type(obj).objects.filter(pk=obj.pk).values().first() or {}
            rows.append((type(obj).__name__, sorted((k, str(v)) for k, v in values.items() if k not in changing)))
        organization = self.world.owner.organization
        for model in {type(obj) for obj in records}:
            fields = {field.name for field in model._meta.get_fields()}
            owner_field = next((name for name in ORGANIZATION_FIELDS if name.split("__")[0] in fields), None)
            if owner_field:
                rows.append((model.__name__, model.objects.filter(**{owner_field: organization}).count()))
        return rows

    def body_of(self, route) -> dict:
        make = BODIES.get(f"{route.method} {route.pattern}")
        return make(lambda name: self.world.objects[name].pk) if make else {}

    def body_names_record(self, route) -> bool:
        """The body names one of the organization's records by id (not another vendor's
        listing on sale): to anyone else that id is not found. Bulk actions answer id by id
        (skipped: not found); for them the records staying as they were is what counts."""
        if route.pattern.endswith("bulk/"):
            return False
        named = []
        make = BODIES.get(f"{route.method} {route.pattern}", lambda pk: {})
        make(lambda name: named.append(name) or self.world.objects[name].pk)
        return bool(set(named) - {"seller_listing"})

    def request(self, actor: str, route, path: str):
        client = self.actors[actor]
        method = route.method.lower()
        if route.method not in UNSAFE:
            return getattr(client, method)(path)
        body = self.body_of(route)
        if not self.api:
            return getattr(client, method)(path, body)
        upload = any(hasattr(value, "read") for value in body.values())
        headers = {"Idempotency-Key": f"{actor}-{path}"}
        return getattr(client, method)(path, body, format="multipart" if upload else "json", headers=headers)

    def body(self, response) -> bytes:
        if getattr(response, "streaming", False):
            return b"".join(response.streaming_content).lower()
        return response.content.lower()

    def check(self, route, actor: str, *, must_refuse: bool, hidden: tuple[str, ...] | None = None, not_found_ok=False):
        method = route.method
        path = url_for(route.pattern, self.value_of(route.obj))
        where = f"{method} {path} as {actor}"
        unsafe = method in UNSAFE
        before = self.fingerprint() if unsafe else None
        try:
            response = self.request(actor, route, path)
        except Exception as error:  # a crash is a finding like any other
            self.failures.append(f"{where}: raised {error!r}")
            return
        status = response.status_code
        if status >= 500:
            self.failures.append(f"{where}: {status}")
        elif actor == "anonymous":
            self.check_anonymous(route, response, path, where)
        elif must_refuse and status not in (
            REFUSED_FORM if unsafe and (not_found_ok or not self.body_of(route)) else REFUSED
        ):
            self.failures.append(f"{where}: {status}, expected a refusal")
        if actor != "anonymous" and route.requirement != "public":
            # What the request sent itself (an address to look up) may come back as sent.
            sent = str(self.body_of(route)).lower().encode() if method in UNSAFE else b""
            secrets = [v for k, v in self.texts.items() if (hidden is None or k.startswith(hidden)) and v not in sent]
            body = self.body(response)
            leaked = [s.decode() for s in secrets if s in body]
            if leaked:
                self.failures.append(f"{where}: {status} shows {', '.join(leaked)}")
        # Members may write their own records; another organization never writes this one's.
        if unsafe and (must_refuse or actor in OUTSIDERS) and self.fingerprint() != before:
            self.failures.append(f"{where}: {status} and the organization's records changed")

    def check_anonymous(self, route, response, path, where):
        if route.requirement == "public":
            return
        if self.api:
            try:
                assert_error(response, 401, "not_authenticated")
            except AssertionError as error:
                self.failures.append(f"{where}: {error}")
            return
        location = response.get("Location", "")
        expected = (f"/login/?next={quote(path)}", f"/admin/login/?next={quote(path)}")
        if response.status_code != 302 or not location.startswith(expected):
            self.failures.append(f"{where}: {response.status_code} {location!r}, expected a redirect to sign in")

    def run(self, routes):
        for route in routes:
            self.check(route, "anonymous", must_refuse=True)
            if route.requirement == "public" and route.method in UNSAFE:
                continue  # signing out, signing up, submitting a capture form: nothing to refuse
            names_record = self.body_names_record(route)
            refused_to_others = route.requirement == "staff" or (route.obj and route.requirement != "public")
            self.check(
                route,
                "another organization's management",
                must_refuse=bool(refused_to_others) or names_record,
                not_found_ok=names_record,  # a 400 saying the id named is not found
            )
            for actor, hidden, must_refuse in self.insiders(route):
                not_found_ok = actor == "a sales rep who sees only their own records" and names_record
                self.check(route, actor, must_refuse=must_refuse, hidden=hidden, not_found_ok=not_found_ok)
            if route.method == "GET" and route.requirement != "public" and not route.pattern.startswith("admin/"):
                self.check_allowed(route)
        return self.failures

    def check_allowed(self, route):
        """Whoever the route is for reaches the record its path names: the refusals above are
        not those of a path that answers no one."""
        actor = "staff" if route.requirement == "staff" else "the organization's management"
        path = url_for(route.pattern, self.value_of(route.obj))
        status = self.request(actor, route, path).status_code
        if status in (403, 404) or status >= 500:
            self.failures.append(f"GET {path} as {actor}: {status}, expected it to be allowed")


def test_no_page_serves_what_its_visitor_may_not_see():
    failures = Sweep(api=False).run(page_routes(api_schema()))

    assert not failures, f"{len(failures)} page requests got what they may not:\n" + "\n".join(failures)


def test_no_api_operation_serves_what_its_caller_may_not_see():
    failures = Sweep(api=True).run(api_routes(api_schema()))

    assert not failures, f"{len(failures)} API requests got what they may not:\n" + "\n".join(failures)
