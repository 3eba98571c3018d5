"""Configuration: defaults, checks, and the example file staying true."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from fedchirp.config import Config, ConfigError, config_from_dict, load_config, render_toml

ROOT = Path(__file__).resolve().parents[1]


def test_example_config_lists_every_setting_with_its_default():
    example = (ROOT / "config.example.toml").read_text()
    assert example == render_toml(), "regenerate config.example.toml from render_toml()"
    assert config_from_dict(tomllib.loads(example), base_dir=ROOT) == Config(base_dir=ROOT)


def test_defaults_are_safe_for_the_internet():
    config = Config()
    assert config.federation.allow_private_addresses is False
    assert config.federation.allow_http is False
    assert config.posts.max_chars == 500
    assert config.server.listen_host == "127.0.0.1" and config.server.listen_port == 8080


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"server": {"domian": "x"}}, "unknown setting server.domian"),
        ({"srever": {}}, "unknown section [srever]"),
        ({"posts": {"max_chars": "500"}}, "posts.max_chars must be int"),
        ({"posts": {"max_chars": 0}}, "posts.max_chars must be positive"),
        ({"server": {"scheme": "gopher"}}, "server.scheme"),
        ({"server": {"domain": "https://example.com"}}, "server.domain must be host[:port]"),
        ({"server": {"listen_port": 70000}}, "server.listen_port"),
        ({"federation": {"allow_http": "yes"}}, "federation.allow_http must be bool"),
        (
            {"delivery": {"backoff_base_seconds": 100, "backoff_max_seconds": 10}},
            "backoff_max_seconds",
        ),
        ({"server": []}, "[server] must be a table"),
        ({"database": {"url": "postgres://db.example/fedchirp"}}, "database.url must start with"),
        ({"database": {"url": "postgresql://db.example/fedchirp"}}, "postgresql+asyncpg://"),
        ({"database": {"url": "mysql+aiomysql://db/fedchirp"}}, "database.url must start with"),
        ({"database": {"url": "sqlite+aiosqlite:///data.db"}}, "absolute SQLite path"),
        ({"database": {"url": 5432}}, "database.url must be str"),
    ],
)
def test_bad_settings_are_refused_with_a_reason(data, message):
    with pytest.raises(ConfigError) as caught:
        config_from_dict(data)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_integers_are_accepted_for_float_settings():
    config = config_from_dict({"delivery": {"backoff_base_seconds": 5}})
    assert config.delivery.backoff_base_seconds == 5.0


def test_relative_data_dir_is_relative_to_the_config_file(tmp_path):
    path = tmp_path / "conf" / "fedchirp.toml"
    path.parent.mkdir()
    path.write_text('[storage]\ndata_dir = "state"\n')
    config = load_config(path)
    assert config.database_path == (tmp_path / "conf" / "state" / "fedchirp.sqlite3")


def test_database_url_defaults_to_the_sqlite_file_in_data_dir(tmp_path):
    config = config_from_dict({"storage": {"data_dir": "state"}}, base_dir=tmp_path)
    assert config.database.url == ""
    path = tmp_path / "state" / "fedchirp.sqlite3"
    assert config.database_url == f"sqlite+aiosqlite:///{path}"
    assert config.database_url.startswith("sqlite+aiosqlite:////")


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+asyncpg://fedchirp:secret@127.0.0.1:5432/fedchirp",
        "postgresql+asyncpg:///fedchirp?host=/run/postgresql",
        "sqlite+aiosqlite:////var/lib/fedchirp/fedchirp.sqlite3",
    ],
)
def test_a_configured_database_url_is_used_as_given(tmp_path, url):
    config = config_from_dict({"database": {"url": url}}, base_dir=tmp_path)
    assert config.database_url == url
    assert config.database_path == tmp_path / "data" / "fedchirp.sqlite3"  # still there


def test_a_refused_database_url_is_not_echoed_with_its_password():
    with pytest.raises(ConfigError) as caught:
        config_from_dict({"database": {"url": "postgres://fedchirp:hunter2@db/fedchirp"}})
    assert "hunter2" not in str(caught.value)


def test_unreadable_or_invalid_files_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[server\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(broken)
