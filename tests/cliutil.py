"""Running `fedchirp.cli.main` in the test's process, as the CLI tests do."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pytest

from fedchirp.cli import main


@dataclass
class Result:
    code: int
    out: str
    err: str


def run_main(capsys: pytest.CaptureFixture[str], argv: Sequence[str]) -> Result:
    """main(argv) with what it printed (and nothing printed before)."""
    capsys.readouterr()
    code = main(list(argv))
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)
