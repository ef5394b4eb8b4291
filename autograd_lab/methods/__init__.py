"""The ways of computing a gradient, one module each: the hand-written chain rule (manual),
torch.autograd, SymPy, finite differences; and what they share (the tree on torch tensors,
kinks, second derivatives)."""
from ._autograd import DTYPES
from ._autograd import gradients as autograd_gradients
from ._elements import BUDGET, Elements, Run, partials
from ._finite import ATOL as FD_ATOL
from ._finite import EPS as FD_STEP
from ._finite import RTOL as FD_RTOL
from ._finite import Direction, Opinion, direction, project
from ._finite import opinion as finite_opinion
from ._kinks import Kink, Recorder, Survey, beside
from ._kinks import survey as survey_kinks
from ._manual import along, fit, forward, full, leaves, to_numpy
from ._manual import gradients as manual_gradients
from ._manual import totals as manual_totals
from ._numeric import Unevaluated
from ._second import autograd as second_autograd
from ._second import manual as second_manual
from ._second import sympy as second_sympy
from ._symbolic import Builder, Built, Reduction, Symbolic, printed
from ._tensor import Pass, adjoint_entries, adjoints, value_at
from ._tensor import autograd as tensor_autograd
from ._tensor import chain as tensor_chain
from ._tensor import forward as tensor_forward
from ._tensor import leaves as tensor_leaves
from ._tensor import totals as tensor_totals
from ._tensor import upstream as tensor_upstream
from ._torch import evaluate

__all__ = [
    "BUDGET",
    "DTYPES",
    "FD_ATOL",
    "FD_RTOL",
    "FD_STEP",
    "Builder",
    "Built",
    "Direction",
    "Elements",
    "Kink",
    "Opinion",
    "Pass",
    "Recorder",
    "Reduction",
    "Run",
    "Survey",
    "Symbolic",
    "Unevaluated",
    "adjoint_entries",
    "adjoints",
    "along",
    "autograd_gradients",
    "beside",
    "direction",
    "evaluate",
    "finite_opinion",
    "fit",
    "forward",
    "full",
    "leaves",
    "manual_gradients",
    "manual_totals",
    "partials",
    "printed",
    "project",
    "second_autograd",
    "second_manual",
    "second_sympy",
    "survey_kinks",
    "tensor_autograd",
    "tensor_chain",
    "tensor_forward",
    "tensor_leaves",
    "tensor_totals",
    "tensor_upstream",
    "to_numpy",
    "value_at",
]
