"""JSON-LD: the @context we publish, and a check that our documents mean what they say.

Fediverse servers read activities as plain JSON with the AS2 compact terms, so
we do not run JSON-LD processing on every incoming request. What pyld gives us
is an independent check of what we emit: expanded with the real AS2 and
security contexts, every property we wrote must map to a defined IRI.
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
    "blurhash": "toot:blurhash",
    "focalPoint": {"@container": "@list", "@id": "toot:focalPoint"},
    "featured": {"@id": "toot:featured", "@type": "@id"},
    "featuredTags": {"@id": "toot:featuredTags", "@type": "@id"},
    "Emoji": "toot:Emoji",
    # Profile fields, as Mastodon names them.
    "schema": "http://schema.org#",
    "PropertyValue": "schema:PropertyValue",
    "value": "schema:value",
}

CONTEXT: list[Any] = [AS_CONTEXT, SECURITY_CONTEXT, EXTENSIONS]


def _loader() -> Any:
    from pyld.documentloader.frozen import FrozenDocumentLoader

    return FrozenDocumentLoader()


def expand(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Expand with pyld using only bundled contexts (never the network)."""
    from pyld import jsonld

    return jsonld.expand(document, {"documentLoader": _loader()})


def undefined_terms(document: dict[str, Any]) -> list[str]:
    """Properties (at any depth) that our @context does not define.

    The AS2 context sets "@vocab": "_:", so an undefined term is not dropped on
    expansion but turned into a blank-node IRI "_:term"; a JSON-LD consumer
    cannot tell what it means. Those are what this returns.
    """
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key.startswith("_:"):
                    found.add(key[2:])
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(expand(document))
    return sorted(found)
