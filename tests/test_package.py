"""The package as a user gets it: a wheel and an sdist built from the tree, installed outside the repository.

The wheel goes into a fresh virtual environment (its dependencies are borrowed from the running environment through
a path entry, so the test needs no network) and a packaged workflow runs by name from an unrelated folder.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import tomllib
import venv
import zipfile
from pathlib import Path

import labwright
import pytest

ROOT = Path(labwright.__file__).resolve().parent


def _run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kw)


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    # --no-isolation: build with the setuptools installed here instead of downloading one.
    res = _run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)])
    assert res.returncode == 0, res.stderr[-3000:]
    return out


def test_wheel_and_sdist_carry_workflows_data_and_licences(dist):
    (wheel,) = dist.glob("labwright-*.whl")
    (sdist,) = dist.glob("labwright-*.tar.gz")
    assert sdist.stat().st_size > 0
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in (
        "labwright/examples/workflows/redox_kinetics.yaml",
        "labwright/examples/data/redox_kinetics/cv_0.1Vps.csv",
        "labwright/examples/data/mechanisms/textbook/wittig.yaml",
        "labwright/knowledge/hif_schema.json",
    ):
        assert name in names, name
    assert not any(n.startswith(("labwright/tests/", "labwright/benchmarks/")) for n in names)
    meta = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert "License-Expression: MIT" in meta  # SPDX expression (PEP 639), not the deprecated table form
    assert any(n.endswith("licenses/LICENSE") for n in names)
    assert any(n.endswith("LICENSE.oMeBench") for n in names)


@pytest.mark.slow
def test_installed_wheel_runs_a_packaged_workflow_by_name(dist, tmp_path):
    (wheel,) = dist.glob("labwright-*.whl")
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    py = env_dir / "bin" / "python"
    site = Path(_run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    # Dependencies come from the running environment; labwright itself only from the wheel.
    (site / "_labwright_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    res = _run([str(py), "-m", "pip", "install", "--no-deps", "--no-index", "--quiet", str(wheel)])
    assert res.returncode == 0, res.stderr[-3000:]

    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["LABWRIGHT_HOME"] = str(tmp_path / "home")
    where = _run([str(py), "-c", "import labwright; print(labwright.__file__)"], cwd=work, env=env)
    assert Path(where.stdout.strip()).is_relative_to(site), where.stdout + where.stderr

    version = _run([str(env_dir / "bin" / "labwright"), "--version"], cwd=work, env=env)
    expected = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert version.stdout.strip() == f"labwright {expected}"

    cmd = [str(env_dir / "bin" / "labwright"), "run", "mechanism_review", "--approve", "all", "--no-input"]
    res = _run(cmd, cwd=work, env=env)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    report = next((tmp_path / "home" / "runs").glob("mechanism_review-*/report.md"))
    assert "Fischer" in report.read_text() or "esterification" in report.read_text().lower()

    # The installed MCP server answers an MCP client over stdio (the official SDK's client).
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters

    server = StdioServerParameters(
        command=str(env_dir / "bin" / "labwright"), args=["mcp", "--role", "mechanist"], env=env, cwd=str(work)
    )

    async def list_names() -> set[str]:
        async with Client(server) as client:
            return {t.name for t in (await client.list_tools()).tools}

    import anyio

    assert {"validate_mechanism", "score_mechanism"} <= anyio.run(list_names)

    missing = _run([str(env_dir / "bin" / "labwright"), "run", "no_such_flow", "--no-input"], cwd=work, env=env)
    assert missing.returncode == 2
    assert "packaged workflow" in missing.stderr and "redox_kinetics" in missing.stderr
