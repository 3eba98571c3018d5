"""What any store backend raises for a conflict the services must handle."""


class IdCollision(Exception):
    """No free time-ordered id could be drawn (many posts in one millisecond)."""


class DuplicateIdempotencyKey(Exception):
    """A post with this Idempotency-Key was written meanwhile."""


class MediaUnavailable(Exception):
    """An upload to attach is not the author's, or is attached to another post already."""

    def __init__(self, media_id: int) -> None:
        super().__init__(f"media {media_id} cannot be attached")
        self.media_id = media_id
