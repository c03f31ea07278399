from types import SimpleNamespace

import dns.exception
import dns.resolver
import pytest

from leads import validation
from leads.models import Lead
from leads.validation import contact_check, domain_receives_mail, is_disposable_domain

V = Lead.ValidationStatus


class FakeResolver:
    """Answers DNS questions from a table: (domain, rdtype) → records, or an exception to raise.
    Anything not in the table has no answer."""

    def __init__(self, answers: dict):
        self.answers = answers
        self.calls: list[tuple[str, str]] = []

    def resolve(self, domain, rdtype):
        self.calls.append((domain, rdtype))
        answer = self.answers.get((domain, rdtype))
        if answer is None:
            raise dns.resolver.NoAnswer()
        if isinstance(answer, Exception):
            raise answer
        return answer


def mx(*hosts):
    return [SimpleNamespace(preference=10 * n, exchange=f"{host}.") for n, host in enumerate(hosts, 1)]


@pytest.fixture
def resolver(monkeypatch, settings):
    """MX look-ups on, answered by a fake resolver (no network)."""
    settings.EMAIL_MX_CHECK = True
    fake = FakeResolver({})
    monkeypatch.setattr(validation, "dns_resolver", lambda: fake)
    domain_receives_mail.cache_clear()
    yield fake
    domain_receives_mail.cache_clear()


# --- Email --------------------------------------------------------------------------------------


def test_a_valid_email_is_normalised_and_valid():
    # given an address with a capitalised domain and spaces around it
    # when it is checked
    check = contact_check(email="  John.Doe@Example.COM ")

    # then the domain is lower-cased, the person's part kept, and it is valid
    assert check.email == "John.Doe@example.com"
    assert check.email_ok
    assert check.status == V.VALID
    assert check.reasons == ["phone_missing"]
    assert check.problems == {}


@pytest.mark.parametrize("email", ["bad@", "no-at-sign.com", "a@localhost", "two@@example.com", "a b@example.com"])
def test_a_malformed_email_is_invalid_and_kept_as_given(email):
    check = contact_check(email=email)

    assert not check.email_ok
    assert check.email == email.strip()
    assert "email_invalid" in check.reasons
    assert check.status == V.INVALID  # and no phone to fall back on
    assert check.problems == {"email": [validation.REASONS["email_invalid"]]}


@pytest.mark.parametrize("email", ["x@mailinator.com", "x@sub.mailinator.com", "Someone@GUERRILLAMAIL.COM"])
def test_a_disposable_domain_makes_the_email_risky(email):
    check = contact_check(email=email)

    assert check.email_ok
    assert "email_disposable" in check.reasons
    assert check.status == V.RISKY


def test_disposable_domains_match_their_subdomains_but_not_lookalikes():
    assert is_disposable_domain("mailinator.com")
    assert is_disposable_domain("inbox.mailinator.com")
    assert not is_disposable_domain("mymailinator.com")
    assert not is_disposable_domain("mailinator.com.acme.com")
    assert not is_disposable_domain("com")


@pytest.mark.parametrize("email", ["info@acme.com", "SALES@acme.com", "sales+eu@acme.com", "no-reply@acme.com"])
def test_a_shared_mailbox_makes_the_email_risky(email):
    check = contact_check(email=email)

    assert check.email_ok
    assert "email_role" in check.reasons
    assert check.status == V.RISKY


def test_a_personal_mailbox_at_the_same_domain_is_not_a_role():
    assert "email_role" not in contact_check(email="infographics.jane@acme.com").reasons


# --- MX look-ups ----------------------------------------------------------------------------------


def test_mx_look_ups_are_off_by_default(monkeypatch, settings):
    # given the setting off and a resolver that would fail the test if asked
    settings.EMAIL_MX_CHECK = False

    def no_dns():
        raise AssertionError("DNS must not be asked")

    monkeypatch.setattr(validation, "dns_resolver", no_dns)

    # when an email is checked, then it is valid without a look-up
    assert contact_check(email="jane@nowhere-at-all.example").status == V.VALID


def test_a_domain_with_mail_servers_is_valid(resolver):
    resolver.answers[("acme.com", "MX")] = mx("mx1.acme.com", "mx2.acme.com")

    check = contact_check(email="jane@acme.com")

    assert check.status == V.VALID
    assert not {"email_no_mx", "email_mx_unknown"} & set(check.reasons)


def test_a_domain_that_does_not_exist_does_not_receive_mail(resolver):
    resolver.answers[("gone.example", "MX")] = dns.resolver.NXDOMAIN()

    check = contact_check(email="jane@gone.example")

    assert check.email_ok  # still an address; the lead is risky, not rejected
    assert "email_no_mx" in check.reasons
    assert check.status == V.RISKY


def test_a_domain_with_no_mx_and_no_address_does_not_receive_mail(resolver):
    # given every record type unanswered (the fake's default)
    check = contact_check(email="jane@parked.example")

    assert "email_no_mx" in check.reasons
    assert [rdtype for _, rdtype in resolver.calls] == ["MX", "A", "AAAA"]


