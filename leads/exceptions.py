from leadnexus.core.exceptions import ApplicationError, Conflict, IllegalTransition, ValidationFailed


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


class SubmissionAttachmentTooLarge(ApplicationError):
    code = "payload_too_large"
    status = 413
    default_message = "The attachment is larger than the limit."


class SubmissionAttachmentUnsupported(ApplicationError):
    code = "unsupported_media_type"
    status = 415
    default_message = "The attachment must be a PDF, Word document, PNG or JPEG."


class ImportFileMalformed(ValidationFailed):
    default_message = "The file could not be read as a spreadsheet."


class ImportNotConfirmable(IllegalTransition):
    default_message = "This import has already been confirmed."


class LeadMergeRefused(Conflict):
    default_message = "These two leads cannot be merged."
