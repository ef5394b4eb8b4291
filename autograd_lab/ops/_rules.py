"""Shapes: what each operation makes of its arguments' shapes, as torch decides it.

A rule takes the tensor arguments' shapes and the operation's static arguments (integers
and flags known when the case is read) and returns the result's shape, or raises ShapeError
with the words a person can act on."""
from __future__ import annotations

import math

Shape = tuple[int, ...]


# dimensions a value may have (any part of an expression too): numpy holds 64, and each
# method adds one for the points
MAX_RANK = 32


class ShapeError(ValueError):
    """Shapes that the operation cannot take."""


def _show(shape: Shape) -> str:
    return str(tuple(shape)) if shape else "a scalar"


def broadcast(*shapes: Shape) -> Shape:
    """torch's broadcasting: align on the right; each pair of sizes equal or one of them 1."""
    out: list[int] = []
    for sizes in zip(*(((1,) * (max(map(len, shapes)) - len(s)) + s) for s in shapes)):
        bigger = {n for n in sizes if n != 1}
        if len(bigger) > 1:
            raise ShapeError("shapes " + " and ".join(_show(s) for s in shapes)
                             + " do not broadcast")
        out.append(bigger.pop() if bigger else 1)
    return tuple(out)


def dim_of(dim: int, rank: int) -> int:
    """A dim as torch reads it: -1 is the last; out of range is an error."""
    if not -max(rank, 1) <= dim < max(rank, 1):
        raise ShapeError(f"dim {dim} is out of range for a tensor of {_dimensions(rank)}")
    return dim % max(rank, 1)


def reduced(shape: Shape, dim=None, keepdim: bool = False) -> Shape:
    """sum, mean, max, ... over every element (dim None) or along dim."""
    if dim is None:
        return (1,) * len(shape) if keepdim else ()
    dims = {dim_of(d, len(shape)) for d in (dim if isinstance(dim, tuple) else (dim,))}
    if not shape:
        return ()
    return tuple(1 if i in dims else n for i, n in enumerate(shape) if keepdim or i not in dims)


def along(shape: Shape, dim: int) -> Shape:
    """softmax and log_softmax: the shape kept, the dim checked."""
    dim_of(dim, len(shape))
    return shape


def matmul(a: Shape, b: Shape) -> Shape:
    """torch.matmul: vectors and matrices, and batches of them broadcast."""
    if not a or not b:
        raise ShapeError("matmul (@) needs tensors of at least 1 dimension, not a scalar")
    left, right = (a if len(a) > 1 else (1,) + a), (b if len(b) > 1 else b + (1,))
    if left[-1] != right[-2]:
        raise ShapeError(f"shapes {_show(a)} and {_show(b)} cannot be multiplied "
                         f"({left[-1]} columns against {right[-2]} rows)")
    batch = broadcast(left[:-2], right[:-2])
    return batch + (left[-2:-1] if len(a) > 1 else ()) + (right[-1:] if len(b) > 1 else ())


def dot(a: Shape, b: Shape) -> Shape:
    """numpy's dot (torch's for two vectors): the inner product of vectors of one length, the
    matrix product of a matrix and a vector or matrix, a number times a tensor."""
    if not a or not b:
        return broadcast(a, b)
    if len(a) > 2 or len(b) > 2:
        raise ShapeError(f"dot takes vectors and matrices, not {_show(a)} and {_show(b)}: "
                         "use matmul (@) for batches")
    if len(a) == 1 and len(b) == 1:
        if a != b:
            raise ShapeError(f"dot needs two vectors of one length, not {_show(a)} and "
                             f"{_show(b)}")
        return ()
    return matmul(a, b)


def sized(size: tuple) -> Shape:
    """np.zeros(shape), np.ones(shape): positive sizes."""
    if not size or any(n < 1 for n in size):
        raise ShapeError(f"a shape takes positive sizes, not {size}")
    return tuple(size)


def outer(a: Shape, b: Shape) -> Shape:
    """np.outer: every element of a times every element of b (each flattened)."""
    return (math.prod(a), math.prod(b))


def transposed(shape: Shape, dim0: int = 0, dim1: int = 1) -> Shape:
    if len(shape) < 2:
        return shape
    i, j = dim_of(dim0, len(shape)), dim_of(dim1, len(shape))
    out = list(shape)
    out[i], out[j] = out[j], out[i]
    return tuple(out)


