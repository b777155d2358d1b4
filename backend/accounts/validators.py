from django.core.exceptions import ValidationError


class CharacterClassValidator:
    """Requires letters and at least one digit or symbol, on top of length and common-word
    checks, so passphrases pass and single dictionary words with a number do not."""

    def validate(self, password: str, user=None) -> None:
        has_letter = any(c.isalpha() for c in password)
        has_other = any(not c.isalpha() for c in password)
        if not (has_letter and has_other):
            raise ValidationError(
                "The password must contain letters and at least one digit or symbol.",
                code="password_character_classes",
            )

    def get_help_text(self) -> str:
        return "Your password must contain letters and at least one digit or symbol."
