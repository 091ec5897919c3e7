"""Time to first token through ``nuserve serve`` from several runtime trees, in one run.

Each tree (``NAME=DIR``, ``DIR`` a ``runtime/`` directory, e.g. one written by
``git archive <commit> runtime | tar -x -C /tmp/x``) serves the bench's model in its own
``nuserve serve``; requests go round robin, with a direct ``create_completion`` (the floor)
first in each round, so the trees meet the same load. Prints each tree's median TTFT and
tokens/s. Used to compare changes to the LLM path on a shared machine, where single runs of
bench/llm.py swing by more than the changes.

Run: ``python bench/llm_trees.py [--rounds N] [--tokens N] NAME=DIR [NAME=DIR ...]``
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from llm import direct, through  # noqa: E402

from tests.serve_models import serve, write_function_yaml  # noqa: E402
from tests.tiny_gguf import write_tiny_gguf  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--tokens", type=int, default=32)
    parser.add_argument("trees", nargs="+", help="NAME=RUNTIME_DIR")
    args = parser.parse_args()
    from llama_cpp import Llama  # noqa: PLC0415 - the llm extra

    trees = dict(tree.split("=", 1) for tree in args.trees)
    tmp = Path(tempfile.mkdtemp(prefix="nuserve-llm-trees-"))
    model = write_tiny_gguf(tmp / "bench.gguf", n_embd=512, n_layer=6, n_ff=1536, context=1024)
    llama = Llama(str(model), n_ctx=0, n_threads=1, n_threads_batch=1, verbose=False)

    def configure(fn: Any) -> None:
        fn.add_model("bench", class_name="LLModel", model_path=str(model), slots=8, threads=1)

    with contextlib.ExitStack() as stack:
        ports = {}
        for name, tree in trees.items():
            (tmp / name).mkdir()
            spec = write_function_yaml(
                tmp / name / "function.yaml",
                {"e": "tests.serve_models.CountingEcho"},
                configure=configure,
            )
            os.environ["PYTHONPATH"] = str(Path(tree).resolve())  # its nuserve: this tree
            ports[name] = stack.enter_context(serve(spec, workers=1, timeout=120)).port
        os.environ.pop("PYTHONPATH")
        for port in ports.values():
            through(port, 8)
        direct(llama, 8)
        results: dict[str, list[tuple[float, float, int]]] = {"direct": []}
        results.update({name: [] for name in ports})
        for _ in range(args.rounds):
            results["direct"].append(direct(llama, args.tokens))
            for name, port in ports.items():
                results[name].append(through(port, args.tokens))
    floor = statistics.median(r[0] for r in results["direct"]) * 1000
    print(f"{args.rounds} rounds of {args.tokens} tokens, round robin (medians):")
    for name, runs in results.items():
        ttft = statistics.median(r[0] for r in runs) * 1000
        rate = statistics.median(r[2] / r[1] for r in runs)
        print(f"{name:10} TTFT {ttft:6.2f} ms ({ttft - floor:+.2f})  tokens/s {rate:6.1f}")


if __name__ == "__main__":
    main()
