"""Copies the built library into the package when one is found, so `pip install` of this
directory carries it (build it first: cargo build --release; or name it with DFUFLASH_LIBRARY).

A wheel that carries a native library is tagged for its platform (scripts/build-wheels.sh:
manylinux_2_17 by auditwheel, or py3-none-win_amd64 with --plat-name win_amd64 and the
cross-built dfuflash.dll), never
py3-none-any: the library is loaded through ctypes, so any Python 3 on that platform can use it."""
import os
import pathlib
import shutil

from setuptools import Distribution, setup
from setuptools.command.bdist_wheel import bdist_wheel
from setuptools.command.build_py import build_py

HERE = pathlib.Path(__file__).resolve().parent


class BuildWithLibrary(build_py):
    def run(self):
        super().run()
        # DFUFLASH_LIBRARY names the library to carry; otherwise the newest build in ../../target.
        env = os.environ.get("DFUFLASH_LIBRARY")
        if env:
            found = [pathlib.Path(env)]
        else:
            found = [
                HERE.parent.parent / "target" / profile / name
                for profile in ("release", "debug")
                for name in ("libdfuflash.so", "libdfuflash.dylib", "dfuflash.dll")
            ]
            found = sorted((p for p in found if p.exists()), key=lambda p: p.stat().st_mtime, reverse=True)
        if found:
            shutil.copy2(found[0], pathlib.Path(self.build_lib) / "dfuflash" / found[0].name)


class WithNativeLibrary(Distribution):
    """The package carries a native library: its files go to platlib and its wheel is not pure."""

    def has_ext_modules(self):
        return True


class PlatformWheel(bdist_wheel):
    def get_tag(self):
        _, _, platform = super().get_tag()
        return "py3", "none", platform


setup(distclass=WithNativeLibrary, cmdclass={"build_py": BuildWithLibrary, "bdist_wheel": PlatformWheel})
