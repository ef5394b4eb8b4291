"""Reports: one module a format behind one Reporter interface; they read results only."""
from ..result import junit_properties
from ._atomic import NotWritten, write_atomic
from ._drawers import PlotsReport
from ._folder import Unusable, locked, prepare
from ._json import FORMAT_VERSION, MAX_PARTS, JsonReport, version
from ._junit import JunitReport
from ._markdown import MarkdownReport, append_step_summary
from ._names import anchors
from ._plots import MAX_CASES
from ._plots import copy as copy_plots
from ._plots import files as plot_files
from ._readback import Damaged
from ._readback import read as read_report
from ._readback import read_cases as read_report_cases
from ._reporter import Reporter
from ._run import FORMATS, Run, exit_code, write
from ._schema import report_schema
from ._schema import text as report_schema_text
from ._terminal import console, progress, show, summary
from ._untrusted import Unreadable, read_json, read_regular

__all__ = [
           "FORMATS",
           "FORMAT_VERSION",
           "MAX_CASES",
           "MAX_PARTS",
           "Damaged",
           "JsonReport",
           "JunitReport",
           "MarkdownReport",
           "NotWritten",
           "PlotsReport",
           "Reporter",
           "Run",
           "Unreadable",
           "Unusable",
           "anchors",
           "append_step_summary",
           "console",
           "copy_plots",
           "exit_code",
           "junit_properties",
           "locked",
           "plot_files",
           "prepare",
           "progress",
           "read_json",
           "read_regular",
           "read_report",
           "read_report_cases",
           "report_schema",
           "report_schema_text",
           "show",
           "summary",
           "version",
           "write",
           "write_atomic",
]
