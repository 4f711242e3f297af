"""The concern report end to end: a real web process, the fake ID-porten provider and the
Fiks stand-in as a child process that decrypts with the municipality's private key."""

from __future__ import annotations

import asyncio
import base64
import io

import httpx
from pypdf import PdfReader

from chat.client.protocol import youth_start
from devservices.redis_proc import RedisProcess
from tests.identity_bridge.web.conftest import redis_dump
from tests.identity_bridge.web.test_identity_web_flow import PID
from tests.system.test_privacy import aof_text

from .conftest import MARKER, REPORTER_PHONE, ConcernSite, Nurse, form, linked_thread


def pdf_text(b64: str) -> str:
    reader = PdfReader(io.BytesIO(base64.b64decode(b64)))
    return "\n".join(page.extract_text() for page in reader.pages)


async def test_report_reaches_child_welfare_decrypted_with_the_form_in_the_pdf(
    concern_site: ConcernSite, redis_proc: RedisProcess,
) -> None:
    y, s = await linked_thread(concern_site)
    nurse = await Nurse.login(concern_site.web.base)
    try:
        body = form(s.conversation)
        r = await nurse.send(body)
        assert r.status_code == 201, r.text
        report = r.json()["report"]
        assert report["ref"] == body["ref"]
        assert [x["status"] for x in report["statuses"]] == ["mottatt", "levert"]

        got = concern_site.fiks.reports()[body["ref"]]
        assert got["kommunenummer"] == "0301"
        data = got["report"]
        assert data["barn"]["fodselsnummer"] == PID
        assert data["bekymring"]["beskrivelse"] == body["description"]
        assert [k["kode"] for k in data["bekymring"]["kategorier"]] == ["neglect", "violence"]
        assert data["bekymring"]["hastegrad"]["kode"] == "urgent"
        assert data["melder"]["telefon"] == REPORTER_PHONE
        text = pdf_text(got["pdf"])
        for expected in (MARKER, PID, REPORTER_PHONE, "Omsorgssvikt", "Vold i nære relasjoner",
                         "Akutt", "Demo Helsesykepleier", "Helsepersonelloven § 33",
                         "Vi snakket om det i chatten."):
            assert expected in text, f"{expected!r} not in the PDF"

        # The same report again (a lost answer): nothing is sent twice.
        again = await nurse.send(body)
        assert again.status_code == 200, again.text
        assert list(concern_site.fiks.reports()).count(body["ref"]) == 1

        # The status history moves on at Fiks; the dashboard's overview shows it.
        await asyncio.to_thread(concern_site.fiks.advance, body["ref"], "AVSLUTTET")
        view = (await nurse.overview(s.conversation)).json()
        assert view["linked"] is True
        [shown] = [x for x in view["reports"] if x["ref"] == body["ref"]]
        assert [x["status"] for x in shown["statuses"]] == ["mottatt", "levert", "avsluttet"]

        # Audited: who sent which report.
        [audit] = [v for k, v in await redis_dump(concern_site.web.redis_url)
                   if k == "au:{demo-skole}"]
        assert f"a demo.nurse x concern c {s.conversation[:6]} d {body['ref']}" in audit

        # Nothing of the report in clear in Redis or the web log: only the id and statuses.
        # Nor in the AOF (every write Redis ever saw) or the stand-in's own log.
        dump = await redis_dump(concern_site.web.redis_url)
        aof = aof_text(redis_proc)
        assert s.conversation in aof  # the scan does see this conversation's writes
        logs = concern_site.web.log_text() + (
            concern_site.fiks.log_dir / "fiks-standin.log").read_text(errors="replace")
        for secret in (MARKER, REPORTER_PHONE, PID, "Vi snakket om det"):
            for key, value in dump:
                assert secret not in key and secret not in value, f"{secret!r} in Redis {key}"
            assert secret not in aof, f"{secret!r} in the AOF"
            assert secret not in logs, f"{secret!r} in a log"
        stored = dict(dump)[f"c:{{{s.conversation}}}:concern"]
        assert body["ref"] in stored and "levert" in stored
    finally:
        await nurse.aclose()
        await y.close()


