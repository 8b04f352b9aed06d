"""How many tracking numbers intake reserves at once."""

from services.intake.tracking import MAX_BLOCK, next_block_size


def test_a_block_used_up_within_a_second_doubles_the_next() -> None:
    assert next_block_size(1, 0.2) == 2
    assert next_block_size(16, 0.9) == 32


def test_blocks_never_grow_past_the_maximum() -> None:
    assert next_block_size(MAX_BLOCK, 0.01) == MAX_BLOCK


def test_a_block_that_sat_idle_halves_the_next_down_to_one() -> None:
    assert next_block_size(32, 60) == 16
    assert next_block_size(1, 3600) == 1


def test_a_steady_pace_keeps_the_size() -> None:
    assert next_block_size(8, 5) == 8
