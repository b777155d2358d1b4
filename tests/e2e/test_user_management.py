"""A site administrator manages a user in Chromium: creates the account, the new user signs
in with the temporary password and must choose their own, then the administrator disables the
account and the user's open page leads back to the sign-in."""
import re

import pytest

from accounts.models import User
from audit.models import AuditEntry
from tests.e2e.conftest import VIEWPORT

pytestmark = pytest.mark.django_db(transaction=True)
OWN_PASSWORD = "ward round passphrase 7"


def test_create_sign_in_choose_a_password_and_disable(page_as, chromium, live_server, users):
    admin = page_as("site_admin")
    admin.click("nav >> text=Users")
    admin.wait_for_url(re.compile(r"/accounts/users/$"))
    admin.click("text=Create a user")
    admin.fill("#id_username", "e2e_radiologist")
    admin.fill("#id_printed_name", "Dr. Eve Radiologist")
    admin.check("input[name=roles][value=annotator]")
    admin.fill("#id_reason", "joined the department")
    admin.click("button:has-text('Create user')")
    temporary = admin.inner_text("#temporary-password").strip()
    assert len(temporary) == 16

    context = chromium.new_context(viewport=VIEWPORT)
    user = context.new_page()
    user.goto(f"{live_server.url}/accounts/login/")
    user.fill("#id_username", "e2e_radiologist")
    user.fill("#id_password", temporary)
    user.click("button[type=submit]")
    user.wait_for_url(re.compile(r"/accounts/password/"))
    assert user.is_visible("#password-required")
    assert not user.is_visible("nav >> text=Worklist")  # no role until the password is theirs
    user.goto(f"{live_server.url}/annotations/")
    user.wait_for_url(re.compile(r"/accounts/password/\?next="))
    user.fill("#id_current_password", temporary)
    user.fill("#id_new_password", "short")
    user.fill("#id_repeat_password", "short")
    user.click("button:has-text('Change password')")
    assert "too short" in user.inner_text("[role=alert]")
    user.fill("#id_current_password", temporary)
    user.fill("#id_new_password", OWN_PASSWORD)
    user.fill("#id_repeat_password", OWN_PASSWORD)
    user.click("button:has-text('Change password')")
    user.wait_for_url(re.compile(r"/annotations/$"))
    assert user.is_visible("nav >> text=Worklist")

    created = User.objects.get(username="e2e_radiologist")
    admin.goto(f"{live_server.url}/accounts/users/{created.pk}/")
    admin.fill("#id_state_reason", "left the hospital")
    admin.click("button:has-text('Disable the account')")
    admin.wait_for_selector(".messages >> text=disabled")
    assert admin.inner_text("h1 .tag") == "disabled"

    user.reload()
    user.wait_for_url(re.compile(r"/accounts/login/"))
    user.fill("#id_username", "e2e_radiologist")
    user.fill("#id_password", OWN_PASSWORD)
    user.click("button[type=submit]")
    assert "not correct" in user.inner_text("[role=alert]")
    context.close()

    actions = list(AuditEntry.objects.filter(object_type="accounts.user",
                                             object_id=str(created.pk))
                   .order_by("seq").values_list("action", flat=True))
    for expected in ("user.create", "user.set_roles", "session.login", "user.password_change",
                     "user.disable"):
        assert expected in actions, actions
