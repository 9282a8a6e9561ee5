"""Packaging for refweb: a threaded, stdlib-only teaching re-implementation of
the Twisted Web server.  The package itself needs nothing outside the standard
library; the ``test`` extra brings pytest and coverage for the test suite."""

import os

from setuptools import find_packages, setup


def referenceData():
    """The reference suite's site files and fixture folder, as package data."""
    base = os.path.join("refweb", "reference")
    found = []
    for part in ("sites", "fixture"):
        for folder, dirs, files in os.walk(os.path.join(base, part)):
            dirs[:] = [d for d in dirs if d != "__pycache__"]
            found += [os.path.relpath(os.path.join(folder, f), base) for f in files]
    return found


setup(
    name="refweb",
    version="0.1.0",
    description="A threaded, stdlib-only re-implementation of the Twisted Web "
                "server, written to be read and learned from.",
    long_description=open("README.rst", encoding="utf-8").read(),
    long_description_content_type="text/x-rst",
    packages=find_packages(include=["refweb", "refweb.*"]),
    package_data={"refweb.reference": referenceData()},
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
