"""Small .ipynb notebooks written for the tests with nbformat: cells, and what they showed."""
from __future__ import annotations

from pathlib import Path

import nbformat


def shown(text: str) -> dict:
    """What Jupyter shows for a cell's last expression."""
    return {"output_type": "execute_result", "data": {"text/plain": text}}


def printed(text: str) -> dict:
    return {"output_type": "stream", "name": "stdout", "text": text}


def warned(text: str) -> dict:
    return {"output_type": "stream", "name": "stderr", "text": text}


def raised(name: str, message: str) -> dict:
    return {"output_type": "error", "ename": name, "evalue": message, "traceback": []}


def write_notebook(path: Path, *cells) -> Path:
    """cells: (code, output, ...) tuples; each is numbered In [1], In [2], ... as if run."""
    nb = nbformat.v4.new_notebook()
    for count, (code, *outputs) in enumerate(cells, 1):
        cell = nbformat.v4.new_code_cell(code, execution_count=count)
        for out in outputs:
            kind = out["output_type"]
            if kind == "execute_result":
                cell.outputs.append(nbformat.v4.new_output(kind, data=out["data"],
                                                           execution_count=count))
            elif kind == "stream":
                cell.outputs.append(nbformat.v4.new_output(kind, name=out["name"],
                                                           text=out["text"]))
            else:
                cell.outputs.append(nbformat.v4.new_output(kind, ename=out["ename"],
                                                           evalue=out["evalue"],
                                                           traceback=out["traceback"]))
        nb.cells.append(cell)
    nb.cells.insert(0, nbformat.v4.new_markdown_cell("A lesson: markdown is skipped."))
    path.write_text(nbformat.writes(nb), encoding="utf-8")
    return path
