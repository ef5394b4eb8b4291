"""order: 2 cases: the hand-written Hessian entries read, each at its line."""
from __future__ import annotations

from ..case import Case, Entry, shape_of
from ._names import check_names, failing, parse_at


def entries(model, case: Case, where) -> dict[str, Entry]:
    """The hessian: block resolved: "p/q" -> Entry; every problem a CaseError at its line."""
    given = model.hessian or {}
    if given and model.order != 2:
        raise where.error("hessian entries are checked only with order: 2", ("hessian",))
    if model.order == 2:
        for p in case.params:
            if case.inputs[p].value.shape:
                raise where.error(f"order: 2 checks scalar parameters only; {p} has shape "
                                  f"{case.inputs[p].value.shape}", ("order",))
    shapes = {n: i.value.shape for n, i in case.inputs.items()}
    shapes.update({n: node.shape for n, node in case.nodes.items()})
    out = {}
    for key, text in given.items():
        path = ("hessian", key)
        p, _, q = str(key).partition("/")
        for name in (p, q):
            if name not in case.params:
                raise where.error(f"hessian {key}: {name!r} is not an input with grad: true "
                                  "(write entries as p/q)", path)
        tree, text = parse_at(text, path, where)
        check_names(tree, set(shapes), where, path, text)
        if shape_of(tree, shapes, failing(where, path, text)):
            raise where.error(f"hessian {key}: a second derivative by scalar parameters is a "
                              "scalar; reduce the expression with sum() or mean()", path)
        out[key] = Entry(p, q, tree, text)
    return out
