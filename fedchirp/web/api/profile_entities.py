"""The profile parts of Mastodon's Account entity: fields, and their source for editing."""

from __future__ import annotations

from typing import Any

from fedchirp.federation.profile import fields_from_json
from fedchirp.services.profiles import field_source
from fedchirp.store.models import Account


def profile_fields(account: Account) -> list[dict[str, Any]]:
    """Account.fields: name, value (HTML) and verified_at (null unless rel=me checked)."""
    return [
        {"name": f.name, "value": f.value, "verified_at": f.verified_at}
        for f in fields_from_json(account.fields)
    ]


def profile_field_sources(account: Account) -> list[dict[str, Any]]:
    """source.fields: the values as typed, for an edit form."""
    return [
        {"name": f.name, "value": field_source(f), "verified_at": f.verified_at}
        for f in fields_from_json(account.fields)
    ]
