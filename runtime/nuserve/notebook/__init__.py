"""A notebook's code: the cells a serving function runs, chosen by nuclio-jupyter's markers.

``code_to_function("name", filename="model.ipynb")`` keeps the notebook as the function's code
file; ``nuserve.resolve.load_code_module`` imports it through ``NotebookLoader``, so the mock
server, ``nuserve serve`` and Nuclio all run the same cells. This package sits at the bottom
layer (stdlib only): its errors are ``NotebookError`` (a ``ValueError``), which the callers turn
into ``ConfigError``.
"""

from nuserve.notebook.cells import NotebookError, cells_code, notebook_code
from nuserve.notebook.loader import NotebookLoader

__all__ = ["NotebookError", "NotebookLoader", "cells_code", "notebook_code"]
