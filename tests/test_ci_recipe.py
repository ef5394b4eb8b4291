"""The CI recipe of docs/ci-sharding.md, run here: its matrix's autograd-lab commands, one
shard after another, then its merge job's, give what one run over all the files gives.

Over cases/, examples/ and generated cases (30 by default: with the others, more than the 40
cases a run draws, and failing cases past the 40th, a case name that repeats among them;
AUTOGRAD_LAB_RECIPE_CASES=1000 for the issue's thousand)."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from benchmarks.generate import generate

from .test_merge import scrub

pytestmark = pytest.mark.slow   # the CI recipe over generated cases, end to end

ROOT = Path(__file__).resolve().parent.parent
RECIPE = ROOT / "docs" / "ci-sharding.md"
GENERATED = int(os.environ.get("AUTOGRAD_LAB_RECIPE_CASES", "30"))


def workflow() -> dict:
    text = RECIPE.read_text(encoding="utf-8")
    blocks = [b for b in re.findall(r"```yaml\n(.*?)```", text, re.S) if "jobs:" in b]
    assert len(blocks) == 1, "docs/ci-sharding.md has one workflow"
    return yaml.safe_load(blocks[0])


def commands(job: dict, **matrix) -> list[str]:
    """The job's `run:` lines that call autograd-lab, with the matrix's values put in."""
    found = []
    for step in job["steps"]:
        run = step.get("run", "")
        if run.startswith("autograd-lab "):
            for key, value in matrix.items():
                run = run.replace(f"${{{{ matrix.{key} }}}}", str(value))
            assert "${{" not in run, run
            found.append(run)
    return found


@pytest.fixture(scope="module")
def checkout(tmp_path_factory):
    """A checkout's case folders, with generated cases among them."""
    root = tmp_path_factory.mktemp("checkout")
    shutil.copytree(ROOT / "cases", root / "cases")
    shutil.copytree(ROOT / "examples", root / "examples")
    generate(root / "cases" / "generated", GENERATED, seed=0)
    repeated = root / "cases" / "zz" / "x_squared.yaml"   # after cases/x_squared.yaml
    repeated.parent.mkdir()
    repeated.write_text((ROOT / "cases" / "x_squared.yaml").read_text()
                        .replace("grad/x: 6", "grad/x: 7"))   # fails, so it is drawn
    return root


def sh(command: str, cwd: Path) -> int:
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    env.pop("GITHUB_STEP_SUMMARY", None)
    return subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=900).returncode


@pytest.fixture(scope="module")
def ran(checkout):
    """The recipe's shards and merge, and one run beside them: (shards' codes, merge's, one's)."""
    jobs = workflow()["jobs"]
    shard_codes = [sh(c, checkout) for k in jobs["check"]["strategy"]["matrix"]["shard"]
                   for c in commands(jobs["check"], shard=k)]
    merge_codes = [sh(c, checkout) for c in commands(jobs["merge"])]
    return shard_codes, merge_codes, sh("autograd-lab check cases/ examples/ --out one", checkout)


def test_the_recipe_gives_the_one_runs_reports(checkout, ran):
    shard_codes, merge_codes, one = ran
    assert len(shard_codes) == 4 and set(shard_codes) <= {0, 1}
    assert merge_codes == [one] and one in (1, 2)   # zz/x_squared and examples/mistakes fail
    merged, alone = checkout / "reports", checkout / "one"
    for name in ("report.json", "report.md", "junit.xml"):
        assert scrub((merged / name).read_text()) == scrub((alone / name).read_text()), name
    plots = sorted(p.name for p in (alone / "plots").glob("*.png"))
    assert len(plots) > 10   # --plots auto: the cases that did not pass or sit on a kink
    assert sorted(p.name for p in (merged / "plots").glob("*.png")) == plots
    for name in plots:   # drawn in another process, and the same bytes
        assert (merged / "plots" / name).read_bytes() == (alone / "plots" / name).read_bytes()
    assert "x_squared-x--2.png" in plots   # the name that repeats: drawn as x_squared-x.png


def test_a_plot_no_shard_has_is_named_and_left_out(checkout, ran):
    """A shard whose plots/ was not uploaded: one line, and report.md without those images."""
    shards = [f"reports-{k}" for k in range(1, 5)]
    bare = next(s for s in shards if "cases/zz/x_squared.yaml"
                in (checkout / s / "report.json").read_text())   # the shard that drew it
    shutil.copytree(checkout / bare, checkout / "bare", ignore=shutil.ignore_patterns("*.png"))
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    given = ["bare" if s == bare else s for s in shards]
    run = subprocess.run(["autograd-lab", "merge", *given, "--out", "partial"], cwd=checkout,
                         env=env, capture_output=True, text=True)
    assert run.returncode == ran[2]
    notes = [line for line in run.stderr.splitlines() if line.startswith("note: ")]
    drawn = {p.name for p in (checkout / "one" / "plots").glob("*.png")}
    missing = drawn - {p.name for p in (checkout / "partial" / "plots").glob("*.png")}
    assert "x_squared-x--2.png" in missing
    assert notes == [f"note: {len(missing)} plot(s) one run would draw are in no shard's "
                     "plots/ folder, so report.md leaves them out: " + notes[0].split(": ", 2)[2]]
    text = (checkout / "partial" / "report.md").read_text()
    assert all(f"(plots/{name})" not in text for name in missing)
    assert all(f"(plots/{name})" in text for name in drawn - missing)
