"""The function builder users call: ``new_function``, ``code_to_function``, ``ServingFunction``."""

from nuserve.function.imports import import_function
from nuserve.function.serving_function import (
    ServingFunction,
    code_to_function,
    function_from_yaml,
    new_function,
)

__all__ = [
    "ServingFunction",
    "code_to_function",
    "function_from_yaml",
    "import_function",
    "new_function",
]
