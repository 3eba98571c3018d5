"""The [limits] section: rates of the abuse limits (services/ratelimits.py applies them).

Rates use the `limits` library's notation: "25/5 minutes", or several at once, each of
which must hold: "25/5 minutes; 50/hour". The defaults follow Mastodon's (25 sign-in
attempts per address in 5 minutes; 300 posts in 3 hours; 30 uploads in 30 minutes).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from fedchirp.config_checks import ConfigError, check_rate

STORAGES = ("auto", "database", "memory")


@dataclass(frozen=True)
class LimitsConfig:
    # Failed sign-ins (web form, OAuth password grant and code exchange) from one address.
    login_per_address: str = "25/5 minutes; 50/hour"
    # Failed sign-ins to one account from all addresses together. Keep it above what one
    # address may try in the same time, so one address alone can never lock a user out.
    login_per_account: str = "100/hour"
    sign_up_per_address: str = "25/5 minutes"
    statuses_per_account: str = "300/3 hours"
    media_per_account: str = "30/30 minutes"
    # Activities from one remote server (the host of the signing key).
    inbox_per_server: str = "3000/5 minutes"
    # Where the counters live. "auto": in the database on PostgreSQL, so every web process
    # shares them; in memory on SQLite, which runs in one process anyway and whose one
    # writer would otherwise take a write per request. "database" or "memory" to choose.
    storage: str = "auto"
    # The inbox counts in memory, per web process, even with the database storage: a
    # database write for every incoming activity would cost inbox throughput. With N web
    # processes a server may send N times inbox_per_server. true: count in the storage too.
    inbox_shared: bool = False

    def check(self) -> None:
        for f in fields(self):
            if f.name.endswith(("_per_address", "_per_account", "_per_server")):
                check_rate(f"limits.{f.name}", getattr(self, f.name))
        if self.storage not in STORAGES:
            raise ConfigError(
                f"limits.storage must be one of {', '.join(STORAGES)}, got {self.storage!r}"
            )


LIMITS_HELP = {
    "limits.login_per_address": 'failed sign-ins allowed from one address, e.g. "25/5 minutes" '
    'or several that must all hold: "25/5 minutes; 50/hour" (then 429 with Retry-After)',
    "limits.login_per_account": "failed sign-ins to one account from all addresses; keep it "
    "above what one address may try, so one address alone cannot lock a user out",
    "limits.sign_up_per_address": "sign-up attempts from one address",
    "limits.statuses_per_account": "posts one account may publish (API and web)",
    "limits.media_per_account": "uploads one account may make",
    "limits.inbox_per_server": "activities accepted from one remote server (the host of its "
    "signing key)",
    "limits.storage": '"auto": counters in the database on PostgreSQL (shared by all web '
    "processes), in memory on SQLite (one process; saves its single writer a write per "
    'request); or "database", "memory"',
    "limits.inbox_shared": "count inbox_per_server in the shared storage too (a database "
    "write per activity); by default each web process counts it in memory",
}
