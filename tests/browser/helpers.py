"""What the browser journeys share: the two viewports, signing in, the links sent by email,
dragging, and the check that a page fits its window."""

import re

from playwright.sync_api import Locator, Page, expect

from accounts.tests.factories import PASSWORD
from notifications.models import EmailMessage

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}

VERIFY_LINK = re.compile(r"https?://\S+/verify\?token=[\w-]+")
INVITE_LINK = re.compile(r"https?://\S+/invite/[\w-]+/[\w-]+/")


def sign_in(page: Page, email: str, password: str = PASSWORD, *, to_dashboard: bool = True) -> None:
    """Submit the sign-in form; by default wait for the dashboard (`to_dashboard=False` when a
    second step, such as a two-factor code, follows)."""
    page.goto("/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.locator("main").get_by_role("button", name="Sign in").click()
    if to_dashboard:
        expect(page).to_have_url(re.compile(r"/dashboard/$"))


def assert_no_horizontal_overflow(page: Page) -> None:
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{page.url} scrolls sideways: content {widths[0]}px, window {widths[1]}px"


def emailed_link(email: str, template: str, pattern: re.Pattern) -> str:
    """The link matching `pattern` in the first email of `template` sent to `email`."""
    message = EmailMessage.objects.filter(to=email, template=template).first()
    assert message is not None, f"no {template} email to {email} in the outbox"
    found = pattern.search(message.text)
    assert found, message.text
    return found.group(0)


def drag(page: Page, item: Locator, target: Locator) -> None:
    """Drag as a hand does: press, move in small steps (SortableJS follows the pointer), drop."""
    start, end = item.bounding_box(), target.bounding_box()
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] / 2, steps=20)
    page.mouse.up()


# Each element of `main` holding text of its own, with its text colour against the first
# background behind it that is painted; those under 3:1 (WCAG's floor for large text).
_LOW_CONTRAST = """
() => {
  const rgba = (value) => (value.match(/[\\d.]+/g) || []).map(Number);
  const luminance = ([r, g, b]) => {
    const channel = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  };
  const background = (element) => {
    for (let node = element; node; node = node.parentElement) {
      const color = rgba(getComputedStyle(node).backgroundColor);
      if (color.length === 3 || color[3] > 0.5) return color;
    }
    return rgba(getComputedStyle(document.body).backgroundColor);
  };
  const low = [];
  for (const element of document.querySelectorAll("main *")) {
    const own = [...element.childNodes].some((node) => node.nodeType === 3 && node.textContent.trim());
    if (!own || !element.checkVisibility() || element.closest("[disabled], .visually-hidden")) continue;
    const style = getComputedStyle(element);
    if (style.opacity === "0") continue;
    const [fg, bg] = [luminance(rgba(style.color)), luminance(background(element))];
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    const text = element.textContent.trim().slice(0, 40);
    if (ratio < 3) low.push(`${element.tagName.toLowerCase()}.${element.className} "${text}" ${ratio.toFixed(2)}:1`);
  }
  return low;
}
"""


def assert_readable(page: Page) -> None:
    low = page.evaluate(_LOW_CONTRAST)
    assert not low, f"{page.url} has text too faint to read:\n  " + "\n  ".join(low)
