"""Host caches of libattnrt (runtime/include/attnrt_cache.h, docs/Caches.md)
for streaming decode from Python.

    import attn
    cache = attn.KVCache(max_seqs=4, kv_heads=8, head_dim=128, capacity=4096,
                         dtype="bf16", page_size=64, num_pages=256)
    seq = cache.open()
    cache.append(seq, k, v)              # [kv_heads, n, head_dim] arrays
    view = cache.view()                  # NumPy arrays over the cache itself
    lib.call("decode", q, view["key"], view["value"], view["lengths"],
             view["block_table"], out)   # a kernel that reads it in place

Token arrays use the cache's element type: float32 for "f32", float16 for
"f16" and uint16 bit patterns for "bf16" (NumPy has no bfloat16). View
arrays alias the cache's memory: they are valid until the cache is closed
and change when it changes; do not write to them. Every failing call raises
AttnError with the runtime's message and leaves the cache unchanged.

With device="cuda" the cache lives in the GPU's memory: appends take NumPy
arrays or contiguous torch CUDA tensors (bf16 as torch.bfloat16), and views
and state buffers are torch CUDA tensors over the cache's memory, for
kernels compiled with --target=cuda.
"""

import ctypes

from .runtime import AttnError, _runtime

_I32 = ctypes.c_int32
_DTYPES = {"f32": (0, "float32", 4), "f16": (1, "float16", 2),
           "bf16": (2, "uint16", 2)}


_MEMORY = {"cpu": 0, "cuda": 1}


class _KvDesc(ctypes.Structure):
    _fields_ = [(n, _I32) for n in ("layout", "dtype", "max_seqs", "kv_heads",
                                    "head_dim", "value_dim", "capacity",
                                    "page_size", "num_pages", "memory")]


class _KvView(ctypes.Structure):
    _fields_ = [("key", ctypes.c_void_p), ("value", ctypes.c_void_p),
                ("lengths", ctypes.c_void_p), ("block_table", ctypes.c_void_p)]


class _QuantDesc(ctypes.Structure):
    _fields_ = [(n, _I32) for n in ("dtype", "max_seqs", "kv_heads", "head_dim",
                                    "value_dim", "capacity", "bits",
                                    "group_size", "zero_points", "memory")]


class _QuantView(ctypes.Structure):
    _fields_ = [(n, ctypes.c_void_p) for n in (
        "key_codes", "key_scale", "key_zero", "value_codes", "value_scale",
        "value_zero", "residual_key", "residual_value", "quantized_lengths",
        "residual_lengths")]


class _PqDesc(ctypes.Structure):
    _fields_ = [(n, _I32) for n in ("value_dtype", "max_seqs", "kv_heads",
                                    "head_dim", "value_dim", "capacity",
                                    "subspaces", "centroids")] + \
        [("codebooks", ctypes.c_void_p), ("memory", _I32)]


class _PqView(ctypes.Structure):
    _fields_ = [(n, ctypes.c_void_p) for n in ("codes", "codebooks", "value",
                                               "lengths")]


class _Memory(ctypes.Structure):
    _fields_ = [("reserved_bytes", ctypes.c_size_t),
                ("used_bytes", ctypes.c_size_t), ("free_pages", _I32)]


class _StateDesc(ctypes.Structure):
    _fields_ = [("max_seqs", _I32), ("num_tensors", _I32),
                ("tensor_elements", ctypes.c_int64 * 8), ("checkpoints", _I32),
                ("memory", _I32)]


