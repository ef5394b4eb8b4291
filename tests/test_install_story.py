"""The install story is true until a release exists: no page tells a user to
`pip install autograd-lab` (PyPI has no such release), no recipe names a tag that does not
exist, and a tag is all a release takes (the release workflow)."""
from __future__ import annotations

import re
import subprocess

import yaml

from .conftest import ROOT

GIT_URL = "git+https://github.com/autograd-lab/autograd-lab"
# what a user would copy: the package name alone, or pinned to a version, after pip install
FROM_PYPI = re.compile(r"pip install (?:[\w-]+ )*autograd-lab(?:==[\w.]+)?(?=\s|$|`)")
WHERE_USERS_READ = [ROOT / "README.md", ROOT / ".pre-commit-hooks.yaml",
                    ROOT / "autograd_lab" / "templates" / "workflow.yml",
                    *sorted((ROOT / "docs").glob("*.md"))]


def _tags() -> set[str]:
    done = subprocess.run(["git", "-C", str(ROOT), "tag", "--list"], capture_output=True,
                          text=True)
    return set(done.stdout.split())


def test_no_page_installs_from_pypi_before_a_release():
    """Only where the line, or the one before it, says it is for once a release exists
    (`once`, `until`, `after`)."""
    found = []
    for page in WHERE_USERS_READ:
        lines = page.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines, 1):
            said = " ".join(lines[max(0, number - 2):number])
            if FROM_PYPI.search(line) and not re.search(r"\b(once|until|after)\b", said,
                                                        re.IGNORECASE):
                found.append(f"{page.relative_to(ROOT)}:{number}: {line.strip()}")
    assert found == []


def test_the_workflow_init_writes_installs_from_the_repository():
    template = (ROOT / "autograd_lab" / "templates" / "workflow.yml").read_text()
    steps = yaml.safe_load(template)["jobs"]["check"]["steps"]
    assert f'pip install "autograd-lab @ {GIT_URL}"' in [s.get("run") for s in steps]


def test_the_pre_commit_recipes_name_no_tag_that_does_not_exist():
    tags = _tags()
    for text in ((ROOT / "docs" / "ci.md").read_text(), (ROOT / ".pre-commit-hooks.yaml")
                 .read_text()):
        for rev in re.findall(r"rev: (\S+)", text):
            assert rev == "COMMIT" or rev in tags, rev   # a placeholder the user sets


def test_a_tag_is_all_a_release_takes():
    """On a pushed v* tag: build, twine check, then PyPI's trusted publishing (an id token,
    no password), in a job of its own."""
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "release.yml").read_text())
    triggers = workflow.get("on", workflow.get(True))   # YAML 1.1 reads a bare `on` as true
    assert triggers == {"push": {"tags": ["v*"]}}
    build = [s.get("run", "") for s in workflow["jobs"]["build"]["steps"]]
    assert "python -m build" in build and "twine check --strict dist/*" in build
    publish = workflow["jobs"]["publish"]
    assert publish["needs"] == "build"
    assert publish["permissions"] == {"id-token": "write"}
    assert publish["steps"][-1]["uses"] == "pypa/gh-action-pypi-publish@release/v1"
    assert "password" not in str(publish)
    steps = (ROOT / "CONTRIBUTING.md").read_text().split("## Releasing", 1)[1]
    assert "git tag v0.2.0" in steps and "trusted publisher" in steps