def t(shape: Shape) -> Shape:
    """x.T: a matrix transposed (a vector or a scalar stays as it is, as in torch)."""
    if len(shape) > 2:
        raise ShapeError(f".T is for a matrix; this value has shape {_show(shape)}: use "
                         "transpose(x, d0, d1)")
    return shape[::-1]


def viewed(shape: Shape, size: tuple) -> Shape:
    """view and reshape: the same elements in a new shape; one size may be -1."""
    count = math.prod(shape)
    known = [n for n in size if n != -1]
    if size.count(-1) > 1 or any(n < 1 for n in known):
        raise ShapeError(f"a view takes positive sizes and at most one -1, not {size}")
    rest = count // math.prod(known)   # what -1 stands for
    out = tuple(rest if n == -1 else n for n in size)
    if math.prod(out) != count:
        raise ShapeError(f"a tensor of shape {_show(shape)} ({count:,} elements) cannot be "
                         f"viewed as {size}")
    return out


def one_hot(shape: Shape, num_classes: int) -> Shape:
    if num_classes < 1:
        raise ShapeError("one_hot needs num_classes, a positive integer (or a dim)")
    return shape + (num_classes,)


def cross_entropy(logits: Shape, target: Shape) -> Shape:
    if len(logits) not in (1, 2) or target != logits[:-1]:
        raise ShapeError(f"cross_entropy takes logits of shape (n, classes) and class indices "
                         f"of shape (n), not {_show(logits)} and {_show(target)}")
    return ()


def same(a: Shape, b: Shape) -> Shape:
    """binary_cross_entropy and mse_loss: two tensors of one shape, averaged to a scalar."""
    if a != b:
        raise ShapeError(f"the prediction {_show(a)} and the target {_show(b)} must have one "
                         "shape")
    return ()


def index(shape: Shape, index: tuple) -> Shape:
    """x[i], x[i, j], x[a:b], x[idx] (an integer tensor's shape), x[range(n), idx].

    Each entry of index is an int, a slice (lo, hi) of ints or None, ("tensor", shape) for
    an integer tensor, or ("range", n) for range(n) (a tensor of n elements, 0 to n - 1);
    None (numpy's newaxis, x[:, None]) adds a dimension of size 1."""
    if any(entry is None for entry in index):
        return _newaxis(shape, index)
    if len(index) > len(shape):
        raise ShapeError(f"{len(index)} ind{'ex' if len(index) == 1 else 'ices'} for a tensor "
                         f"of {_dimensions(len(shape))}")
    for size, entry in zip(shape, index):
        if isinstance(entry, int) and not -size <= entry < size:
            raise ShapeError(f"index {entry} is out of range for a dimension of {size}")
        if isinstance(entry, tuple) and entry[0] == "range" and not 1 <= entry[1] <= size:
            raise ShapeError(f"range({entry[1]}) runs from 0 to {entry[1] - 1}, outside a "
                             f"dimension of {size}" if entry[1] > 0 else
                             f"range({entry[1]}) holds no index: n must be at least 1")
    out: list[int] = []
    tensors = [(entry[1],) if entry[0] == "range" else entry[1] for entry in index
               if isinstance(entry, tuple)]
    gathered = broadcast(*tensors) if tensors else None
    placed = False
    for size, entry in zip(shape, index):
        if isinstance(entry, slice):
            out.append(len(range(*entry.indices(size))))
        elif isinstance(entry, tuple) and not placed:
            assert gathered is not None
            out.extend(gathered)
            placed = True
    return tuple(out) + shape[len(index):]


def _newaxis(shape: Shape, entries: tuple) -> Shape:
    if any(isinstance(entry, tuple) for entry in entries):
        raise ShapeError("None (a new axis) is taken beside integers and slices, not beside "
                         "an index tensor")
    index(shape, tuple(e for e in entries if e is not None))   # the rest checked
    out: list[int] = []
    dim = 0
    for entry in entries:
        if entry is None:
            out.append(1)
            continue
        if isinstance(entry, slice):
            out.append(len(range(*entry.indices(shape[dim]))))
        dim += 1
    return tuple(out) + shape[dim:]


def _dimensions(rank: int) -> str:
    return f"{rank} dimension{'s' * (rank != 1)}"


def stacked(*shapes: Shape) -> Shape:
    """A list of expressions stacked: each entry one row (scalars make a vector)."""
    if len(set(shapes)) > 1:
        raise ShapeError("the entries of a stacked list must have one shape; these have "
                         + ", ".join(_show(s) for s in shapes))
    return (len(shapes),) + shapes[0]
