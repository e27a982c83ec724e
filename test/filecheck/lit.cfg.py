"""lit configuration for mixpe's FileCheck tests (run: `lit -v test/filecheck`)."""

import os
import shutil

import lit.formats

config.name = "mixpe"
config.test_format = lit.formats.ShTest()
config.suffixes = [".mlir", ".test"]
config.excludes = ["inputs", "lit.cfg.py"]
config.test_source_root = os.path.dirname(__file__)
config.environment["PYTHONWARNINGS"] = "ignore::DeprecationWarning"

_root = os.path.dirname(os.path.dirname(config.test_source_root))
config.substitutions.append(("%inputs", os.path.join(_root, "test", "inputs")))

# Upstream MLIR (Debian's mlir-22-tools); tests that need it say `REQUIRES: mlir-opt`.
_mlir_opt = shutil.which("mlir-opt") or next(
    (p for p in ("/usr/lib/llvm-22/bin/mlir-opt",) if os.path.exists(p)), None
)
if _mlir_opt:
    config.available_features.add("mlir-opt")
    config.substitutions.append(("%mlir-opt", _mlir_opt))
