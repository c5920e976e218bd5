"""One chunking helper and one block map for every spectrum method.

Navigation chunks are sized by a byte budget; the energy axis is never
split, so every block holds whole spectra. Eager and lazy signals go
through the same ``dask.array.map_blocks`` call: eager data are wrapped
in a dask array and computed at once.
"""

from __future__ import annotations

from collections.abc import Callable

import dask.array as da
import numpy as np

#: Bytes of input per block.
BLOCK_BYTES = 32 * 2**20


def spectrum_chunks(data: da.Array | np.ndarray, block_bytes: int = BLOCK_BYTES) -> da.Array:
    """A dask array of ``data`` whose blocks hold whole spectra.

    Parameters
    ----------
    data
        Array with the energy axis last.
    block_bytes
        Upper bound on a block's size in bytes (of the input dtype).

    Returns
    -------
    dask.array.Array
        Chunked ``auto`` over the navigation axes within ``block_bytes``,
        one chunk along the energy axis. A lazy input already chunked so
        is returned as it is.
    """
    chunks = {i: "auto" for i in range(data.ndim - 1)} | {data.ndim - 1: -1}
    if isinstance(data, da.Array):
        fits = data.chunksize[-1] == data.shape[-1] and (
            np.prod(data.chunksize) * data.dtype.itemsize <= block_bytes
        )
        return data if fits else data.rechunk(chunks, block_size_limit=block_bytes)
    return da.from_array(data, chunks=chunks).rechunk(chunks, block_size_limit=block_bytes)


def _apply_to_spectra(block: np.ndarray, *per_pixel: np.ndarray, function: Callable, **kwargs):
    spectra = block.reshape(-1, block.shape[-1])
    extra = [p.reshape(-1, p.shape[-1]) for p in per_pixel]
    return function(spectra, *extra, **kwargs).reshape(block.shape)


def map_spectra(
    data: da.Array | np.ndarray,
    function: Callable[..., np.ndarray],
    *,
    per_pixel: tuple[da.Array | np.ndarray, ...] = (),
    dtype=np.float32,
    show_progressbar: bool = False,
    **kwargs,
) -> da.Array | np.ndarray:
    """Apply ``function`` to every block of spectra.

    Parameters
    ----------
    data
        Spectra with the energy axis last; numpy (eager) or dask (lazy).
    function
        ``function(spectra, *per_pixel_rows, **kwargs)`` on arrays of shape
        (n, channels), returning an array of the same shape.
    per_pixel
        Arrays with the same navigation shape as ``data`` (any last-axis
        length), chunked with it: one row per spectrum.
    dtype
        Output dtype.
    show_progressbar
        For eager data, show dask's progress bar while computing.
    **kwargs
        Passed to ``function``.

    Returns
    -------
    numpy.ndarray or dask.array.Array
        Eager in, numpy out (computed); lazy in, lazy out (nothing runs).
    """
    lazy = isinstance(data, da.Array)
    blocks = spectrum_chunks(data)
    nav_chunks = blocks.chunks[:-1]
    extra = [
        (p if isinstance(p, da.Array) else da.from_array(p)).rechunk(nav_chunks + (-1,))
        for p in per_pixel
    ]
    out = da.map_blocks(_apply_to_spectra, blocks, *extra, function=function,
                        dtype=dtype, chunks=blocks.chunks, **kwargs)
    if lazy:
        return out
    if show_progressbar:
        from dask.diagnostics import ProgressBar

        with ProgressBar():
            return out.compute()
    return out.compute()
