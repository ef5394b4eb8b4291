"""Checking many case files on several processes: the same results, in file order, sooner."""
from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import sys
from collections.abc import Generator, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import NamedTuple

import torch

from .check import check_file
from .result import CaseResult, error
from .stopping import ignored


def check_files(files: Iterable, jobs: int = 1, sweep: str | None = None,
                sweep_first: int = 0) -> Generator[CaseResult, None, None]:
    """check_file for each file, in order; jobs > 1 spreads them over that many processes
    (0: one per core). A worker that dies takes no result with it: what it left unchecked is
    checked again, each file in a process of its own, so that a file that kills its process
    is an error of its own and the rest are still checked. sweep: as check_file's, and
    "always" for the first sweep_first files."""
    files = [_Job(path, "always" if sweep and i < sweep_first else sweep)
             for i, path in enumerate(files)]
    jobs = jobs or os.cpu_count() or 1
    # the imported modules' objects move out of the collector's reach: a full collection
    # would walk torch's and SymPy's few hundred thousand objects for nothing (about 0.4 ms
    # a case), and in a worker it would write to them, copying every shared page
    frozen = gc.get_freeze_count()
    gc.freeze()
    try:
        if jobs <= 1 or len(files) < 2:
            yield from map(_check, files)
            return
        yield from _pooled(files, jobs)
    finally:
        if not frozen:  # frozen at start-up (startup.py): stays so
            gc.unfreeze()


def _pooled(files: list, jobs: int) -> Iterator[CaseResult]:
    done = 0
    try:
        with ProcessPoolExecutor(min(jobs, len(files)), mp_context=_context(),
                                 initializer=_worker) as pool, _stopping(pool):
            for result in pool.map(_check, files, chunksize=_chunk(len(files), jobs)):
                done += 1
                yield result
    except BrokenProcessPool:
        yield from map(_isolated, files[done:])


@contextlib.contextmanager
def _stopping(pool: ProcessPoolExecutor):
    """Stopped early (Ctrl-C, SIGTERM, or the results no longer wanted), the pool's workers
    are ended at once: leaving the pool would wait for every case already handed out, and
    a worker must never outlive the run."""
    try:
        yield
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        for worker in multiprocessing.active_children():
            worker.terminate()
        for worker in multiprocessing.active_children():
            worker.join()
        raise


class _Job(NamedTuple):
    path: object
    sweep: str | None


def _check(job: _Job) -> CaseResult:
    return check_file(job.path, job.sweep)


def _isolated(job: _Job) -> CaseResult:
    """check_file in a process of its own: if the file takes the process down, only it is lost."""
    try:
        with ProcessPoolExecutor(1, mp_context=_context(), initializer=_worker) as pool, \
                _stopping(pool):
            return pool.submit(_check, job).result()
    except BrokenProcessPool:
        path = str(job.path)
        return error(Path(path).stem, path, f"{path}: the process checking this file died "
                     "(a crash inside a library, not a verdict on the case); please report it")


def _context():
    # fork shares the parent's imported torch and SymPy: a worker starts in milliseconds,
    # where a spawned one would spend seconds importing them again
    if sys.platform.startswith("linux"):
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def one_thread() -> None:
    """torch on one thread, as the CLI and every worker run it: a check's tensors are small or
    bound by memory, so a second thread mostly waits for a core (on a busy machine, several
    milliseconds a call), and the parallelism is across cases, in processes (-j)."""
    torch.set_num_threads(1)


def _worker() -> None:
    one_thread()
    ignored()   # Ctrl-C reaches every process of the run: stopping is the parent's to do


def _chunk(count: int, jobs: int) -> int:
    """Files handed to a worker at a time: few round trips, yet an even finish."""
    return max(1, min(16, count // (jobs * 8)))
