"""Generative models: ``LLModel``, its engines, and the OpenAI-compatible front end.

``LLModel`` serves text generation with token usage on every answer; the engine is
llama-cpp-python on a GGUF file (``nuserve.llm.llama``, the default, on the CPU) or an upstream
OpenAI-compatible server (``nuserve.llm.upstream``: vLLM on a GPU, another nuserve, ...).
``GraphServer`` mounts the OpenAI endpoints (``nuserve.llm.openai``) and the OIP generate
extension (``nuserve.llm.generate``) on the router of a function that serves one.
Importing this package loads no engine; each is imported when a model opens it.
"""

from nuserve.llm.generate import mount_generate
from nuserve.llm.model import LLModel
from nuserve.llm.openai import OpenAIFrontend, mount_frontend

__all__ = ["LLModel", "OpenAIFrontend", "mount_frontend", "mount_generate"]
