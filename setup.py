"""Build hook for the optional C accelerator; all metadata is in pyproject.toml.

``kafs.auth._fcrypt`` (rxkad's fcrypt hot loops) is compiled when a C
compiler and the Python headers are present; ``optional=True`` lets the
install succeed without them, and kafs then uses the pure-Python fcrypt.
Set KAFS_NO_C=1 at run time to force the pure-Python version.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "kafs.auth._fcrypt",
            sources=["src/kafs/auth/_fcrypt.c"],
            extra_compile_args=["-O2"],
            optional=True,
        ),
    ],
)
