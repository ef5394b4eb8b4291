"""Reading a case file: safe YAML with positions -> a validated model -> a resolved case."""
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
from ._load import load
from ._names import NAME, located
from ._schema import json_schema, validate
from ._values import MAX_ELEMENTS, half_unit
from ._yaml import MAX_BYTES, MAX_DEPTH, MAX_NODES, Source, read, too_deep

__all__ = ["BIG_OUTPUT", "DOUBLING", "MAX_BYTES", "MAX_DEPTH", "MAX_ELEMENTS", "MAX_NAMES",
           "MAX_NODES", "MAX_OUTPUT", "MAX_OUTPUT_DEPTH", "MAX_TENSOR_VALUES", "MAX_VALUES", "NAME",
           "Source", "count_text", "half_unit", "json_schema", "load", "located", "output_depth",
           "output_size", "read", "too_deep", "validate"]
