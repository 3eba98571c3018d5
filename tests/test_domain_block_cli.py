"""`fedchirp domain-block add/remove/list/import/export` on a real (SQLite) instance, and the
Mastodon CSV format it reads and writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from fedchirp.federation.domain_blocks import candidates
from fedchirp.services.domain_block_csv import export_csv, parse_csv
from fedchirp.services.domain_blocks import normalise_domain
from fedchirp.services.errors import Invalid
from fedchirp.store.domain_blocks import DomainBlock
from fedchirp.web.api.admin_domain_blocks import public_domain
from tests.cliutil import Result, run_main

HEADER = "#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate"


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], tmp_path: Path):
    """cli(*argv) -> Result of `fedchirp --config X ...` on an initialised instance."""
    config = tmp_path / "instance" / "config.toml"

    def _run(*argv: str) -> Result:
        return run_main(capsys, ["--config", str(config), *argv])

    assert _run("init", "--port", "18082").code == 0
    return _run


def _listed(cli) -> list[str]:
    result = cli("domain-block", "list")
    assert result.code == 0
    return result.out.splitlines()


def _one_line_error(result: Result, *words: str) -> None:
    assert result.code == 2 and result.out == ""
    assert len(result.err.strip().splitlines()) == 1, result.err
    for word in words:
        assert word in result.err


def test_add_list_change_remove(cli):
    assert _listed(cli) == ["no domains are blocked"]
    added = cli("domain-block", "add", "Bad.Example", "--severity", "suspend", "--reject-media",
                "--public-comment", "spam")  # fmt: skip
    assert (added.code, added.out) == (0, "bad.example blocked: suspend reject-media\n")
    assert _listed(cli) == ["bad.example" + " " * 29 + " suspend reject-media  # spam"]

    # Adding again changes the block; there is still one.
    assert cli("domain-block", "add", "bad.example", "--severity", "silence").code == 0
    assert _listed(cli) == ["bad.example" + " " * 29 + " silence"]

    assert cli("domain-block", "remove", "bad.example").out == "bad.example unblocked\n"
    assert _listed(cli) == ["no domains are blocked"]
    _one_line_error(cli("domain-block", "remove", "bad.example"), "not blocked")


def test_bad_input_changes_nothing(cli):
    _one_line_error(
        cli("domain-block", "add", "bad.example", "--severity", "ban"), "severity", "'ban'"
    )
    _one_line_error(cli("domain-block", "add", "https://bad.example/"), "not a domain")
    _one_line_error(cli("domain-block", "add", "bad..example"), "not a domain")
    assert _listed(cli) == ["no domains are blocked"]


def test_import_checks_every_line_first(cli, tmp_path: Path):
    bad = tmp_path / "bad.csv"
    bad.write_text(
        f"{HEADER}\ngood.example,suspend,false,false,,false\nworse.example,obliterate,,,,\n",
        encoding="utf-8",
    )
    _one_line_error(cli("domain-block", "import", str(bad)), "line 3", "obliterate")
    bad.write_text(f"{HEADER}\ngood.example,suspend,maybe,false,,false\n", encoding="utf-8")
    _one_line_error(cli("domain-block", "import", str(bad)), "line 2", "reject_media")
    bad.write_text("#severity,#comment\nsuspend,x\n", encoding="utf-8")
    _one_line_error(cli("domain-block", "import", str(bad)), "line 1", "#domain")
    bad.write_bytes(b"\xff\xfe\x00bad")
    _one_line_error(cli("domain-block", "import", str(bad)), "UTF-8")
    _one_line_error(cli("domain-block", "import", str(tmp_path / "missing.csv")), "missing.csv")
    assert _listed(cli) == ["no domains are blocked"]


def test_import_adds_and_updates_and_export_writes_mastodon_csv(cli, tmp_path: Path):
    assert (
        cli("domain-block", "add", "old.example", "--private-comment", "seen in #abuse").code == 0
    )
    blocklist = tmp_path / "in.csv"
    blocklist.write_text(
        f"{HEADER}\n"
        "old.example,suspend,true,true,\"Spam, lots\",false\n"
        "*.new.example,,,,,true\n",  # no severity: suspend, as Mastodon reads it
        encoding="utf-8",
    )  # fmt: skip
    result = cli("domain-block", "import", str(blocklist))
    assert result.out == f"imported {blocklist}: 1 blocks added, 1 updated\n"

    exported = cli("domain-block", "export")
    assert exported.out == (
        f"{HEADER}\n"
        'old.example,suspend,true,true,"Spam, lots",false\n'
        "new.example,suspend,false,false,,true\n"
    )
    out = tmp_path / "out.csv"
    assert cli("domain-block", "export", str(out)).out == f"exported 2 blocks to {out}\n"
    assert out.read_text(encoding="utf-8") == exported.out

    # The export imports back unchanged; the private comment stayed (CSV has none).
    assert cli("domain-block", "import", str(out)).out.endswith("0 blocks added, 2 updated\n")
    assert cli("domain-block", "export").out == exported.out


def test_a_plain_list_of_domains_is_a_list_of_suspensions():
    requests = parse_csv("spam.example\nmore.example:8443\n\n")
    assert [(r.domain, r.severity) for r in requests] == [
        ("spam.example", "suspend"),
        ("more.example:8443", "suspend"),
    ]
    with pytest.raises(Invalid, match="line 2"):
        parse_csv("spam.example\nnot a domain\n")


def test_a_block_covers_subdomains_and_ports():
    assert candidates("a.b.example.com:8443") == [
        "a.b.example.com:8443", "a.b.example.com", "b.example.com:8443", "b.example.com",
        "example.com:8443", "example.com", "com:8443", "com",
    ]  # fmt: skip
    assert candidates("127.0.0.1:3000") == ["127.0.0.1:3000", "127.0.0.1"]
    assert normalise_domain(" *.Bad.Example. ") == "bad.example"
    assert normalise_domain("bücher.example") == "xn--bcher-kva.example"


def test_obfuscated_domains_are_masked_in_public():
    # The examples of Mastodon's ObfuscatedDomainPresenter spec.
    for domain, shown in [("abc.com", "ab*.**m"), ("mastodon.social", "mast****.***ial")]:
        block = DomainBlock(1, domain, "suspend", False, False, "", "", True, "")
        assert public_domain(block) == shown
    assert export_csv([]) == HEADER + "\n"
