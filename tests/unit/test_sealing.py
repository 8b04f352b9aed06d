"""Sealed values open only with the same secret and purpose, and never read in the clear."""

import pytest

from services.kernel.sealing import Sealer, Unsealable, keyed_digest

SECRET = "s" * 48


def test_a_sealed_value_opens_again_and_hides_its_content() -> None:
    sealer = Sealer(SECRET, "receipt")
    sealed = sealer.seal("查询码 ABC234")
    assert "ABC234" not in sealed
    assert sealer.open(sealed) == "查询码 ABC234"


def test_another_purpose_or_secret_cannot_open_it() -> None:
    sealed = Sealer(SECRET, "receipt").seal("ABC234")
    with pytest.raises(Unsealable):
        Sealer(SECRET, "tip-off").open(sealed)
    with pytest.raises(Unsealable):
        Sealer("t" * 48, "receipt").open(sealed)


def test_a_tampered_value_is_refused() -> None:
    sealed = Sealer(SECRET, "receipt").seal("ABC234")
    tampered = sealed[:-5] + ("A" if sealed[-5] != "A" else "B") + sealed[-4:]
    with pytest.raises(Unsealable):
        Sealer(SECRET, "receipt").open(tampered)


def test_a_keyed_digest_matches_only_under_the_same_secret_and_purpose() -> None:
    digest = keyed_digest(SECRET, "contact-fingerprint", "13812345678")
    assert digest == keyed_digest(SECRET, "contact-fingerprint", "13812345678")
    assert "13812345678" not in digest
    assert len(digest) == 64
    assert digest != keyed_digest(SECRET, "message-recipient", "13812345678")
    assert digest != keyed_digest("t" * 48, "contact-fingerprint", "13812345678")
