"""Packaging contracts: the conda and pip dependency lists agree and declare every package the code imports; CI
runs the README's test command."""
from __future__ import annotations

import ast
import importlib.metadata
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

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


def _imported_top_levels(folder: Path) -> dict[str, str]:
    """Top-level module → one file importing it, for every absolute import in ``folder`` (function-level ones too)."""
    found: dict[str, str] = {}
    for path in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.partition(".")[0], str(path.relative_to(ROOT)))
    return found


def _declared(*groups: str) -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = list(project["dependencies"])
    for group in groups:
        requirements += project["optional-dependencies"][group]
    return {canonicalize_name(Requirement(r).name) for r in requirements}


@pytest.mark.parametrize("folder, groups", [("orglife_nb", ("hub",)), ("tests", ("test", "hub"))])
def test_every_imported_distribution_is_declared(folder, groups):
    """A package the code imports must not arrive only as someone else's dependency: the next release of that one
    may drop it. (``hub`` is the extra of auth/hub.py, which only a JupyterHub deployment imports.)"""
    distributions = importlib.metadata.packages_distributions()
    local = {path.stem for path in (ROOT / folder).glob("*.py")} | {"orglife_nb"}
    declared = _declared(*groups)
    undeclared = {}
    for top, where in _imported_top_levels(ROOT / folder).items():
        if top in sys.stdlib_module_names or top in local or top == "__future__":
            continue
        owners = {canonicalize_name(d) for d in distributions.get(top, ())}
        if not owners:  # not installed at all: an import a test skips without, or a typo, but never declared
            undeclared[top] = (where, "未安装")
        elif not owners & declared:
            undeclared[top] = (where, ", ".join(sorted(owners)))
    assert not undeclared, f"{folder}/ 导入了 pyproject.toml 未声明的包（模块: (导入位置, 所属发行包)）：{undeclared}"


def test_the_hub_authenticator_is_an_entry_point_and_the_deployment_names_it():
    from importlib.metadata import entry_points

    from traitlets.config.loader import PyFileConfigLoader

    from orglife_nb.auth.hub import OrglifeAuthenticator

    (found,) = [ep for ep in entry_points(group="jupyterhub.authenticators") if ep.name == "orglife"]
    assert found.load() is OrglifeAuthenticator
    config = PyFileConfigLoader("jupyterhub_config.py", path=str(ROOT / "deploy")).load_config()
    assert config.JupyterHub.authenticator_class == "orglife"


def test_every_setting_the_users_server_reads_reaches_it_through_the_spawner():
    """The hub spawns each user's forms server with only Spawner.env_keep of its environment: a setting the server
    reads but the hub does not keep can never take effect (ORGLIFE_MAX_KERNELS was one). The server reads its
    settings through ServeSettings only, so its ENVIRONMENT is the list."""
    from traitlets.config.loader import PyFileConfigLoader

    from orglife_nb.serving import ENVIRONMENT, ServeSettings

    assert {"ORGLIFE_DB", "ORGLIFE_POOL", "ORGLIFE_MAX_KERNELS", "ORGLIFE_MAX_KERNELS_PER_USER"} <= set(ENVIRONMENT)
    config = PyFileConfigLoader("jupyterhub_config.py", path=str(ROOT / "deploy")).load_config()
    assert set(ENVIRONMENT) <= set(config.Spawner.env_keep), set(ENVIRONMENT) - set(config.Spawner.env_keep)
    # and nothing in the server or the hub reads an ORGLIFE_ setting of its own past ServeSettings
    for path in (ROOT / "orglife_nb" / "auth").glob("*.py"):
        assert not re.findall(r"environ(?:\.get\(|\[)\"(ORGLIFE_(?!IDENTITY|QUERY)[A-Z_]+)", path.read_text()), path
    kept = {name: "7" for name in ENVIRONMENT if name.startswith("ORGLIFE_MAX") or name == "ORGLIFE_POOL"}
    settings = ServeSettings(environ=kept)
    assert (settings.max_kernels, settings.max_kernels_per_user, settings.pool_size) == (7, 7, 7)
