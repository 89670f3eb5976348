"""mem0-mcp installed as a user would: a wheel built from this checkout, installed into a
fresh virtual environment outside it, with PyPI as the only package source.

``installed_wheel(folder)`` does the work once per test session (it is cached), so
test_wheel.py and test_configs.py share one build and one environment.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PYPI = "https://pypi.org/simple"
BIN = Path(sys.executable).parent
UV = shutil.which("uv", path=str(BIN)) or "uv"
UVX = shutil.which("uvx", path=str(BIN)) or "uvx"


def pypi_only_env(**extra: str) -> dict[str, str]:
    """This process's environment with every pip and uv setting that could add a package
    source removed (this machine's pip config adds local indexes and a wheel folder), PyPI
    named as the index, and no ``MEM0_MCP_*`` or ``PYTHONPATH`` leaking in."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PIP_", "UV_", "MEM0_MCP_", "VIRTUAL_ENV")) and k != "PYTHONPATH"
    }
    env.update(
        PIP_CONFIG_FILE=os.devnull,
        PIP_INDEX_URL=PYPI,
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        UV_NO_CONFIG="1",
        UV_DEFAULT_INDEX=PYPI,
        **extra,
    )
    return env


def run(argv: list[str | Path], *, cwd: Path, env: dict[str, str]) -> str:
    """Run a command to completion; its stdout, or an AssertionError carrying all its output."""
    proc = subprocess.run(
        [str(a) for a in argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=900
    )
    assert proc.returncode == 0, (
        f"{' '.join(map(str, argv))} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    )
    return proc.stdout


@dataclass(frozen=True)
class Install:
    """The built distributions and the environment holding the wheel."""

    sdist: Path
    wheel: Path
    venv: Path
    workdir: Path  # outside the repository: the cwd of every command run against the install

    FORMS = ("venv", "uvx")

    def command(self, form: str, program: str, *args: str) -> list[str]:
        """The command line running ``program`` of the install: from the venv pip installed
        into, or ``uvx --from <wheel> program`` (the uvx form, on the local wheel)."""
        if form == "venv":
            return [str(self.venv / "bin" / program), *args]
        return [UVX, "--from", str(self.wheel), program, *args]

    @property
    def uvx_serve(self) -> list[str]:
        return self.command("uvx", "mem0-mcp", "serve")


@functools.cache
def installed_wheel(workdir: Path) -> Install:
    """Build the sdist, then the wheel from it (``uv build``, as a release would), and
    ``pip install`` the wheel into a fresh venv under ``workdir``, reaching only PyPI."""
    workdir.mkdir(parents=True, exist_ok=True)
    env = pypi_only_env()
    dist = workdir / "dist"
    run([UV, "build", "--out-dir", dist, REPO], cwd=workdir, env=env)
    (sdist,) = dist.glob("mem0_mcp-*.tar.gz")
    (wheel,) = dist.glob("mem0_mcp-*.whl")
    venv = workdir / "venv"
    run([sys.executable, "-m", "venv", venv], cwd=workdir, env=env)
    run([venv / "bin" / "pip", "install", "--quiet", wheel], cwd=workdir, env=env)
    return Install(sdist=sdist, wheel=wheel, venv=venv, workdir=workdir)
