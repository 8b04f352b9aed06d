"""The dispatch classifier's pure parts: terms, training, suggestions, storage, scoring."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from services.routing.classifier.dispatching import choose
from services.routing.classifier.evaluation import (
    Example,
    ExamplesError,
    Scores,
    macro_f1,
    read_examples,
    score,
)
from services.routing.classifier.features import terms
from services.routing.classifier.model import (
    Model,
    Suggestion,
    TrainingError,
    fit,
    readable,
    train,
)
from services.routing.classifier.store import labels_as_departments
from tests.classifier_corpus import corpus


@pytest.fixture(scope="module")
def model() -> Model:
    pairs = corpus()
    return train([t for t, _ in pairs], [d for _, d in pairs])


def test_terms_are_characters_and_bigrams_within_runs_of_han() -> None:
    assert terms("校车，超载") == ["校", "车", "校车", "超", "载", "超载"]


def test_terms_fold_width_case_and_numbers() -> None:
    assert terms("ＡＢＣ12路公交") == ["abc0", "路", "公", "交", "路公", "公交"]


def test_a_trained_model_picks_the_department_its_words_belong_to(model: Model) -> None:
    assert model.labels == ("edu", "env", "transport")
    assert model.predict("学校门口的校车太挤了") == "edu"
    assert model.predict("化工厂晚上偷排污水，臭味很重") == "env"
    assert model.predict("公交车站台被拆了") == "transport"


def test_suggestions_are_the_top_three_with_calibrated_confidence_and_their_words(
    model: Model,
) -> None:
    suggestions = model.suggest("化工厂晚上偷排污水，臭味很重")
    assert suggestions[0].label == "env"
    assert len(suggestions) == 3
    confidences = [s.confidence for s in suggestions]
    assert confidences == sorted(confidences, reverse=True)
    assert sum(confidences) == pytest.approx(1.0, abs=1e-3)
    assert suggestions[0].confidence > 0.5
    # The words that drove the top suggestion come from the text and are the department's.
    assert suggestions[0].words
    assert set(suggestions[0].words) <= set(terms("化工厂晚上偷排污水，臭味很重"))
    assert {"污水", "偷排", "臭味"} & set(suggestions[0].words)


def test_words_shown_drop_characters_a_longer_word_among_them_contains() -> None:
    assert readable(["偷", "偷排", "污水", "水", "臭"]) == ("偷排", "污水", "臭")


def test_a_text_with_no_known_word_is_unsure(model: Model) -> None:
    suggestions = model.suggest("嗯嗯嗯")
    assert suggestions[0].confidence < 0.6
    assert suggestions[0].words == ()


def test_a_stored_model_loads_back_without_pickle_and_predicts_the_same(model: Model) -> None:
    loaded = Model.from_bytes(model.to_bytes())
    text = "老师在校外办补课班"
    assert loaded.suggest(text) == model.suggest(text)
    assert loaded.temperature == model.temperature


def test_a_blob_holding_python_objects_is_refused() -> None:
    buffer = io.BytesIO()
    np.savez(buffer, format_version=np.array(1), labels=np.array([object()], dtype=object))
    with pytest.raises(ValueError, match="pickle"):
        Model.from_bytes(buffer.getvalue())


def test_training_needs_two_labels_and_enough_examples() -> None:
    with pytest.raises(TrainingError, match="two labels"):
        train(["学校"] * 10, ["edu"] * 10)
    with pytest.raises(TrainingError, match="at least"):
        train(["学校", "公交"], ["edu", "transport"])


def test_fit_reports_cross_validated_metrics() -> None:
    pairs = corpus()
    _, metrics = fit([t for t, _ in pairs], [d for _, d in pairs])
    assert set(metrics) == {"cv_accuracy", "cv_macro_f1"}
    assert 0.5 < metrics["cv_accuracy"] <= 1


def test_two_labels_make_a_model_with_a_row_for_each(model: Model) -> None:
    pairs = [(t, d) for t, d in corpus() if d != "transport"]
    two = train([t for t, _ in pairs], [d for _, d in pairs])
    assert two.coef.shape[0] == 2
    assert two.predict("学校的老师") == "edu"
    assert two.predict("工厂排污") == "env"


def test_the_dispatcher_decides_below_the_threshold_or_for_an_unknown_department() -> None:
    departments = {"edu": "县教育局", "env": "生态环境局县分局"}
    sure = Suggestion("edu", 0.8, ("学校",))
    unsure = Suggestion("edu", 0.5, ("学校",))
    assert choose([sure], departments, 0.6) == sure
    assert choose([unsure], departments, 0.6) is None
    assert choose([Suggestion("gone", 0.9, ())], departments, 0.6) is None


def test_categories_become_their_departments_and_unknown_labels_are_named() -> None:
    mapped, unknown = labels_as_departments(
        ["edu", "环境保护", "外星人"], {"edu": "x", "env": "y"}, {"环境保护": "env"}
    )
    assert mapped == ["edu", "env", "外星人"]
    assert unknown == ["外星人"]


def test_tsv_is_label_tab_text_and_csv_has_a_header(tmp_path: Path) -> None:
    tsv = tmp_path / "a.tsv"
    tsv.write_text("edu\t学校门口拥堵\n\nenv\t河里有污水\n", encoding="utf-8")
    assert read_examples(tsv) == [Example("学校门口拥堵", "edu"), Example("河里有污水", "env")]
    csv = tmp_path / "a.csv"
    csv.write_text('label,text\nedu,"学校,门口"\n', encoding="utf-8")
    assert read_examples(csv) == [Example("学校,门口", "edu")]


def test_malformed_files_say_where(tmp_path: Path) -> None:
    tsv = tmp_path / "a.tsv"
    tsv.write_text("edu\t学校\nno tab here\n", encoding="utf-8")
    with pytest.raises(ExamplesError, match="line 2"):
        read_examples(tsv)
    csv = tmp_path / "a.csv"
    csv.write_text("words,dept\n学校,edu\n", encoding="utf-8")
    with pytest.raises(ExamplesError, match="header"):
        read_examples(csv)


def test_macro_f1_averages_each_true_labels_f1() -> None:
    assert macro_f1(["a", "a", "b", "b"], ["a", "a", "b", "b"]) == 1.0
    # a: precision 2/3, recall 1 → 0.8; b: precision 1, recall 1/2 → 2/3.
    assert macro_f1(["a", "a", "b", "b"], ["a", "a", "a", "b"]) == pytest.approx((0.8 + 2 / 3) / 2)


def test_scores_print_as_one_line(model: Model) -> None:
    scores = score(model, [Example("学校的校车", "edu"), Example("公交站台", "transport")])
    assert scores.accuracy == 1.0
    assert Scores(0.91234, 0.9, 1.23456, 10).line() == (
        "accuracy=0.9123 macro_f1=0.9000 ms_per_case=1.235"
    )