def _bind(prefix, desc, view=None):
    """Declares the C signatures of one cache kind's entry points."""
    rt = _runtime()
    p, i32 = ctypes.c_void_p, _I32
    pi32 = ctypes.POINTER(i32)
    sigs = {
        "cache_create": ([ctypes.POINTER(desc), ctypes.POINTER(p)], ctypes.c_int),
        "cache_destroy": ([p], None),
        "seq_create": ([p, pi32], ctypes.c_int),
        "seq_release": ([p, i32], ctypes.c_int),
        "truncate": ([p, i32, i32], ctypes.c_int),
        "fork": ([p, i32, pi32], ctypes.c_int),
        "length": ([p, i32, pi32], ctypes.c_int),
        "memory": ([p, ctypes.POINTER(_Memory)], ctypes.c_int),
    }
    if view is not None:
        sigs["append"] = ([p, i32, i32, p, p], ctypes.c_int)
        sigs["view_get"] = ([p, ctypes.POINTER(view)], ctypes.c_int)
    else:  # the recurrent-state cache
        fp = ctypes.POINTER(ctypes.POINTER(ctypes.c_float))
        sigs.update({
            "reset": ([p, i32], ctypes.c_int),
            "step_begin": ([p, i32, i32, fp, fp], ctypes.c_int),
            "step_commit": ([p, i32], ctypes.c_int),
            "step_abort": ([p, i32], ctypes.c_int),
            "read": ([p, i32, i32, ctypes.POINTER(ctypes.c_float)], ctypes.c_int),
        })
    fns = {}
    for name, (args, res) in sigs.items():
        fn = getattr(rt, f"attnrt_{prefix}_{name}")
        fn.argtypes, fn.restype = args, res
        fns[name] = fn
    return fns


class _DeviceArray:
    """Device memory described by __cuda_array_interface__ for torch."""

    def __init__(self, address, typestr, shape):
        self.__cuda_array_interface__ = {
            "shape": tuple(shape), "typestr": typestr, "data": (address, False),
            "strides": None, "version": 3}


_TORCH_VIEW = {ctypes.c_float: ("<f4", None), ctypes.c_int32: ("<i4", None),
               ctypes.c_int8: ("|i1", None), ctypes.c_uint16: ("<i2", "bfloat16")}


def _device_array(address, ctype, shape, np_dtype=None):
    """A torch CUDA tensor over device memory (16-bit elements: bfloat16,
    or float16 when np_dtype says so)."""
    import torch
    if not address:
        return None
    typestr, as_type = _TORCH_VIEW[ctype]
    if np_dtype == "float16":
        as_type = "float16"
    t = torch.as_tensor(_DeviceArray(address, typestr, shape), device="cuda")
    return t.view(getattr(torch, as_type)) if as_type else t


def _array(address, ctype, shape, np_dtype=None, device="cpu"):
    import numpy as np
    if device == "cuda":
        return _device_array(address, ctype, shape, np_dtype)
    if not address:
        return None
    arr = np.ctypeslib.as_array(ctypes.cast(address, ctypes.POINTER(ctype)),
                                shape=tuple(shape))
    if np_dtype is not None:
        arr = arr.view(np_dtype)
    arr.flags.writeable = False
    return arr


class _Cache:
    """What all caches share: sequences and lifetime."""

    _prefix = None
    _handle = None  # until created (a constructor may raise first)

    device = "cpu"

    def __init__(self, desc, fns):
        if self.device not in _MEMORY:
            raise AttnError(f"{type(self).__name__}: device must be 'cpu' or 'cuda'")
        desc.memory = _MEMORY[self.device]
        self._fns = fns
        self._handle = ctypes.c_void_p()
        if fns["cache_create"](ctypes.byref(desc), ctypes.byref(self._handle)) != 0:
            # The runtime's message names attnrt_<kind>_cache_create already.
            raise AttnError(_runtime().attnrt_last_error().decode())

    def _view_array(self, address, ctype, shape, np_dtype=None):
        return _array(address, ctype, shape, np_dtype, self.device)

    def _call(self, name, *args):
        if not self._handle:
            raise AttnError(f"{self._prefix} cache: used after close()")
        if self._fns[name](self._handle, *args) != 0:
            # The runtime's messages name the entry point already.
            raise AttnError(_runtime().attnrt_last_error().decode())

    def open(self):
        """A new empty sequence; returns its id (a slot index)."""
        seq = _I32()
        self._call("seq_create", ctypes.byref(seq))
        return seq.value

    def release(self, seq):
        self._call("seq_release", seq)

    def truncate(self, seq, length):
        self._call("truncate", seq, length)

    def fork(self, seq):
        child = _I32()
        self._call("fork", seq, ctypes.byref(child))
        return child.value

    def length(self, seq):
        n = _I32()
        self._call("length", seq, ctypes.byref(n))
        return n.value

    def memory(self):
        m = _Memory()
        self._call("memory", ctypes.byref(m))
        return {"reserved_bytes": m.reserved_bytes, "used_bytes": m.used_bytes,
                "free_pages": m.free_pages}

    def close(self):
        if self._handle:
            self._fns["cache_destroy"](self._handle)
            self._handle = ctypes.c_void_p()

    def __del__(self):
        self.close()


