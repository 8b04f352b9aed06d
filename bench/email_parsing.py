"""How fast the email parser reads mail: the test corpus, parsed over and over on one core.

`python bench/email_parsing.py [--seconds S] [--corpus DIR]` parses every `.eml` file in the
corpus in turn until S seconds have passed, then prints per-message figures. The last line is
machine-readable: `messages_per_s=… mb_per_s=… p50_us=… p99_us=… max_us=… messages=…`.
Parsing alone: recording the case is not measured here.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from pathlib import Path

from services.intake.channels.email.parsing import parse_email

DEFAULT_CORPUS = Path(__file__).resolve().parent.parent / "tests" / "data" / "emails"


def main() -> None:
    """Run the benchmark and print its figures."""
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--seconds", type=float, default=10.0)
    options.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    args = options.parse_args()

    messages = [path.read_bytes() for path in sorted(args.corpus.glob("*.eml"))]
    if not messages:
        raise SystemExit(f"no .eml files in {args.corpus}")
    for raw in messages:  # warm up: imports, regex and codec caches
        parse_email(raw)

    timings: list[float] = []
    parsed_bytes = 0
    gc.collect()
    started = time.perf_counter()
    deadline = started + args.seconds
    while time.perf_counter() < deadline:
        for raw in messages:
            before = time.perf_counter()
            parse_email(raw)
            timings.append(time.perf_counter() - before)
            parsed_bytes += len(raw)
    elapsed = time.perf_counter() - started

    timings.sort()
    per_second = len(timings) / elapsed
    micro = [t * 1e6 for t in timings]
    p50 = statistics.median(micro)
    p99 = micro[min(len(micro) - 1, int(len(micro) * 0.99))]
    print(f"corpus: {len(messages)} messages, {sum(map(len, messages)) / 1024:.0f} KiB")
    print(f"parsed {len(timings)} messages in {elapsed:.1f} s on one core")
    print(
        f"messages_per_s={per_second:.0f} mb_per_s={parsed_bytes / elapsed / 1e6:.1f} "
        f"p50_us={p50:.0f} p99_us={p99:.0f} max_us={micro[-1]:.0f} messages={len(timings)}"
    )


if __name__ == "__main__":
    main()
