"""notification.refund: an approved refund (billing.refund.recorded.v1) tells the unit's payer how much comes back,
how and why, once, in their language (on SQLite and PostgreSQL, through notification's inbox)."""

from __future__ import annotations

from notification.seed import seed
from tests.services.notification.helpers import apply, envelope, messages

RECORDED = "billing.refund.recorded.v1"


async def test_the_payer_hears_of_an_approved_refund_once(notification) -> None:
    runtime, _ = notification
    await seed(runtime)
    event = envelope(runtime, RECORDED, "evt-refund")
    assert await apply(runtime, event) == "handled"
    assert await apply(runtime, event) == "duplicate"
    # The same refund in another event (a replay from billing): the notice's dedupe key holds.
    assert await apply(runtime, envelope(runtime, RECORDED, "evt-refund-again")) == "handled"

    told = await messages(runtime, template="refund.recorded")
    assert [(m.party_id, m.status) for m in told if m.status != "suppressed"] == [("harbour-A-0101-owner", "queued")]
    [message] = [m for m in told if m.status != "suppressed"]
    assert message.body == (
        "您的退款已批准：收据 HARBOUR-000042（A-0101）退还 250.60 元，"  # noqa: RUF001
        "退款方式：银行转账。原因：Paid November's fee twice (bank transfer and cash)"  # noqa: RUF001
    )

    english = envelope(runtime, RECORDED, "evt-refund-en", refund_id="rf-en", unit_id="harbour-B-0301", method="cash")
    assert await apply(runtime, english) == "handled"
    [to_emily] = await messages(runtime, template="refund.recorded", party_id="harbour-B-0301-owner")
    assert to_emily.body.startswith("Your refund is approved: 250.60 yuan of receipt HARBOUR-000042 (B-0301) comes")
    assert "by cash." in to_emily.body
