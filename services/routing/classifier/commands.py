"""`minqing routing train|evaluate`: the dispatch classifier from the command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from services.kernel import migrations
from services.kernel.config import Settings
from services.kernel.db import Database
from services.routing.classifier.evaluation import ExamplesError, evaluate, read_examples
from services.routing.classifier.model import TrainingError
from services.routing.classifier.training import (
    Trained,
    train_from_decisions,
    train_from_examples,
)

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`minqing routing train|evaluate`."""
    routing = commands.add_parser("routing", help="routing tools: train and evaluate dispatch")
    actions = routing.add_subparsers(dest="routing_command", required=True)
    train = actions.add_parser(
        "train", help="train the dispatch classifier and store it in routing's database"
    )
    source = train.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--from",
        dest="from_file",
        type=Path,
        metavar="FILE",
        help="labelled examples: `label<TAB>text` lines, or a .csv with columns text,label; "
        "labels are department codes or catalogue categories",
    )
    source.add_argument(
        "--from-decisions",
        action="store_true",
        help="the work orders dispatchers sent by hand: their text and department",
    )
    evaluation = actions.add_parser(
        "evaluate", help="train a fresh model on one file, score it on another (nothing stored)"
    )
    evaluation.add_argument("--train", type=Path, required=True, metavar="FILE")
    evaluation.add_argument("--test", type=Path, required=True, metavar="FILE")


def command(args: argparse.Namespace, settings: Settings, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    try:
        if args.routing_command == "evaluate":
            scores = evaluate(read_examples(args.train), read_examples(args.test))
            print(f"cases={scores.cases}", file=out)
            print(scores.line(), file=out)
            return 0
        trained = _train(args, settings)
    except (ExamplesError, TrainingError, OSError) as exc:
        print(f"minqing: {exc}", file=sys.stderr)
        return 1
    metrics = " ".join(f"{k}={v}" for k, v in sorted(trained.metrics.items()))
    print(
        f"stored classifier v{trained.version}: {trained.examples} examples, "
        f"departments {', '.join(trained.labels)} {metrics}".rstrip(),
        file=out,
    )
    return 0


def _train(args: argparse.Namespace, settings: Settings) -> Trained:
    """Train against the configured routing database, brought up to date first."""
    examples = None if args.from_decisions else read_examples(args.from_file)
    url = settings.database_url("routing")
    migrations.upgrade("routing", MIGRATIONS, url)
    database = Database(url, pool_size=1, max_overflow=0)
    try:
        with database.session() as session:
            if examples is None:
                trained = train_from_decisions(session)
            else:
                trained = train_from_examples(session, examples, "file")
            session.commit()
            return trained
    finally:
        database.dispose()
