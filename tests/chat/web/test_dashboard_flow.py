"""The nurse dashboard's server side over real sockets (one web process for the module), and
the inactivity sweep in-process against real Redis with a FakeClock (no sleeping)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis

from chat import crypto
from chat.actions.conversations import Actions
from chat.client.e2e import NurseCrypto, TeamView, fetch_nurse_keys, fetch_team
from chat.client.protocol import ProtocolClient, youth_start
from chat.clock import FakeClock
from chat.config import load_config
from chat.domain.staff import Nurse
from chat.jobs.autoclose import sweep
from chat.store import names as keys
from chat.store.conversations import Store
from devservices.redis_proc import RedisProcess
from devservices.webproc import WebProcess
from tests.chat.web.dashboard_fixtures import (
    ESCALATION,
    claimed,
    csrf_of,
    nurse_ws,
    write_dash_config,
)
from tests.conftest import DEMO_PASSWORD, start_clean_web
from tests.waiting import until


@pytest.fixture(scope="module")
def dash_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("dash")
    write_dash_config(d)
    return d


@pytest.fixture(scope="module")
async def dweb(redis_proc: RedisProcess, dash_dir: Path) -> AsyncIterator[WebProcess]:
    proc = await start_clean_web(redis_proc.url, dash_dir)
    yield proc
    await asyncio.to_thread(proc.stop)


async def test_roles_hold_on_the_server(dweb: WebProcess) -> None:
    n, cookie = await nurse_ws(dweb.base, "demo.nurse")
    async with httpx.AsyncClient(base_url=dweb.base, cookies={"hp_session": cookie},
                                 follow_redirects=False) as http:
        for path in ("/api/lead/overview?service=dash-skole", "/api/lead/audit?service=dash-skole",
                     "/lead", "/lead/audit", "/lead/canned", "/lead/overview.csv",
                     "/api/nurse/queue/dash-hfu"):
            assert (await http.get(path)).status_code == 403, path
        ok = await http.get("/api/nurse/queue/dash-skole")
        assert ok.status_code == 200 and ok.json()["service"] == "dash-skole"
        post = await http.post("/lead/canned", data={
            "csrf": await csrf_of(dweb.base, cookie), "service": "dash-skole", "action": "add",
            "text": "hei"})
        assert post.status_code == 403
    async with httpx.AsyncClient(base_url=dweb.base) as anon:
        assert (await anon.get("/api/lead/overview?service=dash-skole")).status_code == 401
    for frame in ({"type": "queue", "service": "dash-hfu"},
                  {"type": "overview", "service": "dash-skole"},
                  {"type": "audit", "service": "dash-skole"}):
        await n.send(frame)
        assert (await n.expect("error"))["code"] == "not_authorized", frame
    await n.send({"type": "queue", "service": "dash-skole"})
    await n.expect("board", where=lambda f: f["service"] == "dash-skole")
    # A conversation of a service she does not staff: no open, claim or flag.
    y, s = await youth_start(dweb.base, "dash-hfu")
    for frame in ({"type": "open", "conversation": s.conversation},
                  {"type": "claim", "conversation": s.conversation},
                  {"type": "flag", "conversation": s.conversation, "kind": "acute"}):
        await n.send(frame)
        assert (await n.expect("error"))["code"] == "not_authorized", frame
    # The lead sees her own services' overview and audit log, not other services'.
    lead, lead_cookie = await nurse_ws(dweb.base, "demo.lead")
    await lead.send({"type": "overview", "service": "dash-skole"})
    ov = await lead.expect("overview")
    assert ov["figures"]["service"] == "dash-skole"
    await lead.send({"type": "audit", "service": "dash-hfu"})
    assert (await lead.expect("error"))["code"] == "not_authorized"
    async with httpx.AsyncClient(base_url=dweb.base, cookies={"hp_session": lead_cookie}) as http:
        assert (await http.get("/api/lead/overview?service=dash-skole")).status_code == 200
        assert (await http.get("/api/lead/overview?service=dash-hfu")).status_code == 403
        assert (await http.get("/lead")).status_code == 200
    for c in (n, y, lead):
        await c.close()


async def test_transfer_to_another_service_reseals_and_keeps_the_note_from_the_youth(
    dweb: WebProcess, r: aioredis.Redis,
) -> None:
    y, s = await youth_start(dweb.base, "dash-skole")
    assert s.keys is not None
    n, cookie = await nurse_ws(dweb.base, "demo.nurse")
    mine = NurseCrypto.from_keys_json(await fetch_nurse_keys(dweb.base, cookie), DEMO_PASSWORD)
    state = await claimed(n, s.conversation)
    mine.open_conversation("dash-skole", s.conversation, state["key_bundle"])
    await y.send({"type": "send", "cmid": "dashyouth01", "body": s.keys.seal("hjelp meg")})
    await y.expect("ack")
    await n.expect("deliver")
    await n.send({"type": "send", "conversation": s.conversation, "cmid": "dashnurse01",
                  "body": mine.seal(s.conversation, "jeg er her")})
    await n.expect("ack")

    # Without a new bundle the receiving team could not read: refused.
    await n.send({"type": "transfer", "conversation": s.conversation, "to_service": "dash-hfu"})
    assert (await n.expect("error"))["code"] == "key_bundle_required"

    # The sender re-seals CK to the receiving team's verified statement, as the browser does.
    target = await fetch_team(dweb.base, "dash-hfu")
    bundle = crypto.decode_key_bundle(crypto.b64decode(state["key_bundle"]))
    opened = crypto.open_key_bundle_with(bundle, mine.team_keys["dash-skole"])
    new = crypto.make_key_bundle(opened.ck, opened.youth_sign_public_key, target.statement)
    note_text = "intern: ungdommen nevnte selvskading"
    await n.send({"type": "transfer", "conversation": s.conversation, "to_service": "dash-hfu",
                  "key_bundle": crypto.b64encode(crypto.encode_key_bundle(new)),
                  "epoch": target.statement.epoch,
                  "note": mine.seal(s.conversation, note_text)})
    done = await n.expect("transferred")
    assert (done["service"], done["state"]) == ("dash-hfu", "waiting")
    moved = await y.expect("state", where=lambda f: f.get("transferred") is True)
    assert (moved["state"], moved["service"]) == ("waiting", "dash-hfu")
    # The youth now sees its place in the receiving service's queue.
    place = await y.expect("queue")
    assert 1 <= place["position"] <= place["waiting"]

    # The receiving nurse (another team) claims from her queue and reads the whole history.
    other, other_cookie = await nurse_ws(dweb.base, "other.nurse")
    theirs = NurseCrypto.from_keys_json(await fetch_nurse_keys(dweb.base, other_cookie),
                                        DEMO_PASSWORD)
    await other.expect("queue_snapshot", where=lambda f: f["service"] == "dash-hfu"
                       and any(i["conversation"] == s.conversation for i in f["items"]))
    st = await claimed(other, s.conversation)
    assert st["service"] == "dash-hfu" and st["epoch"] == target.statement.epoch
    assert st["history"] == [{"service": "dash-skole", "epoch": opened.epoch}]
    theirs.open_conversation("dash-hfu", s.conversation, st["key_bundle"])
    session = theirs.sessions[s.conversation]
    for h in st["history"]:
        earlier: TeamView = await fetch_team(dweb.base, h["service"])
        session = crypto.with_senders(crypto.with_epoch(session, h["epoch"]),
                                      earlier.member_sign_keys())
    theirs.sessions[s.conversation] = session
    texts = []
    for _ in range(2):
        texts.append(theirs.open(s.conversation, (await other.expect("deliver"))["body"]))
    assert texts == ["hjelp meg", "jeg er her"]
    note = await other.expect("note")
    assert theirs.open(s.conversation, note["body"]) == note_text
    assert note["sender"] == "Demo Helsesykepleier"
    await other.expect("history_end")

    # The youth never got the note, and Redis holds it only sealed, apart from the log.
    await asyncio.sleep(0.3)
    assert not [f for f in y.seen if f["type"] == "note" or note["body"] in str(f)]
    log = await r.xrange(keys.log(s.conversation))
    assert all(e[1]["b"] != note["body"] for e in log)
    stored = await r.xrange(keys.notes(s.conversation))
    assert len(stored) == 1 and note_text not in str(stored)
    # And the youth's resumed feed does not replay it either.
    y2 = await ProtocolClient.open(dweb.base.replace("http", "ws") + "/ws/youth")
    await y2.send({"type": "resume", "conversation": s.conversation, "token": s.token, "after": 0})
    await y2.expect("state")
    for _ in range(2):
        await y2.expect("deliver")
    await asyncio.sleep(0.3)
    assert not [f for f in y2.seen if f["type"] == "note" or note["body"] in str(f)]

    audit = await r.xrange(keys.audit("dash-skole"))
    transfers = [e[1] for e in audit if e[1]["x"] == "transfer"]
    assert transfers and "re-sealed" in transfers[0]["d"] and transfers[0]["a"] == "demo.nurse"
    assert any(e[1]["x"] == "transfer" for e in await r.xrange(keys.audit("dash-hfu")))
    for c in (y, y2, n, other):
        await c.close()


async def test_transfer_to_a_named_colleague_opens_on_her_dashboard(dweb: WebProcess) -> None:
    y, s = await youth_start(dweb.base, "dash-skole")
    n, _ = await nurse_ws(dweb.base, "demo.nurse")
    lead, _ = await nurse_ws(dweb.base, "demo.lead")
    await claimed(n, s.conversation)
    await n.send({"type": "transfer", "conversation": s.conversation, "to_nurse": "other.nurse"})
    assert (await n.expect("error"))["code"] == "bad_transfer"  # not on this service
    await n.send({"type": "transfer", "conversation": s.conversation, "to_nurse": "demo.lead"})
    assert (await n.expect("transferred"))["state"] == "active"
    got = await lead.expect("assigned")
    assert got["conversation"] == s.conversation
    st = await lead.expect("state", where=lambda f: f["conversation"] == s.conversation)
    assert st["nurse"] == "demo.lead" and st["state"] == "active"
    seen = await y.expect("state", where=lambda f: f.get("transferred") is True)
    assert seen["nurse"] == "Demo Leder"
    # The sender can no longer write; the colleague can.
    await n.send({"type": "send", "conversation": s.conversation, "cmid": "afterxfer01",
                  "body": "aGVp"})
    assert (await n.expect("error"))["code"] == "not_authorized"
    await lead.send({"type": "send", "conversation": s.conversation, "cmid": "afterxfer02",
                     "body": "aGVp"})
    assert (await lead.expect("ack"))["seq"] == 1
    for c in (y, n, lead):
        await c.close()


async def test_acute_flag_reaches_the_team_live_with_escalation_and_audit(
    dweb: WebProcess, r: aioredis.Redis,
) -> None:
    y, s = await youth_start(dweb.base, "dash-skole")
    n, _ = await nurse_ws(dweb.base, "demo.nurse")
    lead, _ = await nurse_ws(dweb.base, "demo.lead")
    await claimed(n, s.conversation)
    await n.send({"type": "flag", "conversation": s.conversation, "kind": "acute"})
    flagged = await n.expect("flagged")
    assert flagged["flag"] == "acute" and flagged["escalation"] == ESCALATION
    board = await lead.expect("board", where=lambda f: any(
        x["conversation"] == s.conversation for x in f["flags"]))
    pinned = next(x for x in board["flags"] if x["conversation"] == s.conversation)
    assert pinned == {"conversation": s.conversation, "kind": "acute", "state": "active",
                      "nurse": "Demo Helsesykepleier"}
    assert "Demo Helsesykepleier" in board["on_duty"] and "Demo Leder" in board["on_duty"]
    entries = [e[1] for e in await r.xrange(keys.audit("dash-skole"))
               if e[1]["c"] == s.conversation[:6] and e[1]["x"] == "flag"]
    assert entries == [entries[0]] and entries[0]["d"] == "acute"
    # The youth never hears about flags.
    await asyncio.sleep(0.2)
    assert not [f for f in y.seen if "acute" in str(f)]
    # Closing clears the pin for everyone.
    await n.send({"type": "close", "conversation": s.conversation, "outcome": "referred"})
    await lead.expect("board", where=lambda f: f["service"] == "dash-skole" and not any(
        x["conversation"] == s.conversation for x in f["flags"]))
    await n.send({"type": "flag", "conversation": s.conversation, "kind": "bogus"})
    assert (await n.expect("error"))["code"] == "schema_violation"
    for c in (y, n, lead):
        await c.close()


async def test_release_puts_it_back_and_presence_follows_the_socket(
    dweb: WebProcess, r: aioredis.Redis,
) -> None:
    y, s = await youth_start(dweb.base, "dash-skole")
    n, _ = await nurse_ws(dweb.base, "demo.nurse")
    lead, _ = await nurse_ws(dweb.base, "demo.lead")
    await claimed(n, s.conversation)
    await n.send({"type": "release", "conversation": s.conversation})
    await lead.expect("queue_snapshot", where=lambda f: f["service"] == "dash-skole" and any(
        i["conversation"] == s.conversation for i in f["items"]))
    assert (await y.expect("state", where=lambda f: f["state"] == "waiting"))

    async def audited() -> list[str]:
        return [e[1]["x"] for e in await r.xrange(keys.audit("dash-skole"))
                if e[1]["c"] == s.conversation[:6]]

    # The audit line is written once the release holds, so after the frames above went out.
    async def released() -> bool:
        return "release" in await audited()

    await until(released, "the release is audited")
    assert await audited() == ["claim", "release"]
    await n.close()
    await lead.expect("board", where=lambda f: f["service"] == "dash-skole"
                      and "Demo Helsesykepleier" not in f["on_duty"])
    for c in (y, lead):
        await c.close()


async def test_canned_replies_kept_by_leads(dweb: WebProcess) -> None:
    from chat.client.protocol import nurse_login

    lead_cookie = await nurse_login(dweb.base, "demo.lead", DEMO_PASSWORD)
    nurse_cookie = await nurse_login(dweb.base, "demo.nurse", DEMO_PASSWORD)
    csrf = await csrf_of(dweb.base, lead_cookie)
    async with httpx.AsyncClient(base_url=dweb.base, cookies={"hp_session": lead_cookie},
                                 follow_redirects=False) as http:
        assert (await http.post("/lead/canned", data={
            "csrf": "wrong", "service": "dash-skole", "action": "add", "text": "x"})).status_code == 403
        r1 = await http.post("/lead/canned", data={
            "csrf": csrf, "service": "dash-skole", "action": "add",
            "text": "Takk for at du tok kontakt!"})
        assert r1.status_code == 303
        assert (await http.post("/lead/canned", data={
            "csrf": csrf, "service": "dash-hfu", "action": "add", "text": "nei"})).status_code == 403
    async with httpx.AsyncClient(base_url=dweb.base, cookies={"hp_session": nurse_cookie}) as http:
        listed = (await http.get("/api/nurse/canned")).json()
    assert [x["text"] for x in listed["dash-skole"]] == ["Takk for at du tok kontakt!"]
    assert "dash-hfu" not in listed
    async with httpx.AsyncClient(base_url=dweb.base, cookies={"hp_session": lead_cookie},
                                 follow_redirects=False) as http:
        await http.post("/lead/canned", data={"csrf": csrf, "service": "dash-skole",
                                              "action": "remove",
                                              "id": listed["dash-skole"][0]["id"]})
        assert (await http.get("/api/nurse/canned")).json()["dash-skole"] == []
        audit = (await http.get("/api/lead/audit?service=dash-skole")).json()["entries"]
    assert {"canned_add", "canned_remove"} <= {e["action"] for e in audit}


async def test_csv_export_is_audited(dweb: WebProcess) -> None:
    from chat.client.protocol import nurse_login

    cookie = await nurse_login(dweb.base, "demo.lead", DEMO_PASSWORD)
    async with httpx.AsyncClient(base_url=dweb.base, cookies={"hp_session": cookie}) as http:
        got = await http.get("/lead/overview.csv")
        assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
        lines = got.text.strip().splitlines()
        assert lines[0].startswith("service,day,") and len(lines) == 3  # dash-skole, dash-stats
        audit = (await http.get("/api/lead/audit?service=dash-stats")).json()["entries"]
    assert any(e["action"] == "export" and e["actor"] == "demo.lead" for e in audit)


# -- the inactivity sweep, in-process with a FakeClock -------------------------------------------
async def test_sweep_warns_once_then_closes_with_a_fake_clock(
    redis_url: str, tmp_path: Path,
) -> None:
    write_dash_config(tmp_path)
    config = load_config({"HELSEPRAT_DATA_DIR": str(tmp_path), "REDIS_URL": redis_url})
    clock = FakeClock()
    r1 = aioredis.from_url(redis_url, decode_responses=True)
    r2 = aioredis.from_url(redis_url, decode_responses=True)
    a1, a2 = Actions(config, Store(r1), clock), Actions(config, Store(r2), clock)
    nurse = Nurse("demo.nurse", "Demo", "nurse", frozenset({"dash-skole"}))
    started = await a1.start("dash-skole", "", 0, None, "client")
    cid = started.conversation
    await a1.claim(nurse, cid)
    pubsub = r1.pubsub()
    await pubsub.subscribe(keys.conversation_channel(cid))

    async def frames() -> list[str]:
        out: list[str] = []
        quiet = 0
        while quiet < 3:  # None also stands for a skipped subscribe confirmation
            m = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.1)
            if m is None:
                quiet += 1
            else:
                out.append(m["data"])
        return out

    clock.advance(49 * 60)
    assert await sweep(a1) == type(await sweep(a1))((), ())
    clock.advance(60)  # 50 minutes idle: the warning, exactly once across two sweeping processes
    results = await asyncio.gather(sweep(a1), sweep(a2))
    assert sum(len(x.warned) for x in results) == 1
    got = await frames()
    assert len(got) == 1 and '"code":"inactivity_warning"' in got[0]
    assert '"minutes":10' in got[0] and "Samtalen avsluttes om 10 minutter" in got[0]
    assert "The conversation will close in 10 minutes" in got[0]
    assert (await sweep(a1)).warned == ()

    # A message resets the silence; the close then needs another full hour.
    await a1.send(await a1.conversation_for(nurse, cid), "youth", "youth", "cmid000001", "aGVp")
    clock.advance(59 * 60)
    result = await sweep(a1)
    assert result.closed == ()
    clock.advance(60)
    results = await asyncio.gather(sweep(a1), sweep(a2))
    assert sum(len(x.closed) for x in results) == 1
    meta = await a1.store.meta(cid)
    assert (meta["st"], meta["outcome"]) == ("closed", "inactive")
    got = "".join(await frames())
    assert "inactivity_closed" in got and '"state":"closed"' in got
    assert not await r1.sismember(keys.nurse_open("demo.nurse"), cid)
    day = a1.dashboard.today("dash-skole")
    fig = await a1.dashboard.overview("dash-skole", day)
    assert (fig.closed, fig.auto_closed, fig.outcomes.get("inactive")) == (1, 1, 1)
    assert fig.duration_median_s == 50 * 60 + 60 * 60
    audit = await a1.dashboard.audit.read("dash-skole")
    assert [e.action for e in audit][:2] == ["auto_close", "claim"]
    assert audit[0].actor == "system"
    await pubsub.aclose()
    await r1.aclose()
    await r2.aclose()


async def test_audit_stream_is_trimmed_by_retention(redis_url: str, tmp_path: Path) -> None:
    write_dash_config(tmp_path)
    config = load_config({"HELSEPRAT_DATA_DIR": str(tmp_path), "REDIS_URL": redis_url})
    clock = FakeClock()
    client = aioredis.from_url(redis_url, decode_responses=True)
    a = Actions(config, Store(client), clock)
    await a.dashboard.audit.record("dash-skole", "demo.lead", "export", detail="old")
    clock.advance(366 * 86_400)
    await a.dashboard.audit.record("dash-skole", "demo.lead", "export", detail="new")
    assert [e.detail for e in await a.dashboard.audit.read("dash-skole")] == ["new"]
    await client.aclose()
