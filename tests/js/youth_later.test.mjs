// The promised answer time in words on the youth's page (static/js/youth_later.js), the same
// way the server says it (chat/domain/later.py).
import { test } from "node:test";
import assert from "node:assert/strict";
import { dueWords } from "../../static/js/youth_later.js";

const NB = { tz: "Europe/Oslo", lang: "nb", today: "innen i dag kl. {time}",
             tomorrow: "innen i morgen kl. {time}", day: "innen {day} kl. {time}",
             weekdays: ["mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag"] };
const EN = { ...NB, lang: "en", today: "by today at {time}", tomorrow: "by tomorrow at {time}",
             day: "by {day} at {time}",
             weekdays: ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"] };
const at = (iso) => Date.parse(iso) / 1000;

test("today, tomorrow, a weekday this week, and a date further off", () => {
  const now = at("2026-12-07T10:00:00+01:00"); // a Monday in Oslo
  assert.equal(dueWords(at("2026-12-07T18:00:00+01:00"), now, NB), "innen i dag kl. 18.00");
  assert.equal(dueWords(at("2026-12-08T15:00:00+01:00"), now, NB), "innen i morgen kl. 15.00");
  assert.equal(dueWords(at("2026-12-11T15:00:00+01:00"), now, NB), "innen fredag kl. 15.00");
  assert.equal(dueWords(at("2026-12-18T15:00:00+01:00"), now, NB), "innen fredag 18.12. kl. 15.00");
  assert.equal(dueWords(at("2026-12-11T15:00:00+01:00"), now, EN), "by Friday at 15:00");
});

test("days are counted in the service's time zone, not the device's or UTC", () => {
  const now = at("2026-12-07T23:30:00+01:00"); // Monday 23.30 in Oslo, already Monday 22.30 UTC
  assert.equal(dueWords(at("2026-12-08T00:30:00+01:00"), now, NB), "innen i morgen kl. 00.30");
  const summer = at("2026-06-01T10:00:00+02:00");
  assert.equal(dueWords(at("2026-06-01T16:00:00+02:00"), summer, NB), "innen i dag kl. 16.00");
});
