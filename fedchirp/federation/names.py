"""Names from other servers that read as something they are not.

Bidi controls (U+202A-E, U+2066-9, U+200E/F, U+061C) can show `ad\u202emin` as
another name, and zero-width characters (U+200B-D, U+2060, U+FEFF) make two names
that look the same differ. Every other control (Cc) or format (Cf) character is
refused with them (that is where all of those fall too).
"""

from __future__ import annotations

import unicodedata

_HIDING = frozenset(
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
    "\u200b\u200c\u200d\u2060\ufeff"
)


def _hides(char: str) -> bool:
    return char in _HIDING or unicodedata.category(char) in ("Cc", "Cf")


def hides_characters(text: str) -> bool:
    """Whether text has a bidi, zero-width, control or format character."""
    return any(_hides(char) for char in text)


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def cleaned(text: str) -> str:
    """text in NFC, without its bidi, zero-width, control and format characters."""
    return nfc("".join(char for char in text if not _hides(char)))
