from leadnexus.core.exceptions import ApplicationError, IllegalTransition, ValidationFailed


class LeadInvalid(ValidationFailed):
    default_message = "The lead has no usable email address or phone number."


class LeadIllegalTransition(IllegalTransition):
    pass


class ImportFileTooLarge(ApplicationError):
    code = "payload_too_large"
    status = 413
    default_message = "The file is larger than the import limit."


class ImportFileUnsupported(ApplicationError):
    code = "unsupported_media_type"
    status = 415
    default_message = "The file is not a CSV or XLSX spreadsheet."
