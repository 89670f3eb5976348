"""The wheel works alone: built from this checkout (sdist first, wheel from the sdist),
installed into a fresh venv outside the repository with PyPI as the only source, it serves
the default model with no further step, and pulls no torch, transformers or CUDA.

These tests reach PyPI (the only network they use) and take about a minute on a warm cache.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import tarfile
import zipfile
from pathlib import Path

import pytest
from fresh_install import Install, installed_wheel, pypi_only_env, run
from mcp_harness import call, connect

from mem0_mcp.model_layout import BUNDLE_DIR_NAME, MODEL_FILES, MODEL_SHA256, PACKAGE_DATA_DIR

pytestmark = pytest.mark.slow

MODEL_IN_WHEEL = f"mem0_mcp/{PACKAGE_DATA_DIR}/{BUNDLE_DIR_NAME}"
# Distributions that would mean the model packages' declared dependencies came along.
HEAVY = re.compile(r"^(torch|torchvision|transformers|sentence-transformers|triton|nvidia-.*)$")
LIST_DISTRIBUTIONS = (
    "import importlib.metadata as m; print(*(d.metadata['Name'] for d in m.distributions()))"
)


@pytest.fixture(scope="session")
def install(tmp_path_factory: pytest.TempPathFactory) -> Install:
    return installed_wheel(tmp_path_factory.getbasetemp() / "fresh-install")


def user_env(data_dir: Path) -> dict[str, str]:
    return pypi_only_env(MEM0_MCP_DATA_DIR=str(data_dir), MEM0_MCP_LOG_LEVEL="WARNING")


def python_prints(install: Install, code: str, env: dict[str, str]) -> str:
    """What ``code`` prints when run by the fresh venv's Python (outside the checkout)."""
    return run(install.command("venv", "python", "-c", code), cwd=install.workdir, env=env)


def test_wheel_carries_exactly_the_five_model_files_with_the_pinned_onnx(install: Install):
    with zipfile.ZipFile(install.wheel) as wheel:
        model_members = sorted(
            n for n in wheel.namelist() if n.startswith(f"mem0_mcp/{PACKAGE_DATA_DIR}/")
        )
        assert model_members == sorted(f"{MODEL_IN_WHEEL}/{name}" for name in MODEL_FILES)
        onnx = wheel.read(f"{MODEL_IN_WHEEL}/model.onnx")
    assert hashlib.sha256(onnx).hexdigest() == MODEL_SHA256


DASHBOARD = Path(__file__).resolve().parents[1] / "src" / "mem0_mcp" / "ui"


def test_wheel_carries_the_dashboards_templates_and_static_files(install: Install):
    data = {
        f"mem0_mcp/ui/{path.relative_to(DASHBOARD).as_posix()}"
        for path in DASHBOARD.rglob("*")
        if path.is_file() and path.suffix not in (".py", ".pyc")
    }
    assert {"mem0_mcp/ui/static/htmx.min.js", "mem0_mcp/ui/templates/page.html"} <= data
    with zipfile.ZipFile(install.wheel) as wheel:
        assert data <= set(wheel.namelist())
    code = (
        "from mem0_mcp.ui.render import ENV; from importlib.resources import files; "
        "print(len(ENV.get_template('page.html').blocks), "
        "files('mem0_mcp.ui').joinpath('static/htmx.min.js').is_file())"
    )
    assert python_prints(install, code, pypi_only_env()).split()[1] == "True"


def test_sdist_carries_the_build_step_and_pins_but_not_the_model(install: Install):
    with tarfile.open(install.sdist) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    assert {
        "build_support/backend.py",
        "build_support/wheel_model.py",
        "requirements-model.txt",
        "src/mem0_mcp/model_layout.py",
    } <= names
    assert not [name for name in names if name.endswith("model.onnx")]


@pytest.mark.parametrize("form", Install.FORMS)
def test_fresh_install_has_no_torch_transformers_or_cuda(install: Install, form: str):
    listing = run(
        install.command(form, "python", "-c", LIST_DISTRIBUTIONS),
        cwd=install.workdir,
        env=pypi_only_env(),
    )
    names = {re.sub(r"[-_.]+", "-", name).lower() for name in listing.split()}
    assert "mem0-mcp" in names
    assert not sorted(n for n in names if HEAVY.match(n))


def test_fresh_install_dependencies_are_consistent(install: Install):
    run(install.command("venv", "pip", "check"), cwd=install.workdir, env=pypi_only_env())


def test_doctor_loads_the_model_from_the_wheel_itself(install: Install, tmp_path: Path):
    env = user_env(tmp_path / "data")
    run(install.command("venv", "mem0-mcp", "doctor"), cwd=install.workdir, env=env)
    assert (tmp_path / "data" / "models" / BUNDLE_DIR_NAME / "model.onnx").is_file()
    code = "from mem0_mcp.model_bundle import source_files; print(source_files()['model.onnx'])"
    assert Path(python_prints(install, code, env).strip()).is_relative_to(install.venv)


@pytest.mark.parametrize("form", Install.FORMS)
async def test_add_and_search_over_stdio(install: Install, tmp_path: Path, form: str):
    server = install.command(form, "mem0-mcp", "serve")
    async with connect("stdio", user_env(tmp_path / "data"), server=server) as session:
        added = await call(
            session, "add_memory", text="Alex is allergic to peanuts", user_id="alex"
        )
        assert [r["event"] for r in added["results"]] == ["ADD"]
        found = await call(
            session, "search_memories", query="what is alex allergic to?", user_id="alex"
        )
    assert found["results"][0]["memory"] == "Alex is allergic to peanuts"


def test_an_install_missing_its_model_says_how_to_reinstall(install: Install, tmp_path: Path):
    code = "import mem0_mcp.model_bundle as m; print(m.PACKAGED_DIR)"
    packaged = Path(python_prints(install, code, pypi_only_env()).strip())
    hidden = packaged.with_name(packaged.name + ".hidden")
    packaged.rename(hidden)
    try:
        proc = subprocess.run(
            install.command("venv", "mem0-mcp", "doctor"),
            cwd=install.workdir,
            env=user_env(tmp_path / "data"),
            capture_output=True,
            text=True,
        )
    finally:
        hidden.rename(packaged)
    assert proc.returncode != 0
    assert "pip install --force-reinstall mem0-mcp" in proc.stderr
    assert "Traceback" not in proc.stderr
