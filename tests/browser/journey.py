"""The steps every browser journey takes: wait for a page to settle, click by role and name, log in
through the real login page and out again."""

from tests.factories import PASSWORD


def settle(page):
    """Wait until the page has fetched everything (its favicon too): navigating away earlier
    aborts those requests, which ``watched_page`` would record as failures."""
    page.wait_for_load_state("networkidle")


def visit(page, url):
    """Open ``url`` and let it settle before the next step navigates away."""
    page.goto(url)
    settle(page)


def click(page, role, name, *, within="body", **kwargs):
    page.locator(within).get_by_role(role, name=name, **kwargs).first.click()
    page.wait_for_load_state()
    settle(page)


def log_in(page, base_url, username, next_path, *, password=PASSWORD):
    page.goto(f"{base_url}/accounts/login/?next={next_path}")
    settle(page)
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}{next_path}")
    settle(page)


def log_out(page, base_url):
    click(page, "button", "Log out")
    page.wait_for_url(f"{base_url}/accounts/login/")
    settle(page)


def act_on_task(page, base_url, subject, action, *, comment=""):
    """From My tasks, open the first task on ``subject`` (the link text), act on it and come back."""
    visit(page, f"{base_url}/workflows/")
    click(page, "link", subject, within="main")
    if comment:
        page.fill("#id_comment", comment)
    click(page, "button", action, exact=True)
    page.wait_for_url(f"{base_url}/workflows/")
    assert page.locator(".alert-success").count() == 1, page.locator("main").inner_text()[:500]
