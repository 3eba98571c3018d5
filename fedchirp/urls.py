"""The one place that knows how local ids and pages are spelled."""

from __future__ import annotations

from urllib.parse import quote


class Urls:
    """Absolute URLs of local objects, given the instance's public base URL."""

    def __init__(self, base_url: str) -> None:
        self.base = base_url.rstrip("/")

    def actor(self, username: str) -> str:
        return f"{self.base}/users/{quote(username)}"

    def key_id(self, username: str) -> str:
        return f"{self.actor(username)}#main-key"

    def inbox(self, username: str) -> str:
        return f"{self.actor(username)}/inbox"

    def outbox(self, username: str) -> str:
        return f"{self.actor(username)}/outbox"

    def followers(self, username: str) -> str:
        return f"{self.actor(username)}/followers"

    def following(self, username: str) -> str:
        return f"{self.actor(username)}/following"

    def featured(self, username: str) -> str:
        """The pinned posts (toot:featured), at the path Mastodon uses."""
        return f"{self.actor(username)}/collections/featured"

    def featured_tags(self, username: str) -> str:
        """The featured hashtags (toot:featuredTags), at the path Mastodon uses."""
        return f"{self.actor(username)}/collections/tags"

    def profile(self, username: str) -> str:
        return f"{self.base}/@{quote(username)}"

    def status(self, username: str, status_id: int) -> str:
        return f"{self.actor(username)}/statuses/{status_id}"

    def status_page(self, username: str, status_id: int) -> str:
        return f"{self.profile(username)}/{status_id}"

    def activity(self, username: str, kind: str, token: str | int) -> str:
        """Id for an activity that is not a post, e.g. a Follow or a Like."""
        return f"{self.actor(username)}#{kind}/{token}"

    @property
    def shared_inbox(self) -> str:
        return f"{self.base}/inbox"

    @property
    def instance_actor(self) -> str:
        return f"{self.base}/actor"

    @property
    def instance_key_id(self) -> str:
        return f"{self.instance_actor}#main-key"

    def tag(self, name: str) -> str:
        return f"{self.base}/tags/{quote(name)}"

    def is_local(self, uri: str) -> bool:
        return uri == self.base or uri.startswith(self.base + "/")
