from django.contrib.auth.models import AbstractUser
from django.db import models

from .roles import Role


class Site(models.Model):
    """A hospital or department: prompt versions are approved per site and users belong to one."""

    code = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A unique person. ``printed_name`` is what signatures and audit entries show."""

    site = models.ForeignKey(Site, null=True, blank=True, on_delete=models.PROTECT)
    printed_name = models.CharField(
        max_length=200, blank=True, help_text="Full name as shown on electronic signatures."
    )
    # Set when a site administrator creates the account or resets its password: the temporary
    # password only opens the page to choose one's own; until then the account holds no role.
    must_change_password = models.BooleanField(default=False)

    def get_printed_name(self) -> str:
        return self.printed_name or self.get_full_name() or self.username

    def role_names(self) -> set[str]:
        if not hasattr(self, "_role_names"):
            self._role_names = set(self.groups.values_list("name", flat=True))
        return self._role_names

    def has_role(self, *roles: Role | str) -> bool:
        """Whether the account may act in one of ``roles`` now: active, with its own password
        (not a temporary one an administrator knows), and holding the role."""
        return (self.is_active and not self.must_change_password
                and bool(self.role_names() & {str(r) for r in roles}))


class LoginFailure(models.Model):
    """A failed login, kept to throttle guessing by account and by client address."""

    username = models.CharField(max_length=150, db_index=True)
    client_address = models.GenericIPAddressField(null=True, db_index=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)


class AccountLockout(models.Model):
    """Per-account lockout state (``accounts.throttle``): failures since the last lock, how
    many locks in a row (each doubles the next lock's length) and until when the account is
    locked. Keyed by the lower-cased user name typed, whether or not such an account exists,
    so a lock says nothing about which names are real."""

    username = models.CharField(max_length=150, unique=True)
    failures = models.PositiveIntegerField(default=0)
    level = models.PositiveIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True, db_index=True)
