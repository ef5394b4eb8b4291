"""autograd-lab draft: a tutorial notebook read statically, its checkable examples drafted as cases.

    from autograd_lab.draft import draft
    drafted = draft("lesson.ipynb", out="cases/lesson")   # nothing in the notebook runs
    for written in drafted.files: ...                      # paths, kinds, cells, claims
    for note in drafted.notes: ...                         # what was left out, and where
"""
from __future__ import annotations

from ._command import checked_notebooks, run_draft
from ._draft import Drafted, Written, default_folder, draft
from ._notebook import Note, NotebookError, looks_like_notebook

__all__ = [
    "Drafted",
    "Note",
    "NotebookError",
    "Written",
    "checked_notebooks",
    "default_folder",
    "draft",
    "looks_like_notebook",
    "run_draft",
]
