"""Saved-search alerts: newly approved listings are matched against saved searches once,
and `marketplace.tasks.saved_searches_notify` tells each owner once per new match, in one
notification per user and run, as their notification settings say."""

from decimal import Decimal

import pytest

from accounts.tests.factories import UserFactory
from leadnexus.core.models import Event
from marketplace.models import Listing, SavedSearchMatch
from marketplace.services.listings import listing_approve, listing_create
from marketplace.services.saved_searches import saved_search_matches_record, saved_search_open
from marketplace.tasks import saved_searches_notify_task
from marketplace.tests.factories import PendingListingFactory, SavedSearchFactory, VendorFactory
from notifications.models import EmailMessage, Notification, NotificationSettings, NotificationType

pytestmark = pytest.mark.django_db


def _approve(staff_user, **fields) -> Listing:
    listing = PendingListingFactory(**fields)
    listing_approve(actor=staff_user, listing_id=listing.pk)
    return listing


def _notifications(user):
    return list(Notification.objects.filter(user=user, type=NotificationType.NEW_LEAD).order_by("pk"))


def test_an_approved_listing_is_matched_against_saved_searches(user, staff_user):
    # Given saved searches that do and do not fit a listing
    fits = SavedSearchFactory(user=user, filters={"industry": ["Software"], "location": ["CA"], "price_max": "50"})
    wrong_place = SavedSearchFactory(user=user, filters={"industry": ["Software"], "location": ["TX"]})
    too_cheap = SavedSearchFactory(user=user, filters={"price_max": "10"})
    everything = SavedSearchFactory(user=user, filters={})

    # When the listing is approved
    listing = _approve(staff_user, industry="Software", location="San Diego, CA", price=Decimal("45.00"))

    # Then the fitting searches record it, once
    matched = set(SavedSearchMatch.objects.values_list("saved_search_id", flat=True))
    assert matched == {fits.pk, everything.pk}
    assert wrong_place.pk not in matched and too_cheap.pk not in matched
    assert saved_search_matches_record(listing_id=listing.pk) == 0
    assert SavedSearchMatch.objects.count() == 2


def test_matching_reads_filters_as_the_catalog_does(user, staff_user):
    # Search words over title, description, industry, location and company; minimum score; exclusive
    by_word = SavedSearchFactory(user=user, filters={"search": "chief"})
    by_score = SavedSearchFactory(user=user, filters={"min_score": "80"})
    shared = SavedSearchFactory(user=user, filters={"exclusive": "false"})
    _approve(staff_user, title="Chief Revenue Officer", lead_score=70)
    assert set(SavedSearchMatch.objects.values_list("saved_search_id", flat=True)) == {by_word.pk}
    _approve(staff_user, title="Buyer", lead_score=85, exclusive=False, max_sales=3)
    assert set(SavedSearchMatch.objects.values_list("saved_search_id", flat=True)) == {
        by_word.pk,
        by_score.pk,
        shared.pk,
    }


def test_listings_not_in_the_catalog_and_own_listings_do_not_match(user, staff_user):
    # Given a saved search of a member of an organization that also sells
    saved = SavedSearchFactory(user=user, filters={})
    vendor_org = user.organization
    vendor_org.is_vendor = True
    vendor_org.save()

    # A listing still pending, one withdrawn before matching ran, and the organization's own
    pending = PendingListingFactory()
    withdrawn = PendingListingFactory(status=Listing.Status.WITHDRAWN)
    Listing.objects.filter(pk=withdrawn.pk).update(approval_status=Listing.ApprovalStatus.APPROVED)
    _approve(staff_user, vendor=vendor_org)

    assert saved_search_matches_record(listing_id=pending.pk) == 0
    assert saved_search_matches_record(listing_id=withdrawn.pk) == 0
    assert not SavedSearchMatch.objects.filter(saved_search=saved).exists()


def test_a_new_match_is_announced_once(user, staff_user):
    # Given a saved search, and two matching listings approved
    saved = SavedSearchFactory(user=user, name="Software anywhere")
    first = _approve(staff_user, title="VP Engineering at Initech")
    second = _approve(staff_user, title="CTO at Hooli")

    # When the alert task runs twice
    assert saved_searches_notify_task.delay().get() == 1
    assert saved_searches_notify_task.delay().get() == 0

    # Then one notification names both
    [notification] = _notifications(user)
    assert notification.title == "2 new listings match your saved search"
    assert "Software anywhere" in notification.message
    assert first.title in notification.message and second.title in notification.message
    assert notification.link == f"/marketplace/saved-searches/{saved.pk}/"
    assert not SavedSearchMatch.objects.filter(notified_at__isnull=True).exists()

    # When a third is approved later
    third = _approve(staff_user, title="Head of Data at Pied Piper")
    saved_searches_notify_task.delay()
    saved_searches_notify_task.delay()

    # Then exactly one more notification names it alone
    notifications = _notifications(user)
    assert len(notifications) == 2
    assert notifications[1].title == "1 new listing match your saved search"
    assert third.title in notifications[1].message and first.title not in notifications[1].message


