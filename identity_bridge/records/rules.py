"""Who may see and decide what, by age, for the vaccine page (docs/records.md, "Vaksiner",
gives the sources). The age is the youth's on the day, from the fødselsnummer's birth date.

- under 12: no page. The youth logs in with their own ID-porten only from the age the
  service is for; a parent's access to a child's records is not offered here.
- 12 to 15: the youth sees their own vaccinations. A vaccine of the programme not yet given
  needs a parent's consent (pasient- og brukerrettighetsloven § 4-4); the page says so.
- 16 and over: the youth consents on their own (§ 4-3 first paragraph b); the page says so.
- unknown (a number that does not tell the birth date): treated as 12 to 15, the stricter.
"""

from __future__ import annotations

import enum


class AgeBand(enum.Enum):
    UNDER_12 = "under_12"
    YOUNG = "12_15"
    OWN_CONSENT = "16_plus"


def band(age: int | None) -> AgeBand:
    if age is None:
        return AgeBand.YOUNG
    if age < 12:
        return AgeBand.UNDER_12
    return AgeBand.YOUNG if age < 16 else AgeBand.OWN_CONSENT
