"""Python bindings of libattnrt: load kernel libraries written by attn-compile
and call their entry points on NumPy arrays (CPU libraries) or PyTorch
tensors (CPU or CUDA libraries).

    import attn
    lib = attn.load("out/libgqa.so")
    out, lse = lib.gqa(q, k, v)          # outputs allocated and returned
    lib.call("gqa", q, k, v, out, lse)   # or written into given buffers

The runtime is found through $ATTN_RUNTIME (a path to libattnrt.so), then
next to this package in a build tree (build/lib/libattnrt.so). attn.KVCache,
attn.QuantCache, attn.PQCache and attn.StateCache hold caches that kernels
read in place (attn/cache.py).
"""

from .runtime import AttnError, Library, load, runtime_path  # noqa: F401
from .cache import KVCache, PQCache, QuantCache, StateCache  # noqa: F401,E402
