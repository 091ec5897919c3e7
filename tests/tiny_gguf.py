"""A tiny GGUF language model written on the spot: random weights, a small vocabulary.

CI downloads no model: the tests (and bench/) write this one, about 1 MB, and a real engine
(llama-cpp-python) runs it, so the tokens, the sampling, the stop strings and the context limit
are the engine's own. The text it writes is word salad, deterministic at temperature 0.

The vocabulary is SentencePiece-style (``▁word`` pieces plus the 256 byte tokens). The output
rows of the control and byte tokens are zero, so greedy decoding writes words and no
end-of-sequence: a completion runs to ``max_tokens`` or a stop string, never stops early.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

_WORD_TEXT = (
    "the a of and to in is it you that he was for on are with as his they be at one have "
    "this from or had by hot word but what some we can out other were all there when up use "
    "your how said an each she which do their time if will way about many then them write "
    "would like so these her long make thing see him two has look more day could go come did "
    "number sound no most people my over know water than call first who may down side been "
    "now find any new work part take get place made live where after back little only round "
    "man year came show every good me give our under name very through just form sentence"
)
WORDS = tuple(_WORD_TEXT.split())
LETTERS = "abcdefghijklmnopqrstuvwxyz"
CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|> {{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)
CONTEXT = 256
"""The model's context length: a prompt longer than this is refused (a test sends one)."""


def vocabulary() -> tuple[list[str], list[float], list[int]]:
    """Tokens, scores and token types (1 normal, 2 unknown, 3 control, 6 byte)."""
    tokens = ["<unk>", "<s>", "</s>"]
    types = [2, 3, 3]
    tokens += [f"<0x{b:02X}>" for b in range(256)]
    types += [6] * 256
    pieces = ["▁", *LETTERS, *(f"▁{c}" for c in LETTERS), *(f"▁{w}" for w in WORDS)]
    pieces += ["<", "|", ">", "user", "assistant", "system", "▁<|"]
    seen = set(tokens)
    for piece in pieces:
        if piece not in seen:
            seen.add(piece)
            tokens.append(piece)
            types.append(1)
    # SentencePiece prefers the higher score: longer pieces win
    scores = [0.0] * 259 + [float(len(t)) for t in tokens[259:]]
    return tokens, scores, types


def write_tiny_gguf(
    path: Path,
    seed: int = 7,
    n_embd: int = 64,
    n_layer: int = 2,
    n_ff: int = 128,
    context: int = CONTEXT,
) -> Path:
    """Write the model to ``path`` (once: an existing file is kept) and return the path;
    bench/ writes a wider, deeper one, whose decode steps cost more like a real model's."""
    import gguf

    if path.exists():
        return path
    tokens, scores, types = vocabulary()
    n_vocab, n_head = len(tokens), 4
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    writer = gguf.GGUFWriter(str(partial), "llama")
    writer.add_name("nuserve-tiny")
    writer.add_context_length(context)
    writer.add_embedding_length(n_embd)
    writer.add_block_count(n_layer)
    writer.add_feed_forward_length(n_ff)
    writer.add_head_count(n_head)
    writer.add_head_count_kv(n_head)
    writer.add_rope_dimension_count(n_embd // n_head)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_file_type(0)  # all f32
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_unk_token_id(0)
    writer.add_add_bos_token(True)
    writer.add_chat_template(CHAT_TEMPLATE)

    def weight(*shape: int, scale: float = 0.3) -> np.ndarray:
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    writer.add_tensor("token_embd.weight", weight(n_vocab, n_embd, scale=1.0))
    for i in range(n_layer):
        writer.add_tensor(f"blk.{i}.attn_norm.weight", np.ones(n_embd, np.float32))
        for name in ("attn_q", "attn_k", "attn_v", "attn_output"):
            writer.add_tensor(f"blk.{i}.{name}.weight", weight(n_embd, n_embd))
        writer.add_tensor(f"blk.{i}.ffn_norm.weight", np.ones(n_embd, np.float32))
        writer.add_tensor(f"blk.{i}.ffn_gate.weight", weight(n_ff, n_embd))
        writer.add_tensor(f"blk.{i}.ffn_up.weight", weight(n_ff, n_embd))
        writer.add_tensor(f"blk.{i}.ffn_down.weight", weight(n_embd, n_ff))
    writer.add_tensor("output_norm.weight", np.ones(n_embd, np.float32))
    output = weight(n_vocab, n_embd, scale=1.0)
    output[: 259 + 1 + len(LETTERS)] = 0.0  # no control, byte, bare ▁ or letter tokens
    writer.add_tensor("output.weight", output)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    partial.replace(path)
    return path