def test_a_domain_with_only_an_address_record_receives_mail(resolver):
    resolver.answers[("small.example", "A")] = [SimpleNamespace(address="93.184.216.34")]

    assert "email_no_mx" not in contact_check(email="jane@small.example").reasons


def test_a_null_mx_means_no_mail(resolver):
    resolver.answers[("nomail.example", "MX")] = [SimpleNamespace(preference=0, exchange=".")]

    assert "email_no_mx" in contact_check(email="jane@nomail.example").reasons


def test_a_dns_timeout_degrades_to_unknown(resolver):
    resolver.answers[("slow.example", "MX")] = dns.exception.Timeout()

    check = contact_check(email="jane@slow.example")

    assert "email_mx_unknown" in check.reasons
    assert check.status == V.VALID  # unknown is not held against the lead


def test_look_ups_are_cached_per_domain(resolver):
    resolver.answers[("acme.com", "MX")] = mx("mx.acme.com")

    for name in ("a", "b", "c"):
        contact_check(email=f"{name}@acme.com")

    assert resolver.calls == [("acme.com", "MX")]


def test_an_unknown_answer_is_asked_again_once_its_short_cache_expires(resolver, monkeypatch):
    # given a DNS that timed out once and then answers
    monkeypatch.setattr(validation, "_MX_UNKNOWN_FOR", 0)
    resolver.answers[("flaky.example", "MX")] = dns.exception.Timeout()
    assert domain_receives_mail("flaky.example") is None

    # when it is asked again after the short cache
    resolver.answers[("flaky.example", "MX")] = mx("mx.flaky.example")

    # then the new answer counts
    assert domain_receives_mail("flaky.example") is True


# --- Phone ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "phone", ["(415) 555-0123", "415-555-0123", "415.555.0123", "+1 415 555 0123", "1-415-555-0123", "4155550123"]
)
def test_phones_are_stored_as_e164_with_the_default_region(phone):
    check = contact_check(phone=phone)

    assert check.phone == "+14155550123"
    assert check.phone_ok
    assert check.status == V.VALID  # a valid phone alone is enough


def test_the_default_region_is_a_setting(settings):
    settings.PHONE_DEFAULT_REGION = "GB"

    assert contact_check(phone="020 7946 0958").phone == "+442079460958"


def test_a_region_given_with_the_number_wins_over_the_default():
    assert contact_check(phone="030 901820", region="DE").phone == "+4930901820"


def test_an_international_number_ignores_the_default_region():
    assert contact_check(phone="+44 20 7946 0958").phone == "+442079460958"


def test_a_number_of_plausible_length_that_is_not_a_real_number_is_possible_only():
    # given a US number in an area code that does not exist
    check = contact_check(phone="+1 555 123 4567")

    assert check.phone == "+15551234567"
    assert check.phone_ok  # usable to dedupe and to try, but flagged
    assert "phone_possible" in check.reasons
    assert check.status == V.RISKY


@pytest.mark.parametrize("phone", ["12345", "call me maybe", "+999 1234", "0" * 40])
def test_an_invalid_phone_is_flagged_and_kept_as_given(phone):
    check = contact_check(phone=phone)

    assert not check.phone_ok
    assert check.phone == phone
    assert "phone_invalid" in check.reasons
    assert check.status == V.INVALID


# --- Website ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "normalised"),
    [
        ("Example.com", "https://example.com"),
        ("example.com/", "https://example.com"),
        ("www.Example.com/About/", "https://www.example.com/About"),
        ("HTTP://WWW.EXAMPLE.COM/path/?q=1#team", "http://www.example.com/path?q=1"),
        ("https://shop.example.co.uk:8443/", "https://shop.example.co.uk:8443"),
    ],
)
def test_websites_are_normalised(given, normalised):
    check = contact_check(email="jane@acme.com", website=given)

    assert check.website == normalised
    assert "website_invalid" not in check.reasons


@pytest.mark.parametrize(
    "website", ["javascript:alert(1)", "not a site", "ftp://example.com", "[abc", "https://user:pw@example.com"]
)
def test_an_invalid_website_is_flagged_but_does_not_make_the_lead_unreachable(website):
    check = contact_check(email="jane@acme.com", website=website)

    assert check.website == website
    assert check.problems == {"website": [validation.REASONS["website_invalid"]]}
    assert check.status == V.VALID


# --- Status --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "phone", "status"),
    [
        ("jane@acme.com", "(415) 555-0123", V.VALID),
        ("jane@acme.com", "", V.VALID),
        ("", "(415) 555-0123", V.VALID),
        ("not-an-email", "(415) 555-0123", V.RISKY),
        ("jane@acme.com", "12345", V.RISKY),
        ("not-an-email", "12345", V.INVALID),
        ("", "", V.INVALID),
    ],
)
def test_the_status_says_whether_and_how_surely_the_lead_can_be_reached(email, phone, status):
    check = contact_check(email=email, phone=phone)

    assert check.status == status
    assert check.reachable == (status != V.INVALID)


def test_missing_values_are_reasons_but_not_problems():
    check = contact_check()

    assert check.reasons == ["email_missing", "phone_missing"]
    assert check.problems == {}
