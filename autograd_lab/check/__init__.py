"""Checking: one case in, one result out, every method compared, every claim held."""
from ._agreement import dtype_of
from ._behaviour import KINDS as LOOKS
from ._behaviour import run as run_behaviour
from ._behaviour import step_name, value_text
from ._check import LISTED_POINTS, case_files, check_case, check_file, check_paths, gradients
from ._compare import TOLERANCES, Gap, gap, looser, tolerance
from ._deadline import DEFAULT_SECONDS, ENV, TooSlow, deadline, seconds
from ._lint import cross_entropies, target_problems
from ._rounding import Rounding, ulps
from ._sweep import CURVE_POINTS, samples, sweeps
from ._words import LISTED_ELEMENTS

__all__ = [
    "CURVE_POINTS", "DEFAULT_SECONDS", "ENV", "LISTED_ELEMENTS", "LISTED_POINTS", "LOOKS",
    "TOLERANCES", "Gap", "Rounding", "TooSlow", "case_files", "check_case", "check_file",
    "check_paths", "cross_entropies", "deadline", "dtype_of", "gap", "gradients", "looser",
    "run_behaviour", "samples", "seconds", "step_name", "sweeps", "target_problems",
    "tolerance", "ulps", "value_text",
]
