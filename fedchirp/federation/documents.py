"""Our own objects as ActivityStreams documents (the outbound half of the wire)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fedchirp.federation.jsonld import AS_CONTEXT, CONTEXT
from fedchirp.federation.profile import attachment_documents, image_document
from fedchirp.federation.vocab import PUBLIC
from fedchirp.store.models import Account, Status
from fedchirp.urls import Urls

# -- builders -----------------------------------------------------------------


def with_context(document: dict[str, Any]) -> dict[str, Any]:
    return {"@context": CONTEXT, **document}


def activity(kind: str, activity_id: str, actor: str, obj: Any, **extra: Any) -> dict[str, Any]:
    """An activity with the full context; extra holds to/cc/published etc."""
    return with_context(
        {"id": activity_id, "type": kind, "actor": actor, "object": obj}
        | {k: v for k, v in extra.items() if v is not None}
    )


def strip_context(document: dict[str, Any]) -> dict[str, Any]:
    """The same document for embedding inside another (no nested @context)."""
    return {k: v for k, v in document.items() if k != "@context"}


def ordered_collection(collection_id: str, total: int, first: str | None) -> dict[str, Any]:
    document: dict[str, Any] = {
        "@context": AS_CONTEXT,
        "id": collection_id,
        "type": "OrderedCollection",
        "totalItems": total,
    }
    if first:
        document["first"] = first
    return document


def ordered_collection_page(
    page_id: str, part_of: str, items: list[Any], next_page: str | None, prev_page: str | None
) -> dict[str, Any]:
    document: dict[str, Any] = {
        "@context": AS_CONTEXT,
        "id": page_id,
        "type": "OrderedCollectionPage",
        "partOf": part_of,
        "orderedItems": items,
    }
    if next_page:
        document["next"] = next_page
    if prev_page:
        document["prev"] = prev_page
    return document


def hashtag_collection(collection_id: str, names: list[str], urls: Urls) -> dict[str, Any]:
    """A Collection of Hashtags (toot:featuredTags), as Mastodon serves it."""
    return with_context(
        {
            "id": collection_id,
            "type": "Collection",
            "totalItems": len(names),
            "items": [{"type": "Hashtag", "href": urls.tag(n), "name": f"#{n}"} for n in names],
        }
    )


@dataclass(frozen=True)
class Addressing:
    """Who a document is addressed to. bto/bcc are never emitted (see DESIGN.md)."""

    to: tuple[str, ...]
    cc: tuple[str, ...]


def actor_document(account: Account, urls: Urls) -> dict[str, Any]:
    document = with_context(
        {
            "id": account.uri,
            "type": account.actor_type,
            "preferredUsername": account.username,
            "name": account.display_name or account.username,
            "summary": account.note,
            "url": account.url,
            "inbox": account.inbox_url,
            "outbox": account.outbox_url,
            "followers": account.followers_url,
            "following": account.following_url,
            "featured": urls.featured(account.username),
            "featuredTags": urls.featured_tags(account.username),
            "endpoints": {"sharedInbox": urls.shared_inbox},
            "manuallyApprovesFollowers": account.locked,
            "discoverable": account.discoverable,
            # Full-text search of one's posts on other servers is opt-in on Mastodon;
            # we have no setting for it yet, so we do not opt anyone in.
            "indexable": False,
            "published": account.created_at,
            "publicKey": {
                "id": account.public_key_id,
                "owner": account.uri,
                "publicKeyPem": account.public_key_pem,
            },
            "attachment": attachment_documents(account.fields),
        }
    )
    for key, url in (("icon", account.avatar_url), ("image", account.header_url)):
        image = image_document(url)
        if image is not None:
            document[key] = image
    return document


def profile_update_activity(account: Account, urls: Urls, updated_at: str) -> dict[str, Any]:
    """Update(Person) carrying the whole actor, as Mastodon sends a profile change."""
    actor = strip_context(actor_document(account, urls))
    return activity(
        "Update", f"{account.uri}#updates/{updated_at}", account.uri, actor, to=[PUBLIC]
    )


def actor_delete_activity(account: Account) -> dict[str, Any]:
    """Delete of the actor itself: the account is gone (object = its id, as Mastodon)."""
    return activity("Delete", f"{account.uri}#delete", account.uri, account.uri, to=[PUBLIC])


def instance_actor_document(urls: Urls, domain: str, public_key_pem: str) -> dict[str, Any]:
    """The server's own actor, which signs fetches made on nobody's behalf."""
    return with_context(
        {
            "id": urls.instance_actor,
            "type": "Application",
            "preferredUsername": domain,
            "inbox": urls.shared_inbox,
            "outbox": f"{urls.instance_actor}/outbox",
            "endpoints": {"sharedInbox": urls.shared_inbox},
            "manuallyApprovesFollowers": True,
            "url": f"{urls.base}/about",
            "publicKey": {
                "id": urls.instance_key_id,
                "owner": urls.instance_actor,
                "publicKeyPem": public_key_pem,
            },
        }
    )


def note_document(
    status: Status,
    author: Account,
    addressing: Addressing,
    mentions: list[Account],
    in_reply_to_uri: str | None,
    hashtags: Sequence[tuple[str, str]] = (),
    attachments: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    tags: list[dict[str, Any]] = [
        {
            "type": "Mention",
            "href": m.uri,
            "name": f"@{m.username}@{m.domain}" if m.domain else f"@{m.username}",
        }
        for m in mentions
    ]
    tags += [{"type": "Hashtag", "href": href, "name": f"#{name}"} for name, href in hashtags]
    note: dict[str, Any] = {
        "id": status.uri,
        "type": "Note",
        "attributedTo": author.uri,
        "content": status.content,
        "published": status.created_at,
        "url": status.url,
        "to": list(addressing.to),
        "cc": list(addressing.cc),
        "inReplyTo": in_reply_to_uri,
        "sensitive": status.sensitive,
        "summary": status.spoiler_text or None,
        "tag": tags,
        "attachment": list(attachments),
    }
    if status.language:
        note["contentMap"] = {status.language: status.content}
    if status.edited_at:
        note["updated"] = status.edited_at
    return with_context(note)


def attachment_document(
    url: str,
    media_type: str,
    description: str,
    blurhash: str | None,
    size: tuple[int | None, int | None],
    focus: tuple[float, float],
) -> dict[str, Any]:
    """An uploaded image as Mastodon attaches it to a Note."""
    document: dict[str, Any] = {
        "type": "Document",
        "mediaType": media_type,
        "url": url,
        "name": description or None,
        "blurhash": blurhash,
        "focalPoint": [focus[0], focus[1]],
    }
    if size[0] and size[1]:
        document["width"], document["height"] = size
    return document


def create_activity_id(note_id: str) -> str:
    return f"{note_id}/activity"


def create_activity(note: dict[str, Any]) -> dict[str, Any]:
    return activity(
        "Create",
        create_activity_id(note["id"]),
        note["attributedTo"],
        strip_context(note),
        to=note["to"],
        cc=note["cc"],
        published=note["published"],
    )


def update_activity(note: dict[str, Any], updated_at: str) -> dict[str, Any]:
    return activity(
        "Update",
        f"{note['id']}/update/{updated_at}",
        note["attributedTo"],
        strip_context(note),
        to=note["to"],
        cc=note["cc"],
        published=updated_at,
    )


def featured_activity(
    kind: str, activity_id: str, author: Account, status: Status, target: str
) -> dict[str, Any]:
    """Add or Remove of a post to/from its author's featured collection (a pin or unpin),
    the object by id as Mastodon sends it."""
    return activity(kind, activity_id, author.uri, status.uri, target=target, to=[PUBLIC])


def delete_activity(status: Status, author: Account, addressing: Addressing) -> dict[str, Any]:
    return activity(
        "Delete",
        f"{status.uri}#delete",
        author.uri,
        {"id": status.uri, "type": "Tombstone"},
        to=list(addressing.to),
        cc=list(addressing.cc),
    )


def announce_activity(
    reblog: Status, booster: Account, original_uri: str, addressing: Addressing
) -> dict[str, Any]:
    return activity(
        "Announce",
        reblog.uri,
        booster.uri,
        original_uri,
        to=list(addressing.to),
        cc=list(addressing.cc),
        published=reblog.created_at,
    )


def follow_activity(follow_uri: str, follower: Account, followee: Account) -> dict[str, Any]:
    return activity("Follow", follow_uri, follower.uri, followee.uri)


def respond_to_follow(
    kind: str, response_id: str, followee: Account, follow_uri: str, follower: Account
) -> dict[str, Any]:
    """Accept or Reject of a Follow, embedding the Follow as Mastodon does."""
    follow = strip_context(follow_activity(follow_uri, follower, followee))
    return activity(kind, response_id, followee.uri, follow)


def block_activity(block_uri: str, blocker: Account, target: Account) -> dict[str, Any]:
    """Block, sent to the blocked account's own inbox only (as Mastodon does)."""
    return activity("Block", block_uri, blocker.uri, target.uri, to=[target.uri])


def like_activity(like_uri: str, liker: Account, status_uri: str) -> dict[str, Any]:
    return activity("Like", like_uri, liker.uri, status_uri)


def undo_activity(actor: Account, undone: dict[str, Any]) -> dict[str, Any]:
    return activity("Undo", f"{undone['id']}/undo", actor.uri, strip_context(undone))


def flag_activity(
    flag_uri: str, actor_uri: str, target_uri: str, status_uris: Sequence[str], comment: str
) -> dict[str, Any]:
    """A report forwarded to the reported account's server (Mastodon's FlagSerializer):
    object lists the account, then the posts."""
    return activity("Flag", flag_uri, actor_uri, [target_uri, *status_uris], content=comment)
