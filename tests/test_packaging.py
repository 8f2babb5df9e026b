"""Packaging contracts: the conda and pip dependency lists agree; CI runs the README's test command."""
from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _normalise(requirement: str) -> str:
    return re.sub(r"\s+", "", requirement).lower()


def test_environment_yml_lists_the_same_dependencies_as_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pip_side = set(map(_normalise, project["dependencies"]))
    pip_side |= set(map(_normalise, project["optional-dependencies"]["test"]))
    environment = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    conda_pip = next(item["pip"] for item in environment["dependencies"] if isinstance(item, dict))
    conda_side = set(map(_normalise, conda_pip))
    assert conda_side == pip_side, {"only in environment.yml": conda_side - pip_side,
                                    "only in pyproject.toml": pip_side - conda_side}


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```bash\n(.*?)```", readme, flags=re.S)
    assert blocks[0].splitlines()[0].startswith("# 1.") and "orglife demo" in blocks[0]
    assert blocks[1].splitlines()[0].startswith("# 2.") and "pytest" in blocks[1]
    extracted = subprocess.run(["awk", r"/^# 2\./{getline; print; exit}", "README.md"], cwd=ROOT,
                               capture_output=True, text=True, check=True).stdout.strip()
    assert extracted == blocks[1].splitlines()[1].strip()
    assert "awk '/^# 2\\./{getline; print; exit}' README.md" in (ROOT / ".ci" / "run").read_text()


def test_orglife_command_is_installed():
    result = subprocess.run(["orglife", "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    assert "template" in result.stdout and "import" in result.stdout