async def test_anonymous_thread_is_refused_and_gets_the_guidance(
    concern_site: ConcernSite,
) -> None:
    y, s = await youth_start(concern_site.web.base, "demo-skole")
    nurse = await Nurse.login(concern_site.web.base)
    try:
        body = form(s.conversation)
        r = await nurse.send(body)
        assert r.status_code == 409, r.text
        assert r.json()["error"]["code"] == "concern_not_linked"
        assert body["ref"] not in concern_site.fiks.reports()
        view = (await nurse.overview(s.conversation)).json()
        assert view["linked"] is False and view["reports"] == []
        g = view["guidance"]
        assert g["phone"] == "23 45 67 89" and g["alarmtelefonen"] == "116 111"
        assert g["child_welfare"] == "Barneverntjenesten i Demo kommune" and g["can_send"]
    finally:
        await nurse.aclose()
        await y.close()


async def test_bad_input_gets_a_stable_code(concern_site: ConcernSite) -> None:
    y, s = await linked_thread(concern_site)
    nurse = await Nurse.login(concern_site.web.base)
    try:
        cid = s.conversation
        before = len(concern_site.fiks.reports())
        cases = [
            (form(cid, description="  "), "description"),
            (form(cid, categories=[]), "categories"),
            (form(cid, categories=["sorcery"]), "categories"),
            (form(cid, urgency="whenever"), "urgency"),
            (form(cid, youth_informed="yes"), "youth_informed"),
            (form(cid, ref="not-a-uuid"), "ref"),
            (form(cid, reporter={"name": "A", "role": "B"}), "reporter.phone"),
            (form(cid, reporter={"name": "A", "role": "B", "phone": "12345", "email": "x"}),
             "reporter.email"),
            ({k: v for k, v in form(cid).items() if k != "reporter"}, "reporter"),
        ]
        for body, field in cases:
            r = await nurse.send(body)
            assert r.status_code == 400, (field, r.text)
            err = r.json()["error"]
            assert err["code"] == "concern_invalid" and repr(field) in err["message"], err
        r = await nurse.http.post("/api/nurse/concern", content=b"{not json",
                                  headers={"x-csrf-token": nurse.csrf})
        assert r.status_code == 400 and r.json()["error"]["code"] == "bad_json"
        r = await nurse.send(form(cid), csrf="wrong")
        assert r.status_code == 403 and r.json()["error"]["code"] == "csrf"
        async with httpx.AsyncClient(base_url=concern_site.web.base) as nobody:
            r = await nobody.post("/api/nurse/concern", json=form(cid))
        assert r.status_code == 401 and r.json()["error"]["code"] == "not_authenticated"
        other = await Nurse.login(concern_site.web.base, "other.nurse")
        try:
            r = await other.send(form(cid))
            assert r.status_code == 403 and r.json()["error"]["code"] == "not_authorized"
            assert (await other.overview(cid)).json()["error"]["code"] == "not_authorized"
        finally:
            await other.aclose()
        assert len(concern_site.fiks.reports()) == before, "a refused form reached Fiks"
    finally:
        await nurse.aclose()
        await y.close()


async def test_fiks_down_gives_a_clear_message_and_the_retry_goes_through(
    concern_site: ConcernSite,
) -> None:
    y, s = await linked_thread(concern_site)
    nurse = await Nurse.login(concern_site.web.base)
    fiks = concern_site.fiks
    body = form(s.conversation)
    try:
        await asyncio.to_thread(fiks.stop)
        try:
            r = await nurse.send(body)
            assert r.status_code == 503, r.text
            assert r.json()["error"]["code"] == "concern_unavailable"
            assert "try again" in r.json()["error"]["message"]
            view = (await nurse.overview(s.conversation)).json()
            assert view["reports"] == []  # nothing recorded as sent
        finally:
            await asyncio.to_thread(fiks.start)
        r = await nurse.send(body)
        assert r.status_code == 201, r.text
        assert body["ref"] in fiks.reports()
    finally:
        await nurse.aclose()
        await y.close()
