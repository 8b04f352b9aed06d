"""The routing accuracy benchmark: the dispatch classifier on the development messages.

`minqing bench routing [--data FILE] [--seed N] [--tune]` splits the labelled messages
(`label<TAB>text`, by default ../shared/data/citizen_messages_dev.tsv beside the repository)
80/20, stratified by label, with a fixed seed; trains on the 80 % and scores the 20 % exactly as
`minqing routing evaluate` does. `--tune` first cross-validates the regularisation on the 80 %
only (5 folds), which is how the model's settings were chosen: the 20 % is never looked at for a
choice. It then times the whole routing decision for each test message, as dispatch makes it
for a case that names no category: the catalogue's rules (services/routing/data/catalogue.toml,
loaded into an in-memory database), then the model in place of a keyword guess. The last line
is machine-readable: `accuracy=… macro_f1=… ms_per_case=… decision_p50_ms=… decision_p99_ms=…`.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path

from sklearn.model_selection import StratifiedKFold, train_test_split
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from services.routing.catalogue import install_catalogue, load_catalogue_file, read_rules
from services.routing.classifier.dispatching import GUESSES, choose
from services.routing.classifier.evaluation import Example, read_examples, score
from services.routing.classifier.model import DEFAULT_C, Model, train
from services.routing.dispatch import CaseFacts, Rules, decide
from services.routing.models import Base

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


def catalogue_rules() -> Rules:
    """The shipped catalogue's rules, read back as routing reads them."""
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        install_catalogue(session, load_catalogue_file())
        session.flush()
        return read_rules(session)


def decision_times(model: Model, test: list[Example]) -> tuple[float, float]:
    """p50 and p99, in ms, of the rules' decision and, for a keyword guess, the model's."""
    rules, today = catalogue_rules(), date.today()
    codes = {label: label for label in model.labels}
    times = []
    for example in test:
        started = time.perf_counter()
        ruled = decide(rules, None, example.text, facts=CaseFacts(example.text), on=today)
        if ruled.matched_by.startswith(GUESSES):
            choose(model.suggest(example.text), codes, THRESHOLD)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return times[len(times) // 2], times[min(len(times) - 1, int(len(times) * 0.99))]


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
    scored = score(model, test)
    p50, p99 = decision_times(model, test)
    print(f"{scored.line()} decision_p50_ms={p50:.3f} decision_p99_ms={p99:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
