"""Texting a one-time sign-in code: sent at once on the SMS channel (the person is waiting for it), and logged
like every message, but with the code blanked out: the messages log is readable by staff, and a code there
would let them sign in as the owner.

Quiet hours, opt-outs and the throttle do not apply: the owner asked for the code a moment ago. The console
limits how often it asks.
"""

from __future__ import annotations

import uuid
from weakref import WeakKeyDictionary

from notification.config import config_of
from notification.message.channels import Channels, build_channels
from notification.message.models import Message, Status, message_id
from notification.message.service import announce
from notification.onetime.models import OneTimeCodeSend
from notification.preference.models import Category, Channel
from pm_platform.auth import Principal
from pm_platform.envelope import utcnow
from pm_platform.errors import DomainError
from pm_platform.parts import ServiceParts
from pm_platform.uow import UnitOfWork

TEMPLATE = "sign_in.code"
MASK = "******"
# The text by language; {code} is the code. Chinese first: the group's default language.
TEXTS = {
    "zh-CN": "【物业服务】您的登录验证码是 {code}，5分钟内有效。请勿告诉他人。",  # noqa: RUF001
    "en": "Property service: your sign-in code is {code}. It is valid for 5 minutes. Do not share it.",
}


class NotSent(DomainError):
    """The SMS channel did not take the message; the caller may ask again."""

    status = 502


_CHANNELS: WeakKeyDictionary[ServiceParts, Channels] = WeakKeyDictionary()


def use_channels(runtime: ServiceParts, channels: Channels) -> None:
    """The senders the codes go out through: the sender job's own (build_runtime attaches them)."""
    _CHANNELS[runtime] = channels


def channels_of(runtime: ServiceParts) -> Channels:
    """The runtime's senders; a runtime built without them (a test's) gets the configured ones."""
    found = _CHANNELS.get(runtime)
    if found is None:
        found = build_channels(config_of(runtime), runtime.settings.var_dir)
        use_channels(runtime, found)
    return found


async def send_code(uow: UnitOfWork, channels: Channels, principal: Principal, command: OneTimeCodeSend) -> Message:
    principal.check_site(command.site)
    now = utcnow()
    event_id = str(uuid.uuid4())  # no event caused it: the id stands for the console's request
    text = TEXTS[command.language]
    message = Message(
        id=message_id(event_id, TEMPLATE, command.phone, Channel.sms),
        site=command.site,
        audience="owner",
        party_id=command.party_id,
        category=Category.service.value,
        channel=Channel.sms.value,
        recipient=command.phone,
        template=TEMPLATE,
        language=command.language,
        body=text.format(code=command.code),
        status=Status.queued.value,
        source_event_id=event_id,
        correlation_id=event_id,
        attempts=1,
        created_at=now,
        next_attempt_at=now,
    )
    try:
        status = await channels.for_channel(Channel.sms).send(message)
    except Exception as exc:
        raise NotSent(f"the SMS channel did not take the code: {type(exc).__name__}", field="phone") from None
    message.body = text.format(code=MASK)  # logged without the code
    message.status, message.sent_at, message.finished_at = status.value, now, now
    if status == Status.delivered:
        message.delivered_at = now
    uow.session.add(message)
    announce(uow, message, now)
    await uow.commit()
    return message
