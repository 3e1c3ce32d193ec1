"""pm_platform.envelope.new_id: a UUID version 7 (RFC 9562), so ids made together sort together."""

from __future__ import annotations

import itertools
import time
import uuid

from pm_platform.envelope import new_id


def test_an_id_is_a_version_7_uuid_of_the_rfc_variant_carrying_the_time_it_was_made() -> None:
    before = time.time_ns() // 1_000_000
    made = new_id()
    after = time.time_ns() // 1_000_000
    parsed = uuid.UUID(made)
    assert str(parsed) == made  # canonical: lower-case, hyphenated
    assert parsed.version == 7
    assert parsed.variant == uuid.RFC_4122
    assert before <= parsed.int >> 80 <= after  # the first 48 bits: Unix time in milliseconds


def test_ids_made_in_later_milliseconds_sort_later_and_none_repeat() -> None:
    batches = []
    for _ in range(3):
        batches.append([new_id() for _ in range(1000)])
        time.sleep(0.002)
    for earlier, later in itertools.pairwise(batches):
        assert max(earlier) < min(later)
    every = [made for batch in batches for made in batch]
    assert len(set(every)) == len(every)
    # 74 random bits: the bits after the time differ between ids of one millisecond.
    assert len({uuid.UUID(made).int & (1 << 74) - 1 for made in every}) == len(every)
