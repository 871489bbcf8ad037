"""Prints what building the extension against this Python's torch needs, as
KEY=value lines for torch-backend/CMakeLists.txt (lists joined with "|").
The same flags torch.utils.cpp_extension passes: the pybind11 ABI tags must
match torch's own, or Python cannot pass a Store or a Work between them."""
import sysconfig

import torch
from torch.utils import cpp_extension

defines = ["TORCH_API_INCLUDE_EXTENSION_H", f"_GLIBCXX_USE_CXX11_ABI={int(torch._C._GLIBCXX_USE_CXX11_ABI)}"]
for name in ("COMPILER_TYPE", "STDLIB", "BUILD_ABI"):
    value = getattr(torch._C, f"_PYBIND11_{name}", None)
    if value is not None:
        defines.append(f'PYBIND11_{name}="{value}"')
includes = cpp_extension.include_paths() + [sysconfig.get_paths()["include"]]
print(f"VERSION={torch.__version__}")
print("INCLUDE_DIRS=" + "|".join(includes))
print("LIBRARY_DIRS=" + "|".join(cpp_extension.library_paths()))
print("DEFINES=" + "|".join(defines))
print("EXT_SUFFIX=" + sysconfig.get_config_var("EXT_SUFFIX"))
