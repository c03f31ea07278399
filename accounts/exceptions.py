from leadnexus.core.exceptions import Conflict, NotAuthenticated, PermissionDenied, ValidationFailed


class EmailTaken(Conflict):
    default_message = "An account with this email already exists. Sign in or reset your password."


class InvalidCredentials(NotAuthenticated):
    default_message = "The email or password is not correct."


class EmailNotVerified(PermissionDenied):
    code = "email_not_verified"
    default_message = "Verify your email address before signing in. We can send the link again."


class InvalidToken(ValidationFailed):
    default_message = "This link or code is not valid any more. Ask for a new one."


class SeatLimitReached(Conflict):
    code = "seat_limit_reached"
    default_message = "Every seat of your plan is taken. Upgrade the plan or deactivate a member first."


class MfaSetupRequired(PermissionDenied):
    code = "mfa_setup_required"
    default_message = "Your organization requires two-factor sign-in. Set it up in the web app to continue."


class InvalidMfaCode(ValidationFailed):
    default_message = "This code is not correct or has expired."


class MfaAlreadyEnabled(Conflict):
    default_message = "Two-factor sign-in is already on. Turn it off first to move it to another app."


class MfaNotEnabled(Conflict):
    default_message = "Two-factor sign-in is not on for your account."


class MfaSetupNotStarted(Conflict):
    default_message = "There is no code to confirm yet. Start the two-factor setup first."


class MfaRequiredByOrganization(Conflict):
    default_message = "Your organization requires two-factor sign-in, so it cannot be turned off."
