import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError


@pytest.mark.parametrize(
    "password",
    ["short1!", "password123456", "abcdefghijklmnop", "123456789012345"],
)
def test_it_refuses_weak_passwords(password):
    with pytest.raises(ValidationError):
        validate_password(password)


def test_it_accepts_a_passphrase():
    validate_password("amber-otter-violin-42")
