"""Packaging for refweb: a threaded, stdlib-only teaching re-implementation of
the Twisted Web server.  The package itself needs nothing outside the standard
library; the ``test`` extra brings pytest and coverage for the test suite."""

from setuptools import find_packages, setup

setup(
    name="refweb",
    version="0.1.0",
    description="A threaded, stdlib-only re-implementation of the Twisted Web "
                "server, written to be read and learned from.",
    long_description=open("README.rst", encoding="utf-8").read(),
    long_description_content_type="text/x-rst",
    packages=find_packages(include=["refweb", "refweb.*"]),
    python_requires=">=3.9",
    install_requires=[],
    extras_require={"test": ["pytest>=7", "coverage>=7"]},
    entry_points={"console_scripts": ["refweb = refweb.runner:main"]},
    classifiers=[
        "Programming Language :: Python :: 3",
        "Topic :: Internet :: WWW/HTTP :: HTTP Servers",
        "Intended Audience :: Education",
    ],
)
