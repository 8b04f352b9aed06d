"""How alike two descriptions and two places are, on the kind of Chinese citizens write."""

from __future__ import annotations

import math

import pytest

from services.intake.duplicates import NEAR_METRES, SIMILAR_TEXT
from services.intake.similarity import (
    EARTH_RADIUS_M,
    Place,
    bigrams,
    bounding_box,
    cells_within,
    distance_m,
    grid_cell,
    normalise_text,
    same_place,
    text_similarity,
)

# One citizen describing one problem twice, in other words.
SAME_MATTER = [
    ("小区路灯坏了一个星期，晚上很黑", "我们小区的路灯已经坏了一周了，晚上出门很黑，请尽快修理"),
    (
        "学校门口的校车每天超载，孩子们很危险",
        "校车超载严重，每天早上学校门口孩子们挤在车里，太危险了",
    ),
    ("楼下饭店油烟太大，熏得窗户都不敢开", "楼下那家饭店的油烟很大，我家窗户都不敢开"),
    ("村里的垃圾好几天没人清运，臭气熏天", "村口的垃圾堆了好几天没人来运走，味道很臭"),
    (
        "举报某工地夜间违规施工，噪音扰民到凌晨两点",
        "工地晚上施工噪音太大，一直到凌晨两点，影响休息",
    ),
    (
        "我们楼下的排水沟堵了半个月，一下雨就漫进一楼",
        "排水沟堵塞半个月了，下雨水就漫进一楼住户家里",
    ),
]
# The same person (or the same boilerplate) on a different problem.
DIFFERENT_MATTERS = [
    ("楼下饭店油烟太大，熏得窗户都不敢开", "小区路灯坏了一个星期，晚上很黑"),
    ("村里的垃圾好几天没人清运，臭气熏天", "我家孩子转学手续办了两个月还没办好"),
    ("举报某工地夜间违规施工，噪音扰民到凌晨两点", "反映一下我们村的自来水发黄，不能喝"),
    ("我们楼下的排水沟堵了半个月，一下雨就漫进一楼", "我们楼下的路灯坏了半个月，晚上看不见路"),
    ("希望政府能够尽快解决我们小区停车难的问题", "希望政府能够尽快解决我们村饮水难的问题"),
]


@pytest.mark.parametrize(("first", "second"), SAME_MATTER)
def test_one_problem_told_twice_in_other_words_counts_as_similar(first: str, second: str) -> None:
    assert text_similarity(first, second) >= SIMILAR_TEXT


@pytest.mark.parametrize(("first", "second"), DIFFERENT_MATTERS)
def test_different_problems_in_the_same_words_do_not(first: str, second: str) -> None:
    assert text_similarity(first, second) < SIMILAR_TEXT


def test_the_threshold_leaves_a_margin_on_both_sides() -> None:
    lowest_same = min(text_similarity(a, b) for a, b in SAME_MATTER)
    highest_different = max(text_similarity(a, b) for a, b in DIFFERENT_MATTERS)
    assert highest_different + 0.1 <= SIMILAR_TEXT <= lowest_same - 0.05


def test_similarity_is_symmetric_one_for_the_same_text_and_zero_for_nothing() -> None:
    a, b = SAME_MATTER[0]
    assert text_similarity(a, b) == pytest.approx(text_similarity(b, a))
    assert text_similarity(a, a) == pytest.approx(1.0)
    assert text_similarity(a, "") == 0.0
    assert text_similarity("，。！", a) == 0.0


def test_punctuation_spacing_width_and_case_do_not_matter() -> None:
    assert normalise_text("路灯 坏了！ＡＢＣ１２３，") == "路灯坏了abc123"
    assert text_similarity("路灯坏了，ＷＩＦＩ不通", "路灯 坏了 wifi 不通") == pytest.approx(1.0)


def test_boilerplate_and_particles_make_no_pairs_of_their_own() -> None:
    assert bigrams("希望政府尽快解决停车难的问题") == bigrams("停车难")
    assert set(bigrams("我们小区的路灯")) == {"小区", "路灯"}


def test_haversine_distance_matches_known_figures() -> None:
    # A thousandth of a degree of latitude is about 111 m anywhere.
    assert distance_m(29.3, 121.4, 29.301, 121.4) == pytest.approx(111.2, abs=0.5)
    # Beijing Tiananmen to Shanghai People's Square: about 1,067 km.
    assert distance_m(39.9087, 116.3975, 31.2304, 121.4737) == pytest.approx(1_067_000, rel=0.01)
    assert distance_m(29.3, 121.4, 29.3, 121.4) == 0.0


def test_map_points_within_the_radius_are_the_same_place() -> None:
    here = Place(lat=29.3000, lon=121.4000)
    assert same_place(here, Place(lat=29.3015, lon=121.4000), NEAR_METRES)  # ~167 m
    assert not same_place(here, Place(lat=29.3020, lon=121.4000), NEAR_METRES)  # ~222 m
    assert not same_place(here, Place(address="越溪乡王家村"), NEAR_METRES)


def test_the_same_address_once_normalised_is_the_same_place() -> None:
    assert same_place(
        Place(address="越溪乡 王家村 12号"), Place(address="越溪乡王家村１２号"), NEAR_METRES
    )
    assert not same_place(
        Place(address="越溪乡王家村12号"), Place(address="越溪乡王家村14号"), NEAR_METRES
    )
    assert not same_place(Place(address="，"), Place(address="。"), NEAR_METRES)
    assert not same_place(Place(), Place(), NEAR_METRES)


@pytest.mark.parametrize("lat", [0.0, 29.3, 45.7, 53.5])
def test_the_bounding_box_holds_every_point_within_the_radius(lat: float) -> None:
    south, north, west, east = bounding_box(lat, 120.0, NEAR_METRES)
    # The circle's extreme points lie inside the box, and points a little beyond it outside.
    for bearing in range(0, 360, 15):
        dlat = math.degrees(NEAR_METRES * math.cos(math.radians(bearing)) / EARTH_RADIUS_M)
        dlon = math.degrees(
            NEAR_METRES * math.sin(math.radians(bearing)) / EARTH_RADIUS_M
        ) / math.cos(math.radians(lat))
        assert south <= lat + dlat * 0.999 <= north
        assert west <= 120.0 + dlon * 0.999 <= east
    assert distance_m(lat, 120.0, north + 0.0001, 120.0) > NEAR_METRES
    assert distance_m(lat, 120.0, lat, east + 0.0001) > NEAR_METRES


@pytest.mark.parametrize("lat", [0.0, 29.3, 45.7, 53.5])
def test_every_point_within_the_radius_lies_in_one_of_the_cells_searched(lat: float) -> None:
    lon = 121.4321
    searched = set(cells_within(lat, lon, NEAR_METRES))
    assert grid_cell(lat, lon) in searched
    for bearing in range(0, 360, 10):
        for share in (0.3, 0.7, 0.999):
            metres = NEAR_METRES * share
            dlat = math.degrees(metres * math.cos(math.radians(bearing)) / EARTH_RADIUS_M)
            dlon = math.degrees(
                metres * math.sin(math.radians(bearing)) / EARTH_RADIUS_M
            ) / math.cos(math.radians(lat))
            assert grid_cell(lat + dlat, lon + dlon) in searched
    # A handful of cells, not a town's worth.
    assert len(searched) <= 16
