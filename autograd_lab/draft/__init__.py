"""autograd-lab draft: a tutorial notebook read statically, its checkable examples drafted as cases.

    from autograd_lab.draft import draft
    drafted = draft("lesson.ipynb", out="cases/lesson")   # nothing in the notebook runs
    for written in drafted.files: ...                      # paths, kinds, cells, claims
    for note in drafted.notes: ...                         # what was left out, and where

The passes, in order (draft() in _draft runs them):

1. cells: _notebook reads the tutorial's cells and outputs (_sources: scripts and pages);
2. what the code says before it runs: over the parsed cells, the names used as sizes
   (_sizes), the names used as indices and what they index (_standins), the entries cmp()
   claims (_claims);
3. the walk (_walk, in parts: _state, _assigning, _calls, _shows): each statement read by
   case.Statements, the allow-list a case's blocks are read by, its expressions translated
   (_translate, _tensorforms), what each name holds kept (_held), sizes and draws (_sizes,
   _draws), the prints matched with the outputs as claims (_outputs); walked again while a
   stand-in's shape or a printed size (_standins, _shapes) lets it follow more;
4. the cases: the graphs (_graph), the hand-written backward passes (_backward), the steps
   and points (_cases); written as YAML (_write; with --blocks, the notebook's own lines:
   _lines), each loaded back by the project's loader.
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
