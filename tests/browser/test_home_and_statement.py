"""The first screens: signing in lands on the person's own worklist; the accessibility
statement is open to everyone; signing out ends the session."""

from __future__ import annotations

from playwright.sync_api import expect


def test_a_newcomer_signs_in_and_sees_a_worklist(staff, web) -> None:
    anne = staff().sign_in_as("anne")
    page = anne.page
    expect(page.get_by_role("heading", name="Åbne henvendelser")).to_be_visible()
    expect(page.get_by_text("Der er ingen åbne henvendelser.")).to_be_visible()
    page.get_by_role("link", name="Tilgængelighedserklæring").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Tilgængelighedserklæring for Samspil")
    anne.check_accessibility()
    page.get_by_role("button", name="Log af").click()
    # Signed out of Samspil; the provider asks whether to end its session too.
    page.get_by_role("button", name="Ja, log ud").click()
    # Back at Samspil, which asks for a sign-in again.
    expect(page.get_by_label("Brugernavn")).to_be_visible()
