"""Builds mooncomm._C with the project's CMake (the core, the algorithm
library and the plugins come along, next to the extension in the package).

    pip install --no-build-isolation ./torch-backend

--no-build-isolation: the extension must be built against the torch that
will import it, not a fresh one pip would download into a build environment.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


class BuildWithCMake(build_py):
    def run(self):
        super().run()
        build = HERE / "build-pip"
        subprocess.check_call([
            "cmake", "-S", str(ROOT), "-B", str(build), "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release",
            "-DMC_BUILD_TESTS=OFF", "-DMC_WITH_TORCH=on", f"-DMC_PYTHON={sys.executable}",
            # Everything lands in one directory of the package: find each other there.
            "-DCMAKE_BUILD_WITH_INSTALL_RPATH=ON", "-DCMAKE_INSTALL_RPATH=$ORIGIN",
        ])
        subprocess.check_call(["cmake", "--build", str(build), "--parallel", str(os.cpu_count() or 2)])
        dest = Path(self.build_lib) / "mooncomm"
        dest.mkdir(parents=True, exist_ok=True)
        for f in (build / "python" / "mooncomm").glob("_C*.so"):
            shutil.copy2(f, dest / f.name)
        for f in (build / "lib").glob("*.so*"):
            shutil.copy2(f, dest / f.name, follow_symlinks=True)


setup(cmdclass={"build_py": BuildWithCMake})
