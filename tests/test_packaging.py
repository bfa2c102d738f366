"""The project's set-up files agree with each other and install what each user needs."""

from __future__ import annotations

import importlib.metadata
import re
import sys
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
JUPYTER_PACKAGES = {"jupyterlab", "notebook", "nbgrader", "jupyter-server", "ipykernel", "nbclassic"}


def requirements(extra: str | None = None) -> list[Requirement]:
    project = PYPROJECT["project"]
    lines = project["dependencies"] if extra is None else project["optional-dependencies"][extra]
    return [Requirement(line) for line in lines]


def environment_yml_requirements() -> dict[str, Requirement]:
    spec = yaml.safe_load((ROOT / "environment.yml").read_text())
    found = {}
    for entry in spec["dependencies"]:
        for line in entry["pip"] if isinstance(entry, dict) else [entry]:
            if line.startswith("-e") or line in ("pip",) or line.startswith("python"):
                continue
            requirement = Requirement(line)
            found[canonicalize_name(requirement.name)] = requirement
    return found


def test_environment_yml_lists_the_same_dependencies_as_pyproject():
    conda = environment_yml_requirements()
    wanted = {canonicalize_name(r.name): r for r in requirements() + requirements("course")}
    assert set(conda) == set(wanted), "environment.yml and pyproject.toml (core + course) list different packages"
    for name, requirement in wanted.items():
        assert conda[name].specifier == requirement.specifier, f"{name}: {conda[name]} vs {requirement}"


def test_environment_yml_installs_the_course_package_itself():
    assert "- -e ." in (ROOT / "environment.yml").read_text()


def dependency_closure(name: str, extras: frozenset[str] = frozenset()) -> set[str]:
    """Every distribution that installing ``name[extras]`` pulls in (from installed metadata)."""
    seen: set[str] = set()
    todo = [(canonicalize_name(name), extras)]
    while todo:
        current, current_extras = todo.pop()
        if current in seen and not current_extras:
            continue
        seen.add(current)
        for line in importlib.metadata.requires(current) or []:
            requirement = Requirement(line)
            environments = [{"extra": e} for e in current_extras] or [{"extra": ""}]
            if requirement.marker is None or any(requirement.marker.evaluate(env) for env in environments):
                todo.append((canonicalize_name(requirement.name), frozenset(requirement.extras)))
    return seen


def test_installing_the_package_alone_pulls_in_no_jupyter_packages():
    closure = dependency_closure("course-utils")
    assert {"fastembed", "numpy", "matplotlib", "qdrant-client"} <= closure
    assert not closure & JUPYTER_PACKAGES, f"the package alone would install {closure & JUPYTER_PACKAGES}"


def test_course_extra_brings_jupyterlab_and_nbgrader():
    closure = dependency_closure("course-utils", frozenset({"course"}))
    assert {"jupyterlab", "nbgrader", "ipykernel"} <= closure


def constraints() -> dict[str, Version]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[canonicalize_name(name)] = Version(version)
    return pins


def test_constraints_pin_every_dependency_within_its_range():
    pins = constraints()
    for extra in (None, "course", "grading", "test"):
        for requirement in requirements(extra):
            name = canonicalize_name(requirement.name)
            if name == "course-utils" or (requirement.marker and not requirement.marker.evaluate()):
                continue
            assert name in pins, f"{name} is not pinned in constraints.txt: run `python3 course.py lock`"
            assert requirement.specifier.contains(pins[name], prereleases=True), \
                f"constraints.txt pins {name}=={pins[name]}, outside pyproject's {requirement.specifier}"


def test_this_environment_is_the_locked_one():
    pins = constraints()
    for name in dependency_closure("course-utils", frozenset({"test", "course", "grading"})) - {"course-utils"}:
        if name in pins:
            installed = Version(importlib.metadata.version(name))
            assert installed == pins[name], f"{name} {installed} installed, {pins[name]} locked"


def test_nbgrader_config_makes_this_the_course_directory():
    text = (ROOT / "nbgrader_config.py").read_text()
    assert re.search(r'source_directory\s*=\s*"solutions"', text)
    assert re.search(r'release_directory\s*=\s*"notebooks"', text)
    assert (ROOT / "solutions").is_dir() and (ROOT / "notebooks").is_dir()


def test_ci_runs_the_readmes_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "python3 course.py test" in readme and "python3 course.py start" in readme
    assert "python3 course.py test" in ci


def test_readme_clone_command_uses_the_configured_repository():
    repository = PYPROJECT["project"]["urls"]["Repository"]
    assert f"git clone {repository}\n" in (ROOT / "README.md").read_text()
