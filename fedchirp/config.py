"""Configuration: a TOML file read into frozen dataclasses.

Every setting has a default and a check; an unknown key or a value of the wrong
type is a ConfigError with a one-line reason, so a typo never passes silently.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fedchirp.config_checks import ConfigError, check_networks
from fedchirp.config_checks import check_http_url as _check_http_url
from fedchirp.config_checks import check_port as _check_port
from fedchirp.config_checks import check_positive as _check_positive
from fedchirp.config_limits import LIMITS_HELP, LimitsConfig
from fedchirp.config_registrations import REGISTRATIONS_HELP, RegistrationsConfig
from fedchirp.config_trends import TRENDS_HELP, TrendsConfig


@dataclass(frozen=True)
class ServerConfig:
    domain: str = "127.0.0.1:8080"  # host[:port] as it appears in every id we mint
    scheme: str = "http"  # "https" in production (TLS terminated by a proxy)
    listen_host: str = "127.0.0.1"
    listen_port: int = 8080
    name: str = "FedChirp"
    description: str = "A small corner of the fediverse."
    extended_description: str = ""  # the about page's longer text (HTML), for the API too
    max_request_bytes: int = 1_000_000
    # Proxies (addresses or CIDR networks) whose X-Forwarded-For is believed; from any
    # other peer the header is ignored (web/addresses.py).
    trusted_proxies: tuple[str, ...] = ()

    def check(self) -> None:
        if not re.fullmatch(r"[A-Za-z0-9.\-]+(:\d{1,5})?", self.domain):
            raise ConfigError(f"server.domain must be host[:port], got {self.domain!r}")
        if self.scheme not in ("http", "https"):
            raise ConfigError("server.scheme must be 'http' or 'https'")
        _check_port("server.listen_port", self.listen_port)
        _check_positive("server.max_request_bytes", self.max_request_bytes)
        check_networks("server.trusted_proxies", self.trusted_proxies)


@dataclass(frozen=True)
class BrandingConfig:
    accent_color: str = "#5b4bdb"
    logo: str = ""  # an image file, relative to the config file; empty for none

    def check(self) -> None:
        if not re.fullmatch(r"#[0-9A-Fa-f]{6}", self.accent_color):
            raise ConfigError("branding.accent_color must look like #5b4bdb")


@dataclass(frozen=True)
class StorageConfig:
    data_dir: str = "data"  # relative paths are relative to the config file

    def check(self) -> None:
        if not self.data_dir:
            raise ConfigError("storage.data_dir must not be empty")


DATABASE_URL_PREFIXES = ("sqlite+aiosqlite://", "postgresql+asyncpg://")


@dataclass(frozen=True)
class DatabaseConfig:
    # Empty: the SQLite file fedchirp.sqlite3 in storage.data_dir. Otherwise a
    # SQLAlchemy URL: postgresql+asyncpg://user:password@host:5432/dbname, or
    # sqlite+aiosqlite:////absolute/path.sqlite3 for a SQLite file elsewhere.
    url: str = ""

    def check(self) -> None:
        if not self.url:
            return
        if not self.url.startswith(DATABASE_URL_PREFIXES):
            raise ConfigError(
                "database.url must start with sqlite+aiosqlite:// or postgresql+asyncpg:// "
                f"(or be empty for SQLite in storage.data_dir), got {self.url.split(':')[0]!r}"
            )
        if self.url.startswith("sqlite+aiosqlite://") and not self.url.startswith(
            "sqlite+aiosqlite:////"
        ):
            raise ConfigError(
                "database.url must name an absolute SQLite path, "
                "as in sqlite+aiosqlite:////var/lib/fedchirp/fedchirp.sqlite3"
            )


@dataclass(frozen=True)
class PostsConfig:
    max_chars: int = 500

    def check(self) -> None:
        _check_positive("posts.max_chars", self.max_chars)


@dataclass(frozen=True)
class MediaConfig:
    max_upload_bytes: int = 16 * 1024 * 1024
    max_pixels: int = 3840 * 2160  # larger images are scaled down to this many pixels
    # Larger images are refused before they are decoded: decoding costs 4 bytes of memory a
    # pixel (a 144-megapixel PNG of a few KB took 2.5 s and hundreds of MB). 50 megapixels
    # takes the largest phone and camera photos (8688x5792).
    max_decode_pixels: int = 50_000_000
    preview_pixels: int = 640 * 360
    max_attachments: int = 4
    # "local": files in storage.data_dir/media, served by this process. "s3": objects in an
    # S3-compatible bucket, so several web machines serve them without a shared disk.
    backend: str = "local"
    s3_endpoint_url: str = ""
    s3_region: str = ""
    s3_bucket: str = ""
    s3_access_key_id: str = ""
    s3_secret_access_key: str = ""
    s3_public_url: str = ""  # empty: every web process serves /media/{name} from the bucket

    def check(self) -> None:
        _check_positive("media.max_upload_bytes", self.max_upload_bytes)
        _check_positive("media.max_pixels", self.max_pixels)
        _check_positive("media.max_decode_pixels", self.max_decode_pixels)
        _check_positive("media.preview_pixels", self.preview_pixels)
        _check_positive("media.max_attachments", self.max_attachments)
        if self.backend not in ("local", "s3"):
            raise ConfigError(f"media.backend must be 'local' or 's3', got {self.backend!r}")
        if self.backend == "s3":
            self._check_s3()

    def _check_s3(self) -> None:
        # Every one is needed: without them botocore would go looking for credentials
        # and a region itself (environment, files, the EC2 metadata service).
        required = (
            "s3_bucket",
            "s3_endpoint_url",
            "s3_region",
            "s3_access_key_id",
            "s3_secret_access_key",
        )
        missing = [f"media.{name}" for name in required if not getattr(self, name)]
        if missing:
            raise ConfigError(f"media.backend 's3' needs {', '.join(missing)}")
        _check_http_url("media.s3_endpoint_url", self.s3_endpoint_url)
        if self.s3_public_url:
            _check_http_url("media.s3_public_url", self.s3_public_url)


@dataclass(frozen=True)
class FederationConfig:
    # The SSRF guard: outbound fetches to loopback/private networks are refused
    # unless this is set. Tests and the demo set it; production never should.
    allow_private_addresses: bool = False
    # Talk to remote servers over plain http (tests and the demo only).
    allow_http: bool = False
    # Mastodon's window: a signature is good for 5 minutes after its Date, plus an
    # hour of clock skew either way.
    signature_max_age_seconds: int = 3_900
    signature_max_future_seconds: int = 3_600
    fetch_timeout_seconds: float = 10.0
    max_document_bytes: int = 1_000_000
    actor_refresh_seconds: int = 86_400

    def check(self) -> None:
        _check_positive("federation.signature_max_age_seconds", self.signature_max_age_seconds)
        _check_positive(
            "federation.signature_max_future_seconds", self.signature_max_future_seconds
        )
        _check_positive("federation.fetch_timeout_seconds", self.fetch_timeout_seconds)
        _check_positive("federation.max_document_bytes", self.max_document_bytes)
        _check_positive("federation.actor_refresh_seconds", self.actor_refresh_seconds)


@dataclass(frozen=True)
class DeliveryConfig:
    concurrency: int = 64
    per_host: int = 8
    max_attempts: int = 16
    backoff_base_seconds: float = 30.0
    backoff_max_seconds: float = 6 * 3600.0
    poll_seconds: float = 5.0
    timeout_seconds: float = 20.0
    # Days (UTC) with failed deliveries and no answer between before a host is unavailable.
    unavailable_after_days: int = 7

    def check(self) -> None:
        _check_positive("delivery.concurrency", self.concurrency)
        _check_positive("delivery.per_host", self.per_host)
        _check_positive("delivery.max_attempts", self.max_attempts)
        _check_positive("delivery.backoff_base_seconds", self.backoff_base_seconds)
        if self.backoff_max_seconds < self.backoff_base_seconds:
            raise ConfigError("delivery.backoff_max_seconds must be >= backoff_base_seconds")
        _check_positive("delivery.poll_seconds", self.poll_seconds)
        _check_positive("delivery.timeout_seconds", self.timeout_seconds)
        _check_positive("delivery.unavailable_after_days", self.unavailable_after_days)


@dataclass(frozen=True)
class JobsConfig:
    # Jobs (incoming activities, scheduled posts, actor refreshes) one worker runs at once.
    concurrency: int = 8
    # A job whose worker died is taken up by another once its lease runs out.
    lease_seconds: float = 60.0
    poll_seconds: float = 5.0

    def check(self) -> None:
        _check_positive("jobs.concurrency", self.concurrency)
        _check_positive("jobs.lease_seconds", self.lease_seconds)
        _check_positive("jobs.poll_seconds", self.poll_seconds)


@dataclass(frozen=True)
class Config:
    server: ServerConfig = field(default_factory=ServerConfig)
    branding: BrandingConfig = field(default_factory=BrandingConfig)
    storage: StorageConfig = field(default_factory=StorageConfig)
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    posts: PostsConfig = field(default_factory=PostsConfig)
    media: MediaConfig = field(default_factory=MediaConfig)
    federation: FederationConfig = field(default_factory=FederationConfig)
    delivery: DeliveryConfig = field(default_factory=DeliveryConfig)
    jobs: JobsConfig = field(default_factory=JobsConfig)
    registrations: RegistrationsConfig = field(default_factory=RegistrationsConfig)
    limits: LimitsConfig = field(default_factory=LimitsConfig)
    trends: TrendsConfig = field(default_factory=TrendsConfig)
    base_dir: Path = field(default_factory=Path.cwd)  # where relative paths start

    @property
    def base_url(self) -> str:
        return f"{self.server.scheme}://{self.server.domain}"

    @property
    def data_dir(self) -> Path:
        return (self.base_dir / self.storage.data_dir).resolve()

    @property
    def logo_path(self) -> Path | None:
        return (self.base_dir / self.branding.logo).resolve() if self.branding.logo else None

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"

    @property
    def database_path(self) -> Path:
        """The SQLite file used when database.url is empty."""
        return self.data_dir / "fedchirp.sqlite3"

    @property
    def database_url(self) -> str:
        """The SQLAlchemy URL of the database: database.url, or the SQLite file in data_dir."""
        return self.database.url or f"sqlite+aiosqlite:///{self.database_path}"

    def check(self) -> Config:
        for section in _SECTIONS:
            getattr(self, section).check()
        return self


_SECTIONS: dict[str, type] = {
    "server": ServerConfig,
    "branding": BrandingConfig,
    "storage": StorageConfig,
    "database": DatabaseConfig,
    "posts": PostsConfig,
    "media": MediaConfig,
    "federation": FederationConfig,
    "delivery": DeliveryConfig,
    "jobs": JobsConfig,
    "registrations": RegistrationsConfig,
    "limits": LimitsConfig,
    "trends": TrendsConfig,
}


def _build_section(name: str, cls: type, values: Any) -> Any:
    if not isinstance(values, dict):
        raise ConfigError(f"[{name}] must be a table")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in values.items():
        if key not in fields:
            raise ConfigError(f"unknown setting {name}.{key}")
        expected = type(fields[key].default)
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if expected is tuple and isinstance(value, list):
            value = tuple(value)
        if type(value) is not expected:
            kind = "a list" if expected is tuple else expected.__name__
            raise ConfigError(f"{name}.{key} must be {kind}, got {type(value).__name__}")
        kwargs[key] = value
    return cls(**kwargs)


def config_from_dict(data: dict[str, Any], base_dir: Path | None = None) -> Config:
    """Build a checked Config from parsed TOML (or a dict shaped like it)."""
    unknown = set(data) - set(_SECTIONS)
    if unknown:
        raise ConfigError(f"unknown section [{sorted(unknown)[0]}]")
    sections = {
        name: _build_section(name, cls, data.get(name, {})) for name, cls in _SECTIONS.items()
    }
    return Config(**sections, base_dir=base_dir or Path.cwd()).check()


def load_config(path: Path) -> Config:
    """Read and check a TOML config file."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
    return config_from_dict(data, base_dir=path.resolve().parent)


