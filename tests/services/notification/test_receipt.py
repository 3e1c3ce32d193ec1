"""notification.receipt: a recorded payment (billing.payment.recorded.v1) sends the payer its receipt once, in their
language (on SQLite and PostgreSQL, through notification's inbox)."""

from __future__ import annotations

from notification.seed import seed
from tests.services.notification.helpers import apply, envelope, messages

RECORDED = "billing.payment.recorded.v1"


async def test_the_payer_gets_the_receipt_of_a_payment_once(notification) -> None:
    runtime, _ = notification
    await seed(runtime)
    assert await apply(runtime, envelope(runtime, RECORDED, "evt-paid")) == "handled"
    assert await apply(runtime, envelope(runtime, RECORDED, "evt-paid-again")) == "handled"  # the same payment
    [told] = [m for m in await messages(runtime, template="payment.recorded") if m.status != "suppressed"]
    assert told.party_id == "harbour-A-0101-owner"
    assert told.body == "【收款收据】A-0101 已收到 250.60 元（在线支付），收据号 HARBOUR-000042。谢谢！"  # noqa: RUF001

    english = envelope(runtime, RECORDED, "evt-paid-en", payment_id="pay-en", unit_id="harbour-B-0301", method="cash")
    assert await apply(runtime, english) == "handled"
    [to_emily] = await messages(runtime, template="payment.recorded", party_id="harbour-B-0301-owner")
    assert to_emily.body == "[Receipt] B-0301: 250.60 yuan received by cash, receipt HARBOUR-000042. Thank you."
