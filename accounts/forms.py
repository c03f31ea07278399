from django import forms

from accounts.services.auth import AccountType

_ACCOUNT_TYPES = [
    (AccountType.BUYER, "Buy leads"),
    (AccountType.VENDOR, "Sell leads"),
    (AccountType.BOTH, "Both"),
]


class SignupForm(forms.Form):
    full_name = forms.CharField(max_length=200, label="Your name")
    email = forms.EmailField(max_length=254, label="Work email")
    password = forms.CharField(
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 8 characters; not a common password, not only digits, not like your email.",
    )
    organization_name = forms.CharField(max_length=200, label="Company")
    account_type = forms.ChoiceField(
        choices=_ACCOUNT_TYPES, widget=forms.RadioSelect, initial=AccountType.BUYER, label="I want to"
    )


class LoginForm(forms.Form):
    email = forms.EmailField(
        max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True})
    )
    password = forms.CharField(
        max_length=128, strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class EmailForm(forms.Form):
    email = forms.EmailField(max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"}))


class ResetCodeForm(forms.Form):
    email = forms.EmailField(max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    otp = forms.RegexField(
        regex=r"^[0-9]{6}$",
        label="6-digit code",
        error_messages={"invalid": "Enter the 6-digit code from the email."},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": 6}),
    )


class NewPasswordForm(forms.Form):
    new_password = forms.CharField(
        max_length=128,
        strip=False,
        label="New password",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    confirm_password = forms.CharField(
        max_length=128,
        strip=False,
        label="Repeat it",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("new_password") != cleaned.get("confirm_password"):
            self.add_error("confirm_password", "The two passwords do not match.")
        return cleaned


class PersonForm(forms.Form):
    email = forms.EmailField(max_length=254, required=False)
    phone = forms.CharField(
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "placeholder": "+1 415 555 0123"}),
        help_text="With the country code.",
    )
    confirm = forms.BooleanField(required=False, label="I understand erasing cannot be undone")

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("email") and not cleaned.get("phone"):
            raise forms.ValidationError("Give an email or a phone number.")
        return cleaned
