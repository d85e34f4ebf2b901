# lit configuration of the attn test suite.
import os

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "ATTN"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.attn_obj_root, "test")
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py", "Inputs"]

llvm_config.with_system_environment(["HOME", "TMP", "TEMP"])
llvm_config.use_default_substitutions()

tool_dirs = [config.attn_tools_dir, config.llvm_tools_dir]
llvm_config.add_tool_substitutions(["attn-opt", "attn-compile", "attn-run", "not", "count"], tool_dirs)

# GPU tests: cubin emission needs ptxas (CUDA toolkit), execution a device.
cuda_home = os.environ.get("CUDA_HOME", "/usr/local/cuda")
ptxas = os.path.join(cuda_home, "bin", "ptxas")
if os.access(ptxas, os.X_OK):
    config.available_features.add("ptxas")
else:
    lit_config.note("no ptxas at " + ptxas + ": tests that need the CUDA "
                    "toolkit are skipped (UNSUPPORTED)")

# The Python binding's tests use Debian's python3 with python3-numpy.
import subprocess
system_python = "/usr/bin/python3"
try:
    subprocess.run([system_python, "-c", "import numpy"], check=True,
                   capture_output=True)
    config.available_features.add("numpy")
except (OSError, subprocess.CalledProcessError):
    lit_config.note("no NumPy for " + system_python + ": the Python binding "
                    "tests are skipped (UNSUPPORTED)")
config.substitutions.append(("%python", system_python))
config.substitutions.append(("%attn_src", config.attn_src_root))
config.substitutions.append(("%attn_lib", os.path.join(config.attn_obj_root, "lib")))

# A CUDA driver (libcuda.so.1) decides what attn-run --target=cuda does here.
import ctypes
try:
    ctypes.CDLL("libcuda.so.1")
    config.available_features.add("cuda-driver")
except OSError:
    pass
