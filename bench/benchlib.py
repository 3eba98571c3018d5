"""Pieces every bench script needs: free ports, ending the processes it started, and
loading tests/ helpers (the PostgreSQL cluster, the stub actor server) by path."""

from __future__ import annotations

import importlib.util
import multiprocessing.process
import signal
import socket
import subprocess
import sys
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def end_process(process: multiprocessing.process.BaseProcess | None) -> None:
    if process is None or not process.is_alive():
        return
    process.terminate()
    process.join(10)
    if process.is_alive():
        process.kill()
        process.join(10)


def end_popen(process: subprocess.Popen | None, sig: int = signal.SIGTERM) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=15)


def tests_module(name: str) -> ModuleType:
    """tests/<name>.py; tests/ is no package."""
    path = REPO / "tests" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"_fedchirp_tests_{name}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module