class _TokenCache(_Cache):
    """Caches that hold tokens: appends of [heads, n, dim] arrays."""

    _key_dtype = None  # the element type unless set

    def append(self, seq, key, value):
        """Appends tokens: key [kv_heads, n, head_dim], value [kv_heads, n,
        value_dim], C-contiguous, in the cache's element type (PQ keys:
        float32)."""
        import numpy as np
        n = None
        pointers = []
        for what, arr, width, dt in (
                ("key", key, self.head_dim, self._key_dtype or self._np_dtype),
                ("value", value, self.value_dim, self._np_dtype)):
            want = np.dtype(dt)
            if self.device == "cuda" and type(arr).__module__.startswith("torch"):
                import torch
                tt = {"float32": torch.float32, "float16": torch.float16,
                      "uint16": torch.bfloat16}[dt]
                if not arr.is_cuda or arr.dtype != tt or not arr.is_contiguous():
                    raise AttnError(f"append: {what} must be a contiguous CUDA "
                                    f"{tt} tensor or a numpy {want} array")
                shape, address = tuple(arr.shape), arr.data_ptr()
            else:
                if not isinstance(arr, np.ndarray) or arr.dtype != want:
                    raise AttnError(f"append: {what} must be a numpy {want} array")
                if not arr.flags["C_CONTIGUOUS"]:
                    raise AttnError(f"append: {what} must be C-contiguous")
                shape, address = arr.shape, arr.ctypes.data
            if len(shape) != 3 or shape[0] != self.kv_heads or shape[2] != width:
                raise AttnError(f"append: {what} must be [{self.kv_heads}, n, "
                                f"{width}], got {list(shape)}")
            if n is not None and shape[1] != n:
                raise AttnError("append: key and value hold different token counts")
            n = shape[1]
            pointers.append(address)
        self._call("append", seq, n, pointers[0], pointers[1])


