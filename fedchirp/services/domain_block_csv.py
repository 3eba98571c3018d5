"""Domain blocklists in Mastodon's CSV format (Admin > Federation > Export / Import).

    #domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate
    bad.example,suspend,false,false,Spam,false

Only #domain is required on import; a missing #severity means suspend, as Mastodon
reads it, and missing flags mean false. A file with no header row is read as one
domain per line (first column). Every row is checked before anything is applied: one
bad row and nothing changes. A domain already blocked gets the row's settings (its
private comment stays).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import replace

from fedchirp.services import domain_blocks
from fedchirp.services.domain_blocks import BlockRequest, checked
from fedchirp.services.errors import Invalid
from fedchirp.store import Store
from fedchirp.store.domain_blocks import DomainBlock

COLUMNS = ("domain", "severity", "reject_media", "reject_reports", "public_comment", "obfuscate")
HEADER = [f"#{name}" for name in COLUMNS]
MAX_ROWS = 100_000
_TRUE = {"true", "1", "yes", "on", "t"}
_FALSE = {"false", "0", "no", "off", "f", ""}


def export_csv(blocks: Iterable[DomainBlock]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for block in blocks:
        writer.writerow(
            [
                block.domain,
                block.severity,
                _bool_text(block.reject_media),
                _bool_text(block.reject_reports),
                block.public_comment,
                _bool_text(block.obfuscate),
            ]
        )
    return out.getvalue()


def _bool_text(value: bool) -> str:
    return "true" if value else "false"


def parse_csv(text: str) -> list[BlockRequest]:
    """The blocks a blocklist asks for, each checked; Invalid("line N: ...") at the
    first bad row."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    requests: dict[str, BlockRequest] = {}
    columns: dict[str, int] | None = None
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        if columns is None:
            columns = _header(row, reader.line_num)
            if columns:
                continue
        if len(requests) >= MAX_ROWS:
            raise Invalid(f"line {reader.line_num}: more than {MAX_ROWS} blocks")
        try:
            request = checked(_request(row, columns))
        except Invalid as exc:
            raise Invalid(f"line {reader.line_num}: {exc}") from None
        requests[request.domain] = request  # a later row for a domain wins
    return list(requests.values())


def _header(row: list[str], line: int) -> dict[str, int]:
    """Column positions by name from a header row; {} when the row is data (a plain
    list of domains)."""
    names = [cell.strip().lower().lstrip("#") for cell in row]
    if "domain" not in names:
        if row[0].strip().startswith("#"):
            raise Invalid(f"line {line}: the header has no #domain column")
        return {}
    return {name: i for i, name in enumerate(names) if name in COLUMNS}


def _request(row: list[str], columns: dict[str, int]) -> BlockRequest:
    if not columns:
        return BlockRequest(domain=row[0], severity="suspend")

    def cell(name: str) -> str:
        at = columns.get(name)
        return row[at].strip() if at is not None and at < len(row) else ""

    return BlockRequest(
        domain=cell("domain"),
        severity=cell("severity").lower() or "suspend",
        reject_media=_flag(cell("reject_media"), "reject_media"),
        reject_reports=_flag(cell("reject_reports"), "reject_reports"),
        public_comment=cell("public_comment"),
        obfuscate=_flag(cell("obfuscate"), "obfuscate"),
    )


def _flag(text: str, name: str) -> bool:
    value = text.lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise Invalid(f"{name} must be true or false, not {text!r}")


async def import_csv(
    store: Store, text: str, on_change: Callable[[], None] | None = None
) -> tuple[int, int]:
    """Apply a blocklist (all or nothing); (added, updated)."""
    requests = parse_csv(text)
    known = {block.domain: block for block in await store.domain_blocks()}
    merged = [
        replace(request, private_comment=known[request.domain].private_comment)
        if request.domain in known
        else request
        for request in requests
    ]
    await domain_blocks.block_many(store, merged, on_change)
    updated = sum(request.domain in known for request in requests)
    return len(requests) - updated, updated
