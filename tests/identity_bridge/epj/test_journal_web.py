"""Send to journal, end to end: a real web process (with ``[idporten]`` on the fake
provider and ``[epj]``), the NHN lookalike and the ``epj`` worker as real child processes.

A youth links the thread with ID-porten; the (Python reference) nurse seals the note part to
the gateway key from her ``hello`` frame and sends ``journal``; the server adds the person part;
the worker delivers; the nurse sees the status live. Afterwards neither the note marker nor the
FNR may be anywhere in Redis or in the web and worker logs.
"""

from __future__ import annotations

import asyncio
import base64
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from nacl.public import PublicKey

from chat.client.e2e import NurseCrypto, fetch_nurse_keys
from chat.client.protocol import ProtocolClient, YouthSession, nurse_connect, nurse_login, youth_start
from devservices.nhn.process import NhnProcess
from devservices.redis_proc import RedisProcess, free_port, spawn_env
from devservices.webproc import WebProcess
from identity_bridge.epj.model import Nurse
from identity_bridge.epj.msghead import parse_msghead
from identity_bridge.epj.sealed import seal_note_part
from tests.conftest import DEMO_PASSWORD
from tests.identity_bridge.web.conftest import (  # noqa: F401 - fixtures
    FakeSite,
    fake_idp,
    idporten_table,
    redis_dump,
    rp_key,
    rp_key_file,
    start_site,
)
from tests.identity_bridge.web.test_identity_web_flow import (
    PID,
    Browser,
    anon_chat,
    login,
    prove_and_link,
    register_key,
)

from .conftest import MARKER, RECEIVER_HER, UNKNOWN_RECEIVER_HER, Keys, stored_messages, write_config

ROOT = Path(__file__).resolve().parents[3]

# A service whose EPJ receiver HER-id the lookalike does not know: its notes come back Avvist.
AVVIST_SERVICE = """
[[service]]
id = "journal-avvist"
municipality = "demo"
name = "Skolehelsetjenesten, ukjent EPJ"
kind = "school"
retention_days = 30
members = ["demo.nurse"]

[service.hours]
daily = "00:00-24:00"
"""


@dataclass
class JournalSite:
    web: WebProcess
    fake: FakeSite
    nhn: NhnProcess
    worker_log: Path


class WorkerProcess:
    def __init__(self, config: Path, redis_url: str, log: Path) -> None:
        self.config, self.redis_url, self.log = config, redis_url, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        out = self.log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "identity_bridge.epj.worker", "--config", str(self.config),
             "--consumer", "journal-web-test"],
            env={**spawn_env(), "REDIS_URL": self.redis_url}, stdout=out, stderr=out,
            cwd=str(ROOT))
        out.close()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="module")
