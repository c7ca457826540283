"""Copies the built library into the package when one is found, so `pip install` of this
directory carries it (build it first: cargo build --release)."""
import pathlib
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = pathlib.Path(__file__).resolve().parent


class BuildWithLibrary(build_py):
    def run(self):
        super().run()
        for profile in ("release", "debug"):
            for name in ("libdfuflash.so", "libdfuflash.dylib", "dfuflash.dll"):
                lib = HERE.parent.parent / "target" / profile / name
                if lib.exists():
                    dest = pathlib.Path(self.build_lib) / "dfuflash" / name
                    shutil.copy2(lib, dest)
                    return


setup(cmdclass={"build_py": BuildWithLibrary})
