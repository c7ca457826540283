"""Copies the built library into the package when one is found, so `pip install` of this
directory carries it (build it first: cargo build --release; or name it with DFUFLASH_LIBRARY)."""
import os
import pathlib
import shutil

from setuptools import setup
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


setup(cmdclass={"build_py": BuildWithLibrary})
