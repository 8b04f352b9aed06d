"""The routing accuracy benchmark: the dispatch classifier on the development messages.

`minqing bench routing [--data FILE] [--seed N] [--tune]` splits the labelled messages
(`label<TAB>text`, by default ../shared/data/citizen_messages_dev.tsv beside the repository)
80/20, stratified by label, with a fixed seed; trains on the 80 % and scores the 20 % exactly as
`minqing routing evaluate` does. `--tune` first cross-validates the regularisation on the 80 %
only (5 folds), which is how the model's settings were chosen: the 20 % is never looked at for a
choice. The last line is machine-readable: `accuracy=… macro_f1=… ms_per_case=…`.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from sklearn.model_selection import StratifiedKFold, train_test_split

from services.routing.classifier.evaluation import Example, read_examples, score
from services.routing.classifier.model import DEFAULT_C, Model, train

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO.parent / "shared" / "data" / "citizen_messages_dev.tsv"
SEED = 20261201
C_GRID = (0.3, 0.5, 1.0, 2.0, 4.0)
THRESHOLD = 0.6  # MINQING_DISPATCH_CONFIDENCE's default


def split(examples: list[Example], seed: int) -> tuple[list[Example], list[Example]]:
    training, test = train_test_split(
        examples, test_size=0.2, stratify=[e.label for e in examples], random_state=seed
    )
    return list(training), list(test)


def tune(training: list[Example], seed: int) -> None:
    """Cross-validated accuracy of each C on the training part."""
    labels = [e.label for e in training]
    folds = list(StratifiedKFold(5, shuffle=True, random_state=seed).split(training, labels))
    for c in C_GRID:
        accuracies = []
        for fit_on, check_on in folds:
            model = train([training[i].text for i in fit_on], [labels[i] for i in fit_on], c)
            accuracies.append(score(model, [training[i] for i in check_on]).accuracy)
        print(f"cv C={c}: accuracy={sum(accuracies) / len(accuracies):.4f}", flush=True)


def confident_share(model: Model, test: list[Example]) -> str:
    """How many cases dispatch would send by itself at the default threshold, how rightly."""
    sure = [
        (e, s[0]) for e in test if (s := model.suggest(e.text, top=1))[0].confidence >= THRESHOLD
    ]
    right = sum(e.label == s.label for e, s in sure)
    return (
        f"at confidence>={THRESHOLD}: {len(sure) / len(test):.1%} of cases dispatched by the "
        f"model, {right / max(len(sure), 1):.1%} of them right; the rest to the dispatcher"
    )


def main() -> int:
    parser = argparse.ArgumentParser(prog="minqing bench routing", description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--tune", action="store_true", help="cross-validate C on the 80 % first")
    args = parser.parse_args()
    if not args.data.exists():
        print(f"bench routing: no data at {args.data}; give --data", file=sys.stderr)
        return 2
    training, test = split(read_examples(args.data), args.seed)
    print(f"train={len(training)} test={len(test)} seed={args.seed} C={DEFAULT_C}", flush=True)
    if args.tune:
        tune(training, args.seed)
    started = time.perf_counter()
    model = train([e.text for e in training], [e.label for e in training])
    print(f"trained in {time.perf_counter() - started:.1f} s", flush=True)
    print(confident_share(model, test))
    print(score(model, test).line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
