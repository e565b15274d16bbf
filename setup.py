"""setup.cfg holds the metadata and the dependencies. This file only lists the packages, because
setup.cfg's ``find:`` cannot add the repository's top-level ``migrations/`` folder under another
name: it ships inside the wheel as ``ioffice._migrations`` (``ioffice/migrate.py`` looks there
first, then in the checkout). Templates, static files, the font and the hub's migrations are
found as namespace packages, so ``package_data``'s patterns reach every folder of them."""

from setuptools import find_namespace_packages, setup

PACKAGES = find_namespace_packages(include=["ioffice*", "signing*", "axis_connector*"],
                                   exclude=["*.__pycache__"])
MIGRATIONS = ["ioffice._migrations", "ioffice._migrations.versions"]

setup(packages=PACKAGES + MIGRATIONS,
      package_dir={"ioffice._migrations": "migrations"})
