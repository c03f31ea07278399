from django.contrib.auth.base_user import BaseUserManager


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


class UserManager(BaseUserManager):
    """Django's hook for `createsuperuser` hands over to the service."""

    use_in_migrations = True

    def get_by_natural_key(self, email):
        return self.get(email=normalize_email(email))

    def create_superuser(self, email, password=None, **extra_fields):
        from accounts.services.users import staff_user_create

        return staff_user_create(email=email, password=password, full_name=extra_fields.get("full_name", ""))
