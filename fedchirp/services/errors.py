"""What services raise when a request breaks a rule. Handlers map these to HTTP."""


class ServiceError(Exception):
    """Base: str(exc) is a reason fit to show the person who asked."""


class NotFound(ServiceError):
    pass


class Gone(NotFound):
    """It was here and was deleted (an account that deleted itself): 410, as Mastodon
    answers, so other servers stop asking."""


class Invalid(ServiceError):
    """The input breaks a rule (too long, bad name, wrong type...)."""


class Forbidden(ServiceError):
    """The input is fine but this account may not do this."""


class Conflict(ServiceError):
    """The thing already exists (a taken username...)."""


class Unavailable(ServiceError):
    """A remote server needed to answer could not be reached or believed."""
