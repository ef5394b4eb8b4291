"""Reading a case file: safe YAML with positions -> a validated model -> a resolved case;
and Python source read for the derivatives it states (cases_from_source)."""
from ..text import NAME  # a name, matched whole (text.is_name)
from ._bounds import (
                      BIG_OUTPUT,
                      DOUBLING,
                      MAX_NAMES,
                      MAX_OUTPUT,
                      MAX_OUTPUT_DEPTH,
                      MAX_TENSOR_VALUES,
                      MAX_VALUES,
                      count_text,
                      output_depth,
                      output_size,
)
from ._functions import function_pair, primed, read_autograd_function, runs_autograd
from ._load import from_dict, load
from ._names import located
from ._python import Found, Unchecked
from ._schema import json_schema, validate
from ._source import FromSource, cases_from_cells, cases_from_source
from ._tensors import tensor_form
from ._values import MAX_ELEMENTS, half_unit
from ._yaml import MAX_BYTES, MAX_DEPTH, MAX_NODES, Source, read, too_deep

__all__ = ["BIG_OUTPUT", "DOUBLING", "MAX_BYTES", "MAX_DEPTH", "MAX_ELEMENTS", "MAX_NAMES",
           "MAX_NODES", "MAX_OUTPUT", "MAX_OUTPUT_DEPTH", "MAX_TENSOR_VALUES", "MAX_VALUES", "NAME",
           "Found", "FromSource", "Source", "Unchecked", "cases_from_cells", "cases_from_source",
           "count_text",
           "from_dict", "function_pair", "half_unit", "json_schema", "load", "located",
           "output_depth", "output_size", "primed", "read", "read_autograd_function",
           "runs_autograd",
           "tensor_form",
           "too_deep", "validate"]
