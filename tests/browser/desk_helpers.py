"""Shared steps for the desk's browser tests: signing in, and axe checks."""

from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth.models import Group, User
from playwright.sync_api import expect

PASSWORD = "long-enough-password-1"
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa"]}}


def newsroom_user(username, group, **fields):
    user = User.objects.create_user(
        username, password=PASSWORD, is_staff=True, **fields
    )
    user.groups.add(Group.objects.get(name=group))
    return user


def console_errors(page):
    """The page's console errors (CSP violations included) from now on."""
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
    return errors


def real_errors(errors):
    # The admin asks for /favicon.ico, which the site answers with a redirect
    # that the test server may 404; anything else is a real problem.
    return [e for e in errors if "status of 404" not in e]


def sign_in(browser, base, username, **context_options):
    """A browser context signed in as `username`, through the real form."""
    context = browser.new_context(**context_options)
    page = context.new_page()
    page.goto(f"{base}/admin/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    return page


def assert_accessible(browser, page, url=None):
    """axe finds no WCAG 2 A/AA violation on `url` (default: the page's own),
    seen by the same person (axe-core is injected, so CSP is bypassed here)."""
    context = browser.new_context(
        bypass_csp=True, storage_state=page.context.storage_state()
    )
    checked = context.new_page()
    checked.goto(url or page.url)
    results = Axe().run(checked, options=AXE_OPTIONS)
    context.close()
    assert results.violations_count == 0, results.generate_report()
