"""Which reviewed segments learning turns into clips of a category (``scoring.review.learning_ranges``)."""

from scoring.review import ReviewedSegment, learning_ranges

REVIEW = [
    ReviewedSegment(0.0, 2.0, "in", "soccer"),
    ReviewedSegment(2.0, 5.0, "out", "advert"),
    ReviewedSegment(5.0, 7.0, "in", "tennis"),  # another category's footage: not a soccer reference
    ReviewedSegment(7.0, 9.0, "in", ""),
]


def test_in_ranges_of_the_category_become_references_and_out_ranges_negatives():
    chosen = [(s.start_s, s.end_s, negative) for s, negative in learning_ranges(REVIEW, "soccer")]
    assert chosen == [(0.0, 2.0, False), (2.0, 5.0, True), (7.0, 9.0, False)]


def test_without_negatives_out_ranges_are_left_out():
    chosen = [(s.start_s, negative) for s, negative in learning_ranges(REVIEW, "tennis", negatives=False)]
    assert chosen == [(5.0, False), (7.0, False)]
