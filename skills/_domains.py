"""Imports the shipped skill sets so that they register themselves (see ``_skill.get_skill``)."""

from . import chemistry as chemistry  # noqa: F401
from . import literature as literature  # noqa: F401
from . import mechanism_review as mechanism_review  # noqa: F401
from . import redox as redox  # noqa: F401
from . import signalling as signalling  # noqa: F401
