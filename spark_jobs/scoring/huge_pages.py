"""Whether numpy asks the kernel for transparent huge pages for its large arrays.

numpy marks each array of 4 MiB or more ``madvise(MADV_HUGEPAGE)`` (``NUMPY_MADVISE_HUGEPAGE``,
read once at import). Where the kernel then compacts memory on the spot to find a huge page
(``/sys/kernel/mm/transparent_hugepage/defrag`` = ``madvise``, the usual default), a page
fault of such an array can stall in the kernel. The hybrid's fit, which allocates and frees
large blocks all along, spent 31 of its 122 CPU-s in the kernel on this machine (200K users
and releases, ``bench_hybrid.py``'s world) and took 73 s; without the advice 10 CPU-s and
57 s, the listing as fast either way. So the scoring processes turn it off
(``ScoringSettings.numpy_huge_pages``).
"""

from __future__ import annotations

from numpy.core import multiarray


def use_huge_pages(enabled: bool) -> bool:
    """Turn numpy's huge-page advice for its large arrays on or off in this process.

    It applies to the arrays allocated from then on; the switch is numpy's own, which its
    import sets from ``NUMPY_MADVISE_HUGEPAGE``.

    Args:
        enabled: Whether to advise huge pages.

    Returns:
        Whether the advice was on before.

    """
    return bool(multiarray._set_madvise_hugepage(enabled))  # type: ignore[attr-defined]
