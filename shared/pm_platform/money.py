"""Money is integer minor units (fen) everywhere; this is how an amount reads as yuan, as a figure with thousands
separators and its currency's sign, and in Chinese capital numerals (大写金额) as a receipt or bill carries it, by
the usual rules of the payment-settlement measures (支付结算办法): one 零 for a run of zeros, 整 when there are no
fen. Pure functions: never through a float."""

from __future__ import annotations

DIGITS = "零壹贰叁肆伍陆柒捌玖"
PLACES = ("仟", "佰", "拾", "")  # within a group of four digits, highest first
GROUPS = ("", "万", "亿", "万亿")  # each group of four digits, lowest first
CURRENCY_SIGNS = {"CNY": "¥"}


def yuan(cents: int) -> str:
    """25060 -> "250.60", -1250 -> "-12.50": exact, never through a float."""
    sign = "-" if cents < 0 else ""
    whole, fen = divmod(abs(cents), 100)
    return f"{sign}{whole}.{fen:02d}"


def money(cents: int, currency: str = "CNY") -> str:
    """12345678 -> '¥123,456.78' (the currency's code when it has no sign here)."""
    sign = "-" if cents < 0 else ""
    whole, fen = divmod(abs(cents), 100)
    symbol = CURRENCY_SIGNS.get(currency)
    figures = f"{whole:,}.{fen:02d}"
    return f"{sign}{symbol}{figures}" if symbol else f"{sign}{figures} {currency}"


def _group_capitals(group: int) -> str:
    """1..9999 in capitals with their places: 1010 -> 壹仟零壹拾 (a zero between digits once, none at the end)."""
    text = ""
    pending_zero = False
    for place, digit in zip(PLACES, f"{group:04d}", strict=True):
        if digit == "0":
            pending_zero = bool(text)
            continue
        if pending_zero:
            text += "零"
            pending_zero = False
        text += DIGITS[int(digit)] + place
    return text


def _yuan_capitals(yuan: int) -> str:
    """Whole yuan in capitals: groups of four digits with 万/亿; a zero where a group or its head is empty."""
    if yuan == 0:
        return "零"
    groups: list[int] = []
    while yuan:
        yuan, group = divmod(yuan, 10_000)
        groups.append(group)
    if len(groups) > len(GROUPS):
        raise ValueError("amount too large for capital numerals")
    text = ""
    zero_before = False
    for index in reversed(range(len(groups))):
        group = groups[index]
        if group == 0:
            zero_before = bool(text)
            continue
        if text and (zero_before or group < 1000):
            text += "零"
        text += _group_capitals(group) + GROUPS[index]
        zero_before = False
    return text


def capital_amount(cents: int) -> str:
    """An amount in fen as a receipt writes it in capitals: 123456 -> 壹仟贰佰叁拾肆元伍角陆分,
    1000 -> 壹拾元整, 105 -> 壹元零伍分, 50 -> 伍角整, 0 -> 零元整."""
    if cents < 0:
        raise ValueError("a receipt's amount is never negative")
    yuan, fen_part = divmod(cents, 100)
    jiao, fen = divmod(fen_part, 10)
    text = _yuan_capitals(yuan) + "元" if yuan or not fen_part else ""
    if jiao:
        text += DIGITS[jiao] + "角"
    if fen:
        if yuan and not jiao:
            text += "零"  # 壹元零伍分: the empty jiao is read as a zero
        text += DIGITS[fen] + "分"
    else:
        text += "整"
    return text
