"""Imports the shipped skill sets so that they register themselves (see ``_skill.get_skill``)."""

from . import chemistry as chemistry  # noqa: F401
