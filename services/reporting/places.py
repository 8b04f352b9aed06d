"""Where a case is, as leaders count it: the township and the village its address names.

Only these two levels are kept. They are what figures are filtered and clustered by, and
neither says which house a citizen lives in.
"""

from __future__ import annotations

import re

# A township-level name ends in 镇, 乡 or 街道 and follows the county (县, 区, 市) if given.
_TOWNSHIP = re.compile(r"(?:^|[省市县区旗])([^\s省市县区旗镇乡]{1,10}?(?:镇|乡|街道))")
# A village-level name ends in 村 or 社区; it may follow the township or stand alone.
_VILLAGE = re.compile(r"([^\s省市县旗镇乡道村组号]{1,10}?(?:村|社区))")


def township_and_village(address: str | None) -> tuple[str | None, str | None]:
    """The township and village an address names, each None when it names none."""
    if not address:
        return None, None
    text = "".join(address.split())
    township = _TOWNSHIP.search(text)
    rest = text[township.end() :] if township else text
    village = _VILLAGE.search(rest)
    return (township.group(1) if township else None, village.group(1) if village else None)
