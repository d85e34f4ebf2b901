"""ctypes bindings of libattnrt (runtime/include/attnrt.h, attnrt_cuda.h)."""

import ctypes
import json
import os

_DTYPES = {
    # manifest dtype -> (numpy dtype name, torch dtype name, bytes)
    "f32": ("float32", "float32", 4),
    "f16": ("float16", "float16", 2),
    "bf16": ("uint16", "bfloat16", 2),
    "i32": ("int32", "int32", 4),
    "i8": ("int8", "int8", 1),
    "i1": ("bool", "bool", 1),
}


class AttnError(RuntimeError):
    """A libattnrt call failed; the message is the runtime's."""


def runtime_path():
    env = os.environ.get("ATTN_RUNTIME")
    if env:
        return env
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.join(here, "..", "..", "build", "lib", "libattnrt.so")


_rt = None


def _runtime():
    global _rt
    if _rt is None:
        path = runtime_path()
        if not os.path.exists(path):
            raise AttnError(f"libattnrt not found at {path}: build the project "
                            "or set ATTN_RUNTIME")
        # Global, so that kernel libraries resolve the mgpu* functions of this
        # copy (their NEEDED entry matches it by soname).
        rt = ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
        p, i32, sz = ctypes.c_void_p, ctypes.c_int32, ctypes.c_size_t
        sigs = {
            "attnrt_last_error": ([], ctypes.c_char_p),
            "attnrt_module_load": ([ctypes.c_char_p, ctypes.POINTER(p)], ctypes.c_int),
            "attnrt_module_unload": ([p], None),
            "attnrt_module_manifest": ([p], ctypes.c_char_p),
            "attnrt_call": ([p, ctypes.c_char_p, ctypes.POINTER(p), i32], ctypes.c_int),
            "attnrt_cuda_init": ([], ctypes.c_int),
            "attnrt_cuda_set_stream": ([p], ctypes.c_int),
            "attnrt_cuda_malloc": ([sz, ctypes.POINTER(p)], ctypes.c_int),
            "attnrt_cuda_free": ([p], ctypes.c_int),
            "attnrt_cuda_memcpy_htod": ([p, p, sz], ctypes.c_int),
            "attnrt_cuda_memcpy_dtoh": ([p, p, sz], ctypes.c_int),
            "attnrt_cuda_memset_u8": ([p, ctypes.c_uint8, sz], ctypes.c_int),
            "attnrt_cuda_synchronize": ([], ctypes.c_int),
        }
        for name, (args, res) in sigs.items():
            fn = getattr(rt, name)
            fn.argtypes, fn.restype = args, res
        _rt = rt
    return _rt


def _check(status, what):
    if status != 0:
        msg = _runtime().attnrt_last_error().decode()
        raise AttnError(f"{what}: {msg}")


class Entry:
    def __init__(self, lib, desc):
        self.lib = lib
        self.name = desc["name"]
        self.args = desc["args"]
        self.inputs = [a for a in self.args if a["direction"] == "in"]
        self.outputs = [a for a in self.args if a["direction"] == "out"]

    def __call__(self, *inputs):
        """Allocates the outputs like the first input and returns them."""
        if len(inputs) != len(self.inputs):
            raise AttnError(f"{self.name} takes {len(self.inputs)} inputs, "
                            f"got {len(inputs)}")
        outs = [self.lib._empty_like(inputs[0], a) for a in self.outputs]
        self.lib.call(self.name, *inputs, *outs)
        return outs[0] if len(outs) == 1 else tuple(outs)


class Library:
    """A kernel library; entries are attributes and `call` takes buffers."""

    def __init__(self, path):
        rt = _runtime()
        handle = ctypes.c_void_p()
        _check(rt.attnrt_module_load(os.fsencode(path), ctypes.byref(handle)),
               f"loading {path}")
        self._handle = handle
        self.path = path
        self.manifest = json.loads(rt.attnrt_module_manifest(handle).decode())
        self.target = self.manifest.get("target", "cpu")
        self.entries = {e["name"]: Entry(self, e) for e in self.manifest["entries"]}
        if self.target == "cuda":
            _check(rt.attnrt_cuda_init(), "CUDA")

    def __getattr__(self, name):
        entries = self.__dict__.get("entries", {})
        if name in entries:
            return entries[name]
        raise AttributeError(name)

    def close(self):
        if self._handle:
            _runtime().attnrt_module_unload(self._handle)
            self._handle = None

    def _empty_like(self, like, arg):
        shape = tuple(arg["shape"])
        np_name, torch_name, _ = _DTYPES[arg["dtype"]]
        if _is_torch(like):
            import torch
            return torch.empty(shape, dtype=getattr(torch, torch_name),
                               device=like.device)
        import numpy as np
        return np.empty(shape, dtype=np_name)

    def call(self, name, *buffers):
        """Calls entry `name` with its inputs then outputs, in place."""
        entry = self.entries.get(name)
        if entry is None:
            raise AttnError(f"no entry point '{name}' in {self.path}")
        if len(buffers) != len(entry.args):
            raise AttnError(f"{name} takes {len(entry.args)} buffers, got "
                            f"{len(buffers)}")
        ptrs = (ctypes.c_void_p * len(buffers))()
        stream = None
        for i, (buf, arg) in enumerate(zip(buffers, entry.args)):
            ptrs[i], buf_stream = self._pointer(name, buf, arg)
            stream = stream or buf_stream
        rt = _runtime()
        if self.target == "cuda":
            _check(rt.attnrt_cuda_set_stream(ctypes.c_void_p(stream)),
                   "setting the stream")
        _check(rt.attnrt_call(self._handle, name.encode(), ptrs, len(buffers)),
               name)

    def _pointer(self, entry, buf, arg):
        shape = list(arg["shape"])
        np_name, torch_name, _ = _DTYPES[arg["dtype"]]
        where = f"{entry}: argument '{arg['name']}'"
        if _is_torch(buf):
            import torch
            if list(buf.shape) != shape:
                raise AttnError(f"{where} needs shape {shape}, got {list(buf.shape)}")
            if buf.dtype != getattr(torch, torch_name):
                raise AttnError(f"{where} needs {torch_name}, got {buf.dtype}")
            if not buf.is_contiguous():
                raise AttnError(f"{where} must be contiguous")
            on_gpu = buf.is_cuda
            if on_gpu != (self.target == "cuda"):
                raise AttnError(f"{where} is on {buf.device}, the library "
                                f"targets {self.target}")
            stream = torch.cuda.current_stream(buf.device).cuda_stream if on_gpu else None
            return buf.data_ptr(), stream
        if self.target == "cuda":
            raise AttnError(f"{where}: a CUDA library takes torch CUDA tensors")
        import numpy as np
        if not isinstance(buf, np.ndarray):
            raise AttnError(f"{where}: expected a numpy array or torch tensor")
        if list(buf.shape) != shape or buf.dtype != np.dtype(np_name):
            raise AttnError(f"{where} needs {np_name}{shape}, got "
                            f"{buf.dtype}{list(buf.shape)}")
        if not buf.flags["C_CONTIGUOUS"]:
            raise AttnError(f"{where} must be C-contiguous")
        return buf.ctypes.data, None


def _is_torch(x):
    return type(x).__module__.startswith("torch")


def load(path):
    return Library(path)
