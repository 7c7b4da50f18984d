"""Benchmark of the intent classifier (``nlu/``).

Run from the repository root: ``python bench/nlu.py`` (``--held-out 0.25`` for the share of each
intent's utterances kept out of training, ``--seed N``).

Each intent's utterances in ``nlu/data/utterances.yaml`` are shuffled with the seed and split:
the model is trained on the rest and :func:`nlu.understand` (model and rules) is scored on the
held-out part the model never saw (accuracy per intent and overall), then the shipped model
(trained on everything) is scored on the hand-written held-out messages of
``tests/data/nlu_heldout.yaml`` and ``tests/data/nlu_voices.yaml`` (intent accuracy, per intent,
and slot accuracy).
Timing: the training time of the full model and the mean and 95th-percentile milliseconds per
message of :func:`nlu.understand` in this process (slots included), over every message above.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)  # this script is named like the package: import the package, not it

import yaml  # noqa: E402

from nlu.classifier import INTENTS, load_utterances, model, train, understand  # noqa: E402

# Hand-written messages never in the training file (tests/test_nlu.py checks that).
HELD_OUT_FILES = ("tests/data/nlu_heldout.yaml", "tests/data/nlu_voices.yaml")


def split(examples: dict[str, list[str]], share: float, seed: int):
    """(training examples, held-out (text, intent) pairs): ``share`` of each intent held out."""
    rng = random.Random(seed)
    kept, held = {}, []
    for intent, texts in examples.items():
        texts = sorted(texts)
        rng.shuffle(texts)
        cut = max(1, round(len(texts) * share))
        held += [(t, intent) for t in texts[:cut]]
        kept[intent] = texts[cut:]
    return kept, held


def score_file(name: str, cases: list[dict]) -> None:
    """Print the shipped model's intent accuracy per intent and slot accuracy on ``cases``."""
    right = {i: [0, 0] for i in INTENTS}
    wanted = [(c["text"], k, v) for c in cases for k, v in c.get("slots", {}).items()]
    for c in cases:
        right[c["intent"]][1] += 1
        right[c["intent"]][0] += understand(c["text"]).intent == c["intent"]
    ok = sum(n for n, _ in right.values())
    slots_ok = sum(understand(t).slots.get(k) == v for t, k, v in wanted)
    print(f"{name}: intent {ok}/{len(cases)} = {ok / len(cases):.3f}, "
          f"slots {slots_ok}/{len(wanted)} = {slots_ok / len(wanted):.3f}")  # fmt: skip
    print("  " + ", ".join(f"{i} {n}/{t}" for i, (n, t) in right.items() if t))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--held-out", type=float, default=0.25)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    examples = load_utterances()
    kept, held = split(examples, args.held_out, args.seed)
    partial = train(kept)
    right = {i: [0, 0] for i in INTENTS}
    for text, intent in held:
        right[intent][1] += 1
        right[intent][0] += understand(text, classifier=partial).intent == intent
    print(f"held-out utterances: {len(held)} of {sum(map(len, examples.values()))}")
    for intent, (ok, n) in right.items():
        print(f"  {intent:<16} {ok:>3}/{n:<3} {ok / n:.2f}")
    total = sum(ok for ok, _ in right.values())
    print(f"  {'overall':<16} {total:>3}/{len(held):<3} {total / len(held):.3f}")

    started = time.perf_counter()
    model()
    print(f"training on all utterances: {time.perf_counter() - started:.2f} s (imports included)")
    started = time.perf_counter()
    train(examples)
    print(f"training again: {time.perf_counter() - started:.2f} s")

    texts = [t for t, _ in held]
    for name in HELD_OUT_FILES:
        cases = yaml.safe_load((ROOT / name).read_text("utf-8"))
        score_file(name, cases)
        texts += [c["text"] for c in cases]
    times = []
    for text in texts:
        started = time.perf_counter()
        understand(text)
        times.append((time.perf_counter() - started) * 1000)
    p95 = statistics.quantiles(times, n=20)[-1]
    print(f"understand(): {statistics.mean(times):.2f} ms/message mean, {p95:.2f} ms p95 "
          f"({len(texts)} messages)")  # fmt: skip


if __name__ == "__main__":
    main()
