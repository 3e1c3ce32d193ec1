"""notification.bill: an issued bill (billing.bill.issued.v1) sends the payer its fee notice (收费通知单), once, in
their language (on SQLite and PostgreSQL, through notification's inbox)."""

from __future__ import annotations

from notification.seed import seed
from tests.services.notification.helpers import apply, envelope, messages

ISSUED = "billing.bill.issued.v1"


async def test_the_payer_gets_the_fee_notice_of_a_bill_once(notification) -> None:
    runtime, _ = notification
    await seed(runtime)
    event = envelope(runtime, ISSUED, "evt-bill")
    assert await apply(runtime, event) == "handled"
    assert await apply(runtime, event) == "duplicate"
    # The same bill in another event (a replay from billing): the notice's dedupe key holds.
    assert await apply(runtime, envelope(runtime, ISSUED, "evt-bill-again")) == "handled"

    told = [m for m in await messages(runtime, template="bill.issued") if m.status != "suppressed"]
    assert [m.party_id for m in told] == ["harbour-A-0101-owner"]
    assert told[0].body == (
        "【收费通知单】A-0101 2026-12 期费用 280.60 元（Property management fee 2026-12: 89.50 m² x 2.8 250.60; "  # noqa: RUF001
        "Waste removal 2026-12 30.00），连同往期应缴 292.60 元，请于 2026-12-15 前缴纳。"  # noqa: RUF001
    )

    english = envelope(runtime, ISSUED, "evt-bill-en", bill_id="bill-en", unit_id="harbour-B-0301")
    assert await apply(runtime, english) == "handled"
    [to_emily] = await messages(runtime, template="bill.issued", party_id="harbour-B-0301-owner")
    assert to_emily.body.startswith("[Fee notice] B-0301, 2026-12: 280.60 yuan (")
    assert to_emily.body.endswith("292.60 yuan is due by 2026-12-15.")