def nhn_proc(tmp_path_factory: pytest.TempPathFactory, keys: Keys) -> Iterator[NhnProcess]:
    proc = NhnProcess(data_dir=tmp_path_factory.mktemp("journal-nhn"),
                      keys_file=keys.clients_file, receivers=frozenset({RECEIVER_HER}))
    proc.start()
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
async def journal_site(
    redis_proc: RedisProcess, fake_idp: Any, rp_key_file: Path, keys: Keys,  # noqa: F811
    nhn_proc: NhnProcess, tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[JournalSite]:
    d = tmp_path_factory.mktemp("journal-web")
    epj_toml = write_config(d / "epj.toml", nhn_proc.url, keys, receipt_poll_s=0.2)
    with epj_toml.open("a") as f:
        f.write(f'\n[receivers.demo-skole]\nname = "Demo kommune EPJ"\nher_id = {RECEIVER_HER}\n'
                f'\n[receivers.journal-avvist]\nname = "Ukjent EPJ"\n'
                f'her_id = {UNKNOWN_RECEIVER_HER}\n')
    (d / "gateway.pub").write_text(
        base64.b64encode(bytes(keys.gateway_key.public_key)).decode() + "\n")
    table = idporten_table(fake_idp.issuer, rp_key_file) + f"""
[epj]
gateway_public_key_file = "gateway.pub"
worker_config = "{epj_toml}"
""" + AVVIST_SERVICE
    web = await start_site(d, redis_proc.url, table, free_port())
    worker = WorkerProcess(epj_toml, redis_proc.url, d / "worker.log")
    worker.start()
    try:
        yield JournalSite(web, FakeSite(web, fake_idp), nhn_proc, worker.log)
    finally:
        await asyncio.to_thread(worker.stop)
        await asyncio.to_thread(web.stop)


@dataclass
class Nursing:
    client: ProtocolClient
    keys: NurseCrypto
    hello: dict[str, Any]


async def nurse(site: JournalSite, user: str = "demo.nurse") -> Nursing:
    base = site.web.base
    cookie = await nurse_login(base, user, DEMO_PASSWORD)
    keys = NurseCrypto.from_keys_json(await fetch_nurse_keys(base, cookie), DEMO_PASSWORD)
    client = await nurse_connect(base, cookie)  # it waits for hello
    return Nursing(client, keys, next(f for f in client.seen if f["type"] == "hello"))


async def claim(n: Nursing, cid: str, service: str) -> None:
    await n.client.send({"type": "claim", "conversation": cid})
    state = await n.client.expect("state", where=lambda f: bool(f.get("key_bundle"))
                                  and f["conversation"] == cid)
    n.keys.open_conversation(service, cid, state["key_bundle"])


async def verified_thread(site: JournalSite, service: str = "demo-skole"
                          ) -> tuple[ProtocolClient, YouthSession]:
    if service == "demo-skole":
        y, s = await anon_chat(site.web)
    else:
        y, s = await youth_start(site.web.base, service)
        assert s.keys is not None
        await y.send({"type": "send", "cmid": "anon-msg-1", "body": s.keys.seal("hei anonymt")})
        await y.expect("ack")
    b = Browser(site.web.base)
    try:
        await register_key(b, s)
        await login(site.fake, b, {"kind": "upgrade", "conversation": s.conversation,
                                   "token": s.token, "lang": "nb"})
        r = await prove_and_link(b, s)
        assert r.status_code == 200, r.text
    finally:
        await b.aclose()
    return y, s


def note_frame(n: Nursing, cid: str, text: str, msg_id: str | None = None) -> dict[str, Any]:
    """What nurse.js does: the note part, sealed to the gateway key from ``hello``."""
    msg_id = msg_id or str(uuid.uuid4())
    gateway = PublicKey(base64.b64decode(n.hello["journal"]["gateway_key"]))
    sealed = seal_note_part(msg_id=msg_id, conversation=cid,
                            nurse=Nurse("Demo", "Helsesykepleier"), subject="Samtale i helseprat",
                            text=text, note_date=date.today(), gateway_public_key=gateway)
    return {"type": "journal", "conversation": cid, "msg_id": msg_id, "sealed_note": sealed}


def status_of(msg_id: str, *statuses: str) -> Any:
    return lambda f: f["msg_id"] == msg_id and f["status"] in statuses


async def test_note_reaches_the_epj_and_the_nurse_sees_accepted(
    journal_site: JournalSite,
) -> None:
    site = journal_site
    y, s = await verified_thread(site)
    n = await nurse(site)
    try:
        assert n.hello["journal"]["services"] == ["demo-skole", "journal-avvist"]
        await claim(n, s.conversation, "demo-skole")
        said = await n.client.expect("deliver", where=lambda f: f["from"] == "youth")
        line = f"[{date.today()}] Ungdom: {n.keys.open(s.conversation, said['body'])}"
        before = len(stored_messages(site.nhn))
        frame = note_frame(n, s.conversation, f"Sammendrag: søvn og stress. {MARKER}\n{line}")
        await n.client.send(frame)
        msg_id = frame["msg_id"]
        queued = await n.client.expect("journal_status", where=status_of(msg_id, "queued"))
        assert queued["conversation"] == s.conversation
        done = await n.client.expect("journal_status",
                                     where=status_of(msg_id, "accepted", "rejected", "dead"),
                                     timeout=20)
        assert done["status"] == "accepted", done

        stored = stored_messages(site.nhn)
        assert len(stored) == before + 1
        [mine] = [m for m in stored if m["msg_id"] == msg_id]
        assert mine["receiver_her_id"] == RECEIVER_HER and mine["deliveries"] == 1
        doc = parse_msghead(base64.b64decode(str(mine["document"])))  # schema-validated
        assert doc.patient_ident == PID and doc.patient_id_type == "FNR"
        assert MARKER in (doc.notes[0].text or "") and "Ungdom: hei anonymt" in (
            doc.notes[0].text or "")

        # The same msg_id again (a resend after a reconnect) queues nothing new.
        await n.client.send(frame)
        again = await n.client.expect("journal_status", where=lambda f: f["msg_id"] == msg_id)
        assert again["status"] == "accepted"
        # A dashboard opening the thread later sees the note's status.
        n2 = await nurse(site)
        await n2.client.send({"type": "open", "conversation": s.conversation})
        seen = await n2.client.expect("journal_status", where=lambda f: f["msg_id"] == msg_id)
        assert seen["status"] == "accepted" and seen["at"] > 0
        await n2.client.close()
        await asyncio.sleep(0.3)
        assert len(stored_messages(site.nhn)) == before + 1
    finally:
        await n.client.close()
        await y.close()


async def test_unknown_receiver_comes_back_rejected_with_the_receipt_text(
    journal_site: JournalSite,
) -> None:
    site = journal_site
    y, s = await verified_thread(site, "journal-avvist")
    n = await nurse(site)
    try:
        await claim(n, s.conversation, "journal-avvist")
        frame = note_frame(n, s.conversation, f"Sammendrag. {MARKER}")
        await n.client.send(frame)
        done = await n.client.expect(
            "journal_status", where=status_of(frame["msg_id"], "accepted", "rejected", "dead"),
            timeout=20)
        assert done["status"] == "rejected", done
        assert done["code"] == "epj.apprec.avvist"
        assert done["text"].startswith("E21 Mottaker finnes ikke")
    finally:
        await n.client.close()
        await y.close()


async def test_refused_anonymous_thread_and_other_nurses_conversations(
    journal_site: JournalSite,
) -> None:
    site = journal_site
    n = await nurse(site)
    try:
        # An anonymous (not ID-porten-verified) thread.
        ya, sa = await youth_start(site.web.base, "demo-skole")
        await claim(n, sa.conversation, "demo-skole")
        frame = note_frame(n, sa.conversation, f"anonym {MARKER}")
        await n.client.send(frame)
        err = await n.client.expect("error")
        assert err["code"] == "journal_not_verified"
        assert err.get("ref") == sa.conversation
        await ya.close()

        # A verified thread the colleague has.
        yv, sv = await verified_thread(site)
        lead = await nurse(site, "demo.lead")
        await claim(lead, sv.conversation, "demo-skole")
        await n.client.send(note_frame(n, sv.conversation, f"ikke min {MARKER}"))
        assert (await n.client.expect("error"))["code"] == "not_authorized"
        # Replaying the colleague's MsgId on another conversation is refused too.
        theirs = note_frame(lead, sv.conversation, f"lederens {MARKER}")
        await lead.client.send(theirs)
        await lead.client.expect("journal_status", where=status_of(theirs["msg_id"], "queued"))
        await n.client.send(note_frame(n, sa.conversation, "x", msg_id=theirs["msg_id"]))
        assert (await n.client.expect("error"))["code"] == "not_authorized"
        await lead.client.close()
        await yv.close()

        # A conversation of a service the nurse does not staff.
        yo, so = await youth_start(site.web.base, "other-service")
        await n.client.send(note_frame(n, so.conversation, f"fremmed {MARKER}"))
        assert (await n.client.expect("error"))["code"] == "not_authorized"
        await yo.close()
    finally:
        await n.client.close()


async def test_nothing_in_clear_in_redis_or_the_logs(journal_site: JournalSite) -> None:
    """Runs last in the module: every note above went through Redis and both processes."""
    site = journal_site
    dump = await redis_dump(site.web.redis_url)
    assert any(k.startswith("epj:outbox") for k, _ in dump)
    assert any(k.endswith(":journal") for k, _ in dump)
    logs = site.web.log_text() + site.worker_log.read_text(errors="replace")
    assert "journal note queued" in logs and "-> accepted" in logs
    for secret in (MARKER, PID, "Sammendrag", "hei anonymt"):
        for key, text in dump:
            assert secret not in key and secret not in text, f"{secret[:8]}… in Redis {key}"
        assert secret not in logs, f"{secret[:8]}… in a log"
