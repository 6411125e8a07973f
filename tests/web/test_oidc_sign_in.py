"""Sign-in with an OpenID Connect issuer in Chromium: the page offers it next to the token field,
the browser goes through a real provider and comes back signed in, and signing out forgets it."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.federation.nodes import Node
from tests.oidc import CLIENT_ID, CLIENT_SECRET, Provider, running_provider
from tests.web.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.oidc]


@pytest.fixture(scope="module")
def provider_and_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Provider, Node]]:
    root = tmp_path_factory.mktemp("web-oidc")
    node = Node(root / "node", "oidc")
    accounts = {"ada": {"name": "Ada", "groups": ["neuro"], "roles": ["admin"]}}
    with running_provider(root / "provider", f"{node.url}/auth/callback", accounts) as provider:
        node.env.update(
            CATALOGUE_OIDC_ISSUER=provider.issuer,
            CATALOGUE_OIDC_CLIENT_ID=CLIENT_ID,
            CATALOGUE_OIDC_CLIENT_SECRET=CLIENT_SECRET,
            CATALOGUE_OIDC_SCOPES="openid profile groups",
            CATALOGUE_OIDC_DISPLAY_NAME="Consortium login",
            CATALOGUE_OIDC_REDIRECT_BASE_URL=node.url,
        )
        node.start()
        try:
            yield provider, node
        finally:
            node.stop()


def test_signing_in_with_the_issuer_ends_signed_in(
    provider_and_node: tuple[Provider, Node], page: Page
) -> None:
    provider, node = provider_and_node
    page.goto(f"{node.url}/harvest.html")
    expect(page.locator("#session-status")).to_have_text("Not signed in")
    screenshot(page, "oidc-sign-in-offered")
    page.get_by_role("link", name="Sign in with Consortium login").click()
    status = page.locator("#session-status")
    expect(status).to_contain_text(f"Signed in as oidc:{provider.issuer}#ada")
    expect(status).to_contain_text("admin")
    assert re.fullmatch(rf"{re.escape(node.url)}/harvest\.html", page.url)  # no token left in it
    expect(page.locator("#sign-in-issuer")).to_be_hidden()
    screenshot(page, "oidc-sign-in")
    page.locator("#sign-out").click()
    expect(status).to_have_text("Not signed in")
    expect(page.locator("#sign-in-issuer")).to_be_visible()
