"""JSON-LD: the @context we publish, and a check that our documents mean what they say.

Fediverse servers read activities as plain JSON with the AS2 compact terms, so
we do not run JSON-LD processing on every incoming request. What pyld gives us
is an independent check of what we emit: expanding a document with the real
AS2 and security contexts must keep every property we wrote (a property the
contexts do not define is silently dropped by JSON-LD consumers).
"""

from __future__ import annotations

from typing import Any

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
SECURITY_CONTEXT = "https://w3id.org/security/v1"

# Extension terms we use, defined the way Mastodon defines them.
EXTENSIONS: dict[str, Any] = {
    "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
    "sensitive": "as:sensitive",
    "Hashtag": "as:Hashtag",
    "toot": "http://joinmastodon.org/ns#",
    "discoverable": "toot:discoverable",
    "indexable": "toot:indexable",
}

CONTEXT: list[Any] = [AS_CONTEXT, SECURITY_CONTEXT, EXTENSIONS]


def _loader() -> Any:
    from pyld.documentloader.frozen import FrozenDocumentLoader

    return FrozenDocumentLoader()


def expand(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Expand with pyld using only bundled contexts (never the network)."""
    from pyld import jsonld

    return jsonld.expand(document, {"documentLoader": _loader()})


def dropped_terms(document: dict[str, Any]) -> list[str]:
    """Properties of a compact document (recursively) that its @context does not define.

    A round trip through expansion and compaction keeps exactly the defined terms,
    so anything missing afterwards would be invisible to a JSON-LD consumer.
    """
    from pyld import jsonld

    context = document.get("@context", CONTEXT)
    compacted = jsonld.compact(
        expand(document), {"@context": context}, {"documentLoader": _loader()}
    )
    return sorted(_missing_keys(document, compacted, ""))


def _missing_keys(original: Any, roundtrip: Any, path: str) -> set[str]:
    missing: set[str] = set()
    if isinstance(original, dict):
        roundtrip = roundtrip if isinstance(roundtrip, dict) else {}
        for key, value in original.items():
            if key == "@context" or value is None or value == []:
                continue
            if key not in roundtrip:
                missing.add(f"{path}{key}")
                continue
            missing |= _missing_keys(value, roundtrip[key], f"{path}{key}.")
    elif isinstance(original, list):
        others = roundtrip if isinstance(roundtrip, list) else [roundtrip]
        for index, item in enumerate(original):
            other = others[index] if index < len(others) else None
            missing |= _missing_keys(item, other, path)
    return missing