class KVCache(_TokenCache):
    """A KV cache, contiguous (page_size = 0) or paged."""

    _prefix = "kv"

    def __init__(self, max_seqs, kv_heads, head_dim, capacity, value_dim=None,
                 dtype="f32", page_size=0, num_pages=0, device="cpu"):
        self.device = device
        if dtype not in _DTYPES:
            raise AttnError(f"KVCache: dtype must be one of {sorted(_DTYPES)}")
        code, self._np_dtype, self._bytes = _DTYPES[dtype]
        self.max_seqs, self.kv_heads, self.head_dim = max_seqs, kv_heads, head_dim
        self.value_dim = value_dim or head_dim
        self.capacity, self.page_size, self.num_pages = capacity, page_size, num_pages
        desc = _KvDesc(1 if page_size else 0, code, max_seqs, kv_heads, head_dim,
                       self.value_dim, capacity, page_size, num_pages)
        super().__init__(desc, _bind("kv", _KvDesc, _KvView))

    def view(self):
        """The operands of attn.attention's cache form: key and value
        ([S, H, C, D] or pools [P, H, PS, D]), lengths [S] and, paged,
        block_table [S, C / PS]."""
        v = _KvView()
        self._call("view_get", ctypes.byref(v))
        rows = (self.num_pages, self.kv_heads, self.page_size) if self.page_size \
            else (self.max_seqs, self.kv_heads, self.capacity)
        elem = ctypes.c_float if self._bytes == 4 else ctypes.c_uint16
        conv = None if self._np_dtype in ("float32", "uint16") else self._np_dtype
        return {
            "key": self._view_array(v.key, elem, rows + (self.head_dim,), conv),
            "value": self._view_array(v.value, elem, rows + (self.value_dim,), conv),
            "lengths": self._view_array(v.lengths, _I32, (self.max_seqs,)),
            "block_table": self._view_array(v.block_table, _I32,
                                  (self.max_seqs, self.capacity // self.page_size))
            if self.page_size else None,
        }


class QuantCache(_TokenCache):
    """An int8/int4 KV cache quantised on append, with a residual window."""

    _prefix = "quant"

    def __init__(self, max_seqs, kv_heads, head_dim, capacity, bits, group_size,
                 value_dim=None, dtype="f32", zero_points=False, device="cpu"):
        self.device = device
        if dtype not in _DTYPES:
            raise AttnError(f"QuantCache: dtype must be one of {sorted(_DTYPES)}")
        code, self._np_dtype, self._bytes = _DTYPES[dtype]
        self.max_seqs, self.kv_heads, self.head_dim = max_seqs, kv_heads, head_dim
        self.value_dim = value_dim or head_dim
        self.capacity, self.bits, self.group_size = capacity, bits, group_size
        self.zero_points = bool(zero_points)
        desc = _QuantDesc(code, max_seqs, kv_heads, head_dim, self.value_dim,
                          capacity, bits, group_size, int(self.zero_points))
        super().__init__(desc, _bind("quant", _QuantDesc, _QuantView))

    def view(self):
        """The operands of attn.quant_attention (codes, scales, zeros, the
        quantised lengths) and of the residual window's attn.attention."""
        v = _QuantView()
        self._call("view_get", ctypes.byref(v))
        s, h, c, g = self.max_seqs, self.kv_heads, self.capacity, self.group_size
        per = 2 if self.bits == 4 else 1
        vg = -(-self.value_dim // g)
        elem = ctypes.c_float if self._bytes == 4 else ctypes.c_uint16
        conv = None if self._np_dtype in ("float32", "uint16") else self._np_dtype
        f32 = ctypes.c_float
        return {
            "key_codes": self._view_array(v.key_codes, ctypes.c_int8, (s, h, c, self.head_dim // per)),
            "key_scale": self._view_array(v.key_scale, f32, (s, h, c // g, self.head_dim)),
            "key_zero": self._view_array(v.key_zero, f32, (s, h, c // g, self.head_dim)),
            "value_codes": self._view_array(v.value_codes, ctypes.c_int8, (s, h, c, self.value_dim // per)),
            "value_scale": self._view_array(v.value_scale, f32, (s, h, c, vg)),
            "value_zero": self._view_array(v.value_zero, f32, (s, h, c, vg)),
            "residual_key": self._view_array(v.residual_key, elem, (s, h, g, self.head_dim), conv),
            "residual_value": self._view_array(v.residual_value, elem, (s, h, g, self.value_dim), conv),
            "quantized_lengths": self._view_array(v.quantized_lengths, _I32, (s,)),
            "residual_lengths": self._view_array(v.residual_lengths, _I32, (s,)),
        }


class PQCache(_TokenCache):
    """A PQ key cache: f32 keys encoded on append against per-head codebooks
    [kv_heads, subspaces, centroids, head_dim / subspaces] (float32, copied
    at create); values stored in the element type."""

    _prefix = "pq"
    _key_dtype = "float32"

    def __init__(self, max_seqs, kv_heads, head_dim, capacity, subspaces,
                 centroids, codebooks, value_dim=None, dtype="f32", device="cpu"):
        import numpy as np
        self.device = device
        if dtype not in _DTYPES:
            raise AttnError(f"PQCache: dtype must be one of {sorted(_DTYPES)}")
        code, self._np_dtype, self._bytes = _DTYPES[dtype]
        self.max_seqs, self.kv_heads, self.head_dim = max_seqs, kv_heads, head_dim
        self.value_dim = value_dim or head_dim
        self.capacity, self.subspaces, self.centroids = capacity, subspaces, centroids
        # The runtime reads kv_heads * centroids * head_dim floats from it
        # (after refusing a head_dim that subspaces does not divide).
        if not isinstance(codebooks, np.ndarray) or codebooks.dtype != np.float32 \
                or not codebooks.flags["C_CONTIGUOUS"]:
            raise AttnError("PQCache: codebooks must be a C-contiguous numpy "
                            "float32 array")
        if subspaces > 0 and head_dim % subspaces == 0:
            want = (kv_heads, subspaces, centroids, head_dim // subspaces)
            if codebooks.shape != want:
                raise AttnError(f"PQCache: codebooks must be {list(want)}, got "
                                f"{list(codebooks.shape)}")
        desc = _PqDesc(code, max_seqs, kv_heads, head_dim, self.value_dim,
                       capacity, subspaces, centroids, codebooks.ctypes.data)
        super().__init__(desc, _bind("pq", _PqDesc, _PqView))

    def view(self):
        """The operands of attn.pq_attention: codes [S, H, C, m] (256
        centroids, read as unsigned) or [S, H, C, m / 2] (16, low nibble
        first), codebooks [H, m, Kc, D / m], value [S, H, C, Dv] and the
        key counts lengths [S]."""
        v = _PqView()
        self._call("view_get", ctypes.byref(v))
        s, h, c, m = self.max_seqs, self.kv_heads, self.capacity, self.subspaces
        elem = ctypes.c_float if self._bytes == 4 else ctypes.c_uint16
        conv = None if self._np_dtype in ("float32", "uint16") else self._np_dtype
        return {
            "codes": self._view_array(v.codes, ctypes.c_int8,
                            (s, h, c, m if self.centroids == 256 else m // 2)),
            "codebooks": self._view_array(v.codebooks, ctypes.c_float,
                                (h, m, self.centroids, self.head_dim // m)),
            "value": self._view_array(v.value, elem, (s, h, c, self.value_dim), conv),
            "lengths": self._view_array(v.lengths, _I32, (s,)),
        }


class StateCache(_Cache):
    """Recurrent states (linear attention's S and z, the delta rule's S,
    log-linear's level states): f32 tensors of the given shapes per
    sequence, stepped in two phases with checkpoints for rollback.

        in_, out = cache.begin(seq, tokens)    # lists of arrays, one per tensor
        lib.call("step", q, k, v, ..., in_[0], o, out[0])
        cache.commit(seq)                      # or cache.abort(seq)
    """

    _prefix = "state"

    def __init__(self, max_seqs, shapes, checkpoints=0, device="cpu"):
        import numpy as np
        self.device = device
        if not 1 <= len(shapes) <= 8:
            raise AttnError("StateCache: between 1 and 8 state tensors")
        self.max_seqs, self.shapes = max_seqs, [tuple(x) for x in shapes]
        sizes = [int(np.prod(x)) for x in self.shapes] + [0] * (8 - len(shapes))
        desc = _StateDesc(max_seqs, len(shapes), (ctypes.c_int64 * 8)(*sizes),
                          checkpoints)
        super().__init__(desc, _bind("state", _StateDesc))

    def begin(self, seq, tokens):
        """Opens a step: (current states, buffers for the next ones) as NumPy
        arrays over the cache, valid until commit or abort."""
        fp = ctypes.POINTER(ctypes.c_float)
        ins, outs = (fp * 8)(), (fp * 8)()
        self._call("step_begin", seq, tokens, ins, outs)
        wrap = lambda ptrs: [self._view_array(ctypes.cast(ptrs[i], ctypes.c_void_p).value,
                                    ctypes.c_float, shape)
                             for i, shape in enumerate(self.shapes)]
        current, following = wrap(ins), wrap(outs)
        if self.device == "cpu":
            for arr in following:
                arr.flags.writeable = True  # the kernel's outputs go here
        return current, following

    def commit(self, seq):
        self._call("step_commit", seq)

    def abort(self, seq):
        self._call("step_abort", seq)

    def reset(self, seq):
        self._call("reset", seq)

    def read(self, seq, index=0):
        """A copy of state tensor `index` of the sequence."""
        import numpy as np
        out = np.empty(self.shapes[index], np.float32)
        self._call("read", seq, index, out.ctypes.data_as(ctypes.POINTER(ctypes.c_float)))
        return out