_HELP = {
    "server.domain": "host[:port] people and servers use to reach this instance; it is part of "
    "every id we publish, so choose it before federating",
    "server.scheme": '"https" in production (behind a TLS proxy); "http" only for local trials',
    "server.listen_host": "address to listen on",
    "server.listen_port": "port to listen on",
    "server.max_request_bytes": "largest request body accepted (bigger ones get 413)",
    "server.name": "shown on every page and to other servers",
    "server.trusted_proxies": 'your reverse proxies, e.g. ["127.0.0.1", "10.0.0.0/8"]: only '
    "from these is X-Forwarded-For believed, for the client address rate limits count by",
    "branding.accent_color": "colour of links and buttons on the web pages",
    "branding.logo": "image shown in the page header (PNG, JPEG, GIF, WebP or SVG file)",
    "storage.data_dir": "media, and the SQLite database unless database.url is set; "
    "relative to this file",
    "database.url": 'empty for SQLite (fedchirp.sqlite3 in storage.data_dir), or PostgreSQL: '
    '"postgresql+asyncpg://user:password@host:5432/dbname"',
    "posts.max_chars": "longest post, in characters (links count 23)",
    "media.max_upload_bytes": "largest upload accepted",
    "media.max_pixels": "uploads with more pixels are scaled down",
    "media.max_decode_pixels": "uploads with more pixels are refused before they are decoded",
    "media.backend": '"local" (files in storage.data_dir/media) or "s3" (an S3-compatible '
    "bucket, for several web machines without a shared disk)",
    "media.s3_endpoint_url": 'the bucket service, e.g. "https://s3.eu-west-1.amazonaws.com" '
    'or "http://127.0.0.1:9000" (MinIO)',
    "media.s3_region": 'e.g. "eu-west-1"; stores without regions take "us-east-1"',
    "media.s3_bucket": "bucket holding the uploads (created beforehand)",
    "media.s3_access_key_id": "credentials are always read from here, never looked up elsewhere",
    "media.s3_public_url": "empty: each web process serves /media/ from the bucket; or the "
    "bucket's public or CDN URL, for attachment links to point straight at it",
    "federation.allow_private_addresses": "let outbound requests reach loopback/private "
    "networks (the SSRF guard); only for tests and the demo",
    "federation.allow_http": "talk to other servers over plain http; only for tests and the demo",
    "federation.signature_max_age_seconds": "oldest signature Date accepted (5 min + 1 h skew)",
    "federation.signature_max_future_seconds": "how far ahead a signature Date may be",
    "delivery.concurrency": "deliveries in flight at once, per worker process",
    "delivery.per_host": "of those, at most this many to one remote host",
    "delivery.max_attempts": "tries per delivery before giving up",
    "delivery.backoff_base_seconds": "first retry delay; doubles each try",
    "delivery.backoff_max_seconds": "longest retry delay",
    "delivery.unavailable_after_days": "days with failed deliveries (and no answer) until a "
    "host is unavailable: nothing is sent to it until it sends us an activity",
    "jobs.concurrency": "jobs (incoming activities, scheduled posts, refreshes) run at once",
    "jobs.lease_seconds": "a job whose worker died is taken up again after this long",
    **REGISTRATIONS_HELP,
    **LIMITS_HELP,
    **TRENDS_HELP,
}


def _toml_value(value: object) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)


def render_toml(config: Config | None = None) -> str:
    """A commented config file holding config's values (defaults when None)."""
    config = config or Config()
    lines = ["# FedChirp configuration. Every setting is optional; shown are the values in use."]
    for name in _SECTIONS:
        section = getattr(config, name)
        lines += ["", f"[{name}]"]
        for f in dataclasses.fields(section):
            help_text = _HELP.get(f"{name}.{f.name}")
            if help_text:
                lines.append(f"# {help_text}")
            lines.append(f"{f.name} = {_toml_value(getattr(section, f.name))}")
    return "\n".join(lines) + "\n"


def replace(config: Config, **sections: dict[str, Any]) -> Config:
    """A copy of config with some settings changed, e.g. replace(c, server={"name": "x"})."""
    changed = {n: dataclasses.replace(getattr(config, n), **v) for n, v in sections.items()}
    return dataclasses.replace(config, **changed).check()