def test_one_notification_per_user_for_all_their_searches(user, staff_user):
    SavedSearchFactory(user=user, name="Software", filters={"industry": ["Software"]})
    SavedSearchFactory(user=user, name="California", filters={"location": ["CA"]})
    other = SavedSearchFactory(filters={"industry": ["Software"]})
    _approve(staff_user, industry="Software", location="Fresno, CA")
    _approve(staff_user, industry="Retail", location="Fresno, CA")

    assert saved_searches_notify_task.delay().get() == 2

    [mine] = _notifications(user)
    assert mine.title == "3 new listings match your saved searches"
    assert mine.link == "/marketplace/saved-searches/"
    assert "“California”" in mine.message and "“Software”" in mine.message
    assert len(_notifications(other.user)) == 1


def test_alerts_honour_notification_settings(user, staff_user):
    # Given a buyer who wants new leads by email only, and one who wants none
    NotificationSettings.objects.create(user=user, channels={"new_lead": {"in_app": False, "email": True}})
    silent = UserFactory()
    NotificationSettings.objects.create(user=silent, channels={"new_lead": {"in_app": False, "email": False}})
    SavedSearchFactory(user=user)
    SavedSearchFactory(user=silent)
    _approve(staff_user)

    saved_searches_notify_task.delay()

    # Then the first is emailed, the second told nothing, and neither is told again later
    assert not Notification.objects.exists()
    assert EmailMessage.objects.filter(to=user.email).count() == 1
    assert not EmailMessage.objects.filter(to=silent.email).exists()
    assert not SavedSearchMatch.objects.filter(notified_at__isnull=True).exists()


def test_a_search_with_alerts_off_is_not_announced_but_shows_new_matches(user, staff_user):
    saved = SavedSearchFactory(user=user, notify=False)
    listing = _approve(staff_user)

    saved_searches_notify_task.delay()
    assert not _notifications(user)

    # Switching alerts on later announces only what comes next
    saved.notify = True
    saved.save()
    saved_searches_notify_task.delay()
    assert not _notifications(user)
    visit = saved_search_open(actor=user, saved_search_id=saved.pk)
    assert visit.new_count == 1 and [item.pk for item in visit.new_listings] == [listing.pk]


def test_deactivated_members_and_listings_gone_meanwhile_are_not_announced(user, staff_user):
    saved = SavedSearchFactory(user=user)
    gone = SavedSearchFactory(user=UserFactory(is_active=False))
    listing = _approve(staff_user)
    Listing.objects.filter(pk=listing.pk).update(status=Listing.Status.SOLD_OUT)

    saved_searches_notify_task.delay()

    assert not Notification.objects.exists()
    assert not SavedSearchMatch.objects.filter(saved_search=gone).exists()
    assert SavedSearchMatch.objects.get(saved_search=saved).notified_at is not None


def test_opening_a_saved_search_shows_its_new_matches_once(user, staff_user):
    saved = SavedSearchFactory(user=user)
    listing = _approve(staff_user)

    visit = saved_search_open(actor=user, saved_search_id=saved.pk)
    assert visit.since is None and visit.new_count == 1
    assert [item.pk for item in visit.new_listings] == [listing.pk]
    assert visit.new_listings[0].contacts_revealed is False

    again = saved_search_open(actor=user, saved_search_id=saved.pk)
    assert again.since is not None and again.new_count == 0 and again.new_listings == []


def test_auto_approved_listings_are_matched_too(user, settings):
    # Given automatic approval of valid, well-scored leads from verified vendors
    settings.LISTING_AUTO_APPROVE_SCORE = 0
    saved = SavedSearchFactory(user=user, filters={"industry": ["Software"]})
    seller = UserFactory(organization=VendorFactory(verified=True))

    listing = listing_create(
        actor=seller,
        data={"title": "CFO", "industry": "Software", "price": "20", "email": "cfo@example.com", "first_name": "A"},
    )

    assert listing.approval_status == Listing.ApprovalStatus.APPROVED
    assert SavedSearchMatch.objects.filter(saved_search=saved, listing=listing).exists()
    assert Event.objects.filter(name="marketplace.listing.approved", subject_id=str(listing.pk)).exists()
