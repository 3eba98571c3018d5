"""The inbox edge: from raw request to an authenticated, shape-checked Activity.

Order matters: cheap checks first (signature present and covering the right
headers, Date fresh, Digest matching the body), then whether the keyId's server is
suspended (a set lookup: its POSTs are answered 202 and dropped, as Mastodon does,
so it learns nothing), then JSON shape (its nesting depth checked on the bytes
before they are parsed) and the actor's server (suspended: dropped too), then the
sender's rate limit (looked at before the key fetch and the RSA check, counted only
after them, so a forged keyId cannot use up another server's allowance), then the
key fetch and the RSA check, and last that the signer is the activity's actor.
An id is required of every activity but Add and Remove, which Mastodon sends without
one (see _name_idless).
Every refusal is an InboxError with an HTTP status and a reason (the rate limit's
own exception, a 429, excepted).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from fedchirp.config import Config
from fedchirp.federation.http import is_activity_json
from fedchirp.federation.httpsig import (
    SignatureError,
    SignatureParams,
    check_digest,
    check_freshness,
    check_signed_headers,
    signature_params_from,
    signing_string,
    verify_signature,
)
from fedchirp.federation.resolver import ResolveError, Resolver
from fedchirp.federation.vocab import (
    Activity,
    InvalidDocument,
    host_of,
    id_of,
    parse_activity,
)
from fedchirp.jsonlimit import TooDeep, check_depth
from fedchirp.store.models import Account


class InboxError(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class IgnoredActivity(Exception):
    """Accept the request (202) but do nothing: e.g. the Delete of an actor that is gone."""


class SenderLimit(Protocol):
    """A limit on what one remote server (by host) may send; check raises to refuse."""

    async def check(self, host: str) -> None: ...

    async def count(self, host: str) -> None: ...


@dataclass(frozen=True)
class SignedRequest:
    method: str
    path_qs: str
    headers: Mapping[str, str]
    body: bytes | None = None


async def authenticate(resolver: Resolver, config: Config, request: SignedRequest) -> Account:
    """The remote actor whose key signed this request; InboxError(401) if none did."""
    params = _checked_params(config, request)
    if await resolver.domain_blocks.suspended(host_of(params.key_id)):
        raise InboxError(401, f"{host_of(params.key_id)} is blocked by this server")
    return await _verify(resolver, params, request)


def _checked_params(config: Config, request: SignedRequest) -> SignatureParams:
    try:
        params = signature_params_from(request.headers)
        check_signed_headers(params, request.method)
        check_freshness(
            params,
            request.headers,
            config.federation.signature_max_age_seconds,
            config.federation.signature_max_future_seconds,
        )
        if request.body is not None:
            check_digest(request.headers.get("Digest"), request.body)
        return params
    except SignatureError as exc:
        raise InboxError(401, str(exc)) from exc


async def _verify(resolver: Resolver, params: SignatureParams, request: SignedRequest) -> Account:
    texts = _signing_strings(params, request)
    try:
        signer = await resolver.actor_for_key(params.key_id)
        if _any_verifies(params, texts, signer.public_key_pem):
            return signer
        # The key may have rotated since we cached it: fetch it once more.
        signer = await resolver.actor_for_key(params.key_id, refresh=True)
    except ResolveError as exc:
        raise InboxError(401, f"could not get key {params.key_id}: {exc}") from exc
    if _any_verifies(params, texts, signer.public_key_pem):
        return signer
    raise InboxError(401, "signature does not verify")


def _signing_strings(params: SignatureParams, request: SignedRequest) -> list[str]:
    """The signed text as rebuilt from the request; older Mastodon signed GETs without
    the query string, so with a query both forms are tried."""
    paths = [request.path_qs]
    if "?" in request.path_qs:
        paths.append(request.path_qs.split("?", 1)[0])
    try:
        return [signing_string(params, request.method, path, request.headers) for path in paths]
    except SignatureError as exc:
        raise InboxError(401, str(exc)) from exc


def _any_verifies(params: SignatureParams, texts: list[str], public_key_pem: str) -> bool:
    return any(verify_signature(params, text, public_key_pem) for text in texts)


async def receive(
    resolver: Resolver,
    config: Config,
    request: SignedRequest,
    content_type: str,
    limit: SenderLimit | None = None,
) -> tuple[Activity, Account]:
    """Check everything about an inbox POST; return the activity and its (signing) actor."""
    params = _checked_params(config, request)
    blocks = resolver.domain_blocks
    if await blocks.suspended(host_of(params.key_id)):
        raise IgnoredActivity("the signer's server is suspended")
    if not is_activity_json(content_type):
        raise InboxError(415, f"content type {content_type!r} is not ActivityStreams JSON")
    activity = _parse(request.body or b"", params)
    if await blocks.suspended(host_of(activity.actor)):
        raise IgnoredActivity("the actor's server is suspended")
    sender = host_of(params.key_id)
    if sender != host_of(activity.actor):
        # Checked before any fetch, so a forged keyId cannot send us fetching elsewhere.
        raise InboxError(401, f"key {params.key_id} is not on the server of {activity.actor}")
    if limit is not None:
        await limit.check(sender)
    try:
        signer = await _verify(resolver, params, request)
    except InboxError:
        if (
            _is_self_delete(activity)
            and await resolver.store.get_account_by_uri(activity.actor) is None
        ):
            raise IgnoredActivity("Delete of an actor we never knew") from None
        raise
    if signer.uri != activity.actor:
        raise InboxError(403, f"signed by {signer.uri}, but the actor is {activity.actor}")
    if limit is not None:
        await limit.count(sender)
    return activity, signer


def _parse(body: bytes, params: SignatureParams) -> Activity:
    try:
        check_depth(body)  # before the parser: it recurses once per level
        document = json.loads(body)
    except TooDeep as exc:
        raise InboxError(400, str(exc)) from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InboxError(400, f"body is not JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise InboxError(400, "body is not a JSON object")
    _name_idless(document, params)
    try:
        return parse_activity(document)
    except InvalidDocument as exc:
        raise InboxError(400, str(exc)) from exc


IDLESS_TYPES = ("Add", "Remove")


def _name_idless(document: dict[str, object], params: SignatureParams) -> None:
    """Give an id to an Add or Remove that has none: Mastodon's pin and featured-tag
    Add and Remove carry no id (its AddSerializer and RemoveSerializer name none).
    The id is made from the request's signature, on the actor's server: the same
    signed request again is a duplicate, a new delivery (signed anew) is applied again,
    which these idempotent activities allow."""
    actor = id_of(document.get("actor"))
    if "id" in document or document.get("type") not in IDLESS_TYPES or actor is None:
        return
    token = hashlib.sha256(params.signature).hexdigest()[:32]
    document["id"] = f"{actor.split('#')[0]}#{str(document['type']).lower()}-{token}"


def _is_self_delete(activity: Activity) -> bool:
    return activity.type == "Delete" and activity.object_id == activity.actor
