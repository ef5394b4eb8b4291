"""autograd-lab draft: a tutorial notebook read statically, its checkable examples drafted as cases.

    from autograd_lab.draft import draft
    drafted = draft("lesson.ipynb", out="cases/lesson")   # nothing in the notebook runs
    for written in drafted.files: ...                      # paths, kinds, cells, claims
    for note in drafted.notes: ...                         # what was left out, and where
"""
from __future__ import annotations

from ._command import Checked, checked_notebooks, draft_one, run_draft, tutorial_files
from ._draft import Drafted, Written, default_folder, draft
from ._notebook import Note, NotebookError, looks_like_notebook
from ._sources import TUTORIALS, is_tutorial

__all__ = [
    "TUTORIALS",
    "Checked",
    "Drafted",
    "Note",
    "NotebookError",
    "Written",
    "checked_notebooks",
    "default_folder",
    "draft",
    "draft_one",
    "is_tutorial",
    "looks_like_notebook",
    "run_draft",
    "tutorial_files",
]
