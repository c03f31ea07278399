"""Demo organizations and people (see `manage.py seed_demo`)."""

from accounts.models import Organization, User
from accounts.services.users import organization_create, staff_user_create, user_create

DEMO_PASSWORD = "leadnexus-demo-2026"


def _org(name: str, *, is_buyer: bool, is_vendor: bool) -> Organization:
    org = Organization.objects.filter(name=name, is_platform=False).first()
    if org is None:
        org = organization_create(name=name, is_buyer=is_buyer, is_vendor=is_vendor)
    org.verified = True
    org.save(update_fields=["verified"])
    return org


def _user(email: str, *, organization: Organization, full_name: str, role: str, parent: User | None = None) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = user_create(
            email=email,
            password=DEMO_PASSWORD,
            organization=organization,
            full_name=full_name,
            role=role,
            parent=parent,
            email_verified=True,
        )
    return user


def seed(state: dict) -> None:
    staff = User.objects.filter(email="staff@leadnexus.example").first() or staff_user_create(
        email="staff@leadnexus.example", password=DEMO_PASSWORD, full_name="Sam Staff"
    )
    vendor_org = _org("Northwind Data", is_buyer=False, is_vendor=True)
    buyer_org = _org("Globex Sales", is_buyer=True, is_vendor=False)
    vendor = _user(
        "vendor@leadnexus.example", organization=vendor_org, full_name="Vera Vendor", role=User.Role.MANAGEMENT
    )
    buyer = _user("buyer@leadnexus.example", organization=buyer_org, full_name="Bob Buyer", role=User.Role.MANAGEMENT)
    rep = _user(
        "rep@leadnexus.example", organization=buyer_org, full_name="Rita Rep", role=User.Role.SALES_REP, parent=buyer
    )
    state.update(staff=staff, vendor_org=vendor_org, buyer_org=buyer_org, vendor=vendor, buyer=buyer, rep=rep)
    state["logins"] += [
        ("Staff (admin at /admin/)", staff.email, DEMO_PASSWORD),
        ("Vendor (management)", vendor.email, DEMO_PASSWORD),
        ("Buyer (management)", buyer.email, DEMO_PASSWORD),
        ("Buyer (sales rep)", rep.email, DEMO_PASSWORD),
    ]
