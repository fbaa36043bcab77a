"""papershelf: the shared base of the paper packages.

Importing this package is cheap: it never imports torch, transformers or matplotlib.
The heavy modules (``train``, ``checkpoint``, ``models``, ``data``, ``adapters``,
``bench``) import them when their functions are called.
"""

from papershelf.errors import UserError
from papershelf.registry import Claim, Paper, Result, RunContext, discover, get_paper

__version__ = "0.1.0"
__all__ = [
    "Claim",
    "Paper",
    "Result",
    "RunContext",
    "UserError",
    "__version__",
    "discover",
    "get_paper",
]
