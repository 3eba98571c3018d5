"""The [registrations] section: who may sign up (kept apart so config.py stays small)."""

from __future__ import annotations

from dataclasses import dataclass

REGISTRATION_MODES = ("closed", "approval", "open")
MAX_MESSAGE_CHARS = 1_000


@dataclass(frozen=True)
class RegistrationsConfig:
    # closed: only with an invite; approval: anyone may ask, an admin lets them in;
    # open: anyone may sign up and use the account at once.
    mode: str = "closed"
    message: str = ""  # shown on the sign-up page and in /api/v2/instance when not open

    def check(self) -> None:
        from fedchirp.config import ConfigError  # config.py imports this module

        if self.mode not in REGISTRATION_MODES:
            raise ConfigError(
                f"registrations.mode must be one of {', '.join(REGISTRATION_MODES)},"
                f" got {self.mode!r}"
            )
        if len(self.message) > MAX_MESSAGE_CHARS:
            raise ConfigError(
                f"registrations.message must be at most {MAX_MESSAGE_CHARS} characters"
            )


REGISTRATIONS_HELP = {
    "registrations.mode": '"closed" (only with an invite link), "approval" (an admin approves '
    'each sign-up) or "open" (anyone may sign up)',
    "registrations.message": "text shown to people who want to sign up (e.g. how to ask for "
    "an invite)",
}
