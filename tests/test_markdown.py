"""report.md: the Mermaid graph, the methods table whatever its keys, cases without points."""
from __future__ import annotations

from autograd_lab.check import check_file
from autograd_lab.reports import _markdown as markdown
from autograd_lab.result import CaseResult, PointResult

from .conftest import CASES

WRONG = """
    inputs:
      x: 6.7
      w: {value: 1.0, grad: true}
    forward:
      z: w*x
      y_pred: sigmoid(z)
    chain_rule:
      y_pred/z: y_pred*(1 + y_pred)
      z/w: x
    """


def test_graph_marks_the_wrong_edge_red_with_sympys_form(write_case):
    result = check_file(write_case(WRONG, "wrong"))
    graph = markdown.mermaid(result)
    assert 'n0("x = 6.7")' in graph and 'n1(["w = 1"]):::param' in graph
    assert 'n2["z = w*x<br/>= 6.7"]' in graph
    assert 'n3["y_pred = sigmoid(z)<br/>= 0.998771"]:::output' in graph
    assert 'n1 -->|"x"| n2' in graph and "n0 -.-> n2" in graph
    assert 'n2 -->|"✗ y_pred*(1 + y_pred)<br/>SymPy: y_pred*(1 - y_pred)"| n3' in graph
    assert "linkStyle 2 stroke:#d32f2f" in graph


def test_methods_are_whatever_numeric_keys_an_entry_has():
    entry = {"w": {"manual": 2.0, "sympy": 2.0, "autograd": 2.5, "finite_difference": 2.0000001,
                   "differentiable": True, "note": "kink"}}
    result = CaseResult("c", "c.yaml", "failed", points=[PointResult({"w": 1.0}, entry)],
                        points_total=1)
    text = markdown.render([result], generated="T")
    assert "| Point | Of | manual | sympy | autograd | finite_difference | Δ manual | " \
           "Δ autograd | Δ finite_difference |" in text
    assert "| base | `w` | 2 | 2 | 2.5 | 2.0000001 | 0 | +0.5 | +1e-07 |" in text
    assert "differentiable" not in text and "kink" not in text


def test_vector_gradient_has_a_row_per_element():
    text = markdown.render([check_file(CASES / "vector_mean_square.yaml")], generated="T")
    assert "| base | `x[0]` | 0.6666666667 | 0.6666666667 | 0.6666666667 | 0 | 0 |" in text
    assert "| base | `x[2]` | 2 | 2 | 2 | 0 | 0 |" in text


def test_a_behaviour_case_renders_its_expectations_step_by_step():
    text = markdown.render([check_file(CASES / "grad_accumulation.yaml")], generated="T")
    assert "### Expectations, step by step" in text
    assert "| `step 4 (y.backward()): grad/x` | `8` | 8 | ✅ passed |" in text
    assert "### Gradients" not in text and "### Graph" not in text


def test_summary_for_github_lists_what_failed(write_case, tmp_path, monkeypatch):
    result = check_file(write_case(WRONG, "wrong"))
    target = tmp_path / "summary.md"
    target.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(target))
    assert markdown.append_step_summary([result])
    text = target.read_text()
    assert text.startswith("earlier step\n# autograd-lab report")
    assert "| wrong |  | ❌ failed |" in text
    assert (f"- `{result.file}:{result.problems[0].line}:{result.problems[0].column}` "
            "chain\\_rule edge y\\_pred/z: hand-written y\\_pred\\*(1 + y\\_pred)") in text
    assert "mermaid" not in text


def test_anchors_follow_github_and_number_repeats():
    results = [CaseResult(n, "f", "passed") for n in ("Perceptron BCE", "a.b", "a.b")]
    assert markdown.anchors(results) == ["perceptron-bce", "ab", "ab-1"]


def test_repeated_names_link_each_its_own_heading_as_github_numbers_them():
    """github-slugger: a repeat takes the next free -1, -2...; a name that is itself a
    numbered repeat (a-1) is then numbered again, so no two headings share an anchor."""
    names = ["a", "a", "a-1", "A", "esc\x1b[2Kx", ""]
    results = [CaseResult(n, "f", "passed") for n in names]
    assert markdown.anchors(results) == ["a", "a-1", "a-1-1", "a-2", "escx1b2kx", "case"]


def test_a_title_or_name_makes_no_heading_link_image_or_html(write_case):
    """A title with carriage returns had made a heading, a link and a remote image, in
    report.md and in the job summary."""
    from markdown_it import MarkdownIt
    title = "x\r# Heading\r![img](http://evil/x.png)\r<script>alert(1)</script>"
    result = CaseResult("n<b>_x_", "f.yaml", "failed", title=title,
                        problems=["a\nb <img src=x> [l](http://evil)"])
    for text in (markdown.render([result], generated="T"), markdown.summary([result], "T")):
        tokens = MarkdownIt("commonmark", {"html": True}).enable("table").parse(text)
        inline = [c for t in tokens for c in (t.children or [])]
        kinds = {t.type for t in tokens + inline}
        assert not kinds & {"html_block", "html_inline", "image"}
        assert [t.attrGet("href") for t in inline if t.type == "link_open"] in ([], ["#nb_x_"])
        assert [t.content for t in tokens if t.type == "inline" and t.map and
                tokens[tokens.index(t) - 1].type == "heading_open"][:1] == ["autograd-lab report"]
        assert r"\\r\# Heading\\r!\[img\](http://evil/x.png)\\r&lt;script&gt;" in text


def test_the_summary_says_rounding_level_not_its_digits():
    noise = CaseResult("a", "a.yaml", "passed", worst=5.6e-17, worst_at_rounding=True)
    text = markdown.render([noise], generated="T")
    assert "| [a](#a) |  | ✅ passed | rounding level | `a.yaml` |" in text
    assert "5.6e-17" not in text
