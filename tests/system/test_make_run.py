"""`make run`'s last step (`python -m devservices.run`) on an empty data folder: it starts its
own Redis, the stand-ins and the web server, prints the URLs, and the printed URL answers."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from devservices.redis_proc import free_port


def read_rest_of_banner(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    rest: list[str] = []
    while not rest or "Stop with Ctrl-C" not in rest[-1]:
        line = proc.stdout.readline()
        if not line:
            break
        rest.append(line)
    return "".join(rest)


async def test_make_run_answers_on_the_printed_url(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update(HELSEPRAT_DATA_DIR=str(tmp_path / "var"), PORT=str(port))
    proc = subprocess.Popen([sys.executable, "-m", "devservices.run"], env=env,  # noqa: ASYNC220
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    try:
        async def read_until_banner() -> str:
            assert proc.stdout is not None
            while True:
                line = await asyncio.to_thread(proc.stdout.readline)
                if not line:
                    raise AssertionError("exited early:\n" + "".join(lines[-40:]))
                lines.append(line)
                m = re.search(r"Youth \(phone\):\s+(\S+)", line)
                if m:
                    return m.group(1)

        youth_url = await asyncio.wait_for(read_until_banner(), 90)
        rest = await asyncio.wait_for(asyncio.to_thread(read_rest_of_banner, proc), 10)
        lines.append(rest)
        push = re.search(r"Push service:\s+(\S+)", rest)
        assert push, rest
        provesvar = re.search(r"Prøvesvar:\s+(\S+)", rest)
        assert provesvar, rest
        fiks = re.search(r"KS Fiks:\s+(\S+)", rest)
        assert fiks, rest
        sysvak = re.search(r"SYSVAK:\s+(\S+)", rest)
        assert sysvak, rest
        assert f"http://127.0.0.1:{port}/" == youth_url
        async with httpx.AsyncClient() as http:
            page = await http.get(youth_url)
            assert page.status_code == 200 and "helseprat" in page.text
            # The demo services publish their information pages, in three languages.
            vaccines = await http.get(youth_url + "s/demo-skole/info/skolevaksiner?lang=nn")
            assert vaccines.status_code == 200 and "Vaksinar på skulen" in vaccines.text
            assert 'href="/s/demo-hfu/info?lang=en"' in (
                await http.get(youth_url + "s/demo-hfu?lang=en")).text
            # The identity bridge is configured against the local ID-porten lookalike.
            consent = await http.get(youth_url + "logg-inn")
            assert consent.status_code == 200
            assert (await http.get(youth_url + "readyz")).json() == {"status": "ready"}
            # The Web Push stand-in answers, and keeps its log under the data folder.
            assert (await http.get(push.group(1) + "/_test/health")).status_code == 200
            # The prøvesvar stand-in answers; the results page is there (it asks to log in).
            assert (await http.get(provesvar.group(1) + "/_dev/health")).status_code == 200
            results = await http.get(youth_url + "mine/provesvar")
            assert results.status_code == 200 and 'id="login"' in results.text
            # The Fiks stand-in answers (the web server read its [concern] table at start).
            assert (await http.get(fiks.group(1) + "/_dev/health")).status_code == 200
            # The SYSVAK stand-in answers, and refuses a call without a DPoP-bound token.
            assert (await http.get(sysvak.group(1) + "/_dev/health")).status_code == 200
            refused = await http.post(sysvak.group(1) + "/sysvak/v1/vaksinasjoner", content=b"")
            assert refused.status_code == 401
        assert (tmp_path / "var" / "pushservice" / "pushservice.log").exists()
        # The private Redis lives under the data folder, with AOF on.
        assert list((tmp_path / "var" / "redis" / "appendonlydir").glob("*.aof"))
    finally:
        proc.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(proc.wait, 60)
    assert code == 0
    assert proc.stdout is not None
    banner = "".join(lines) + proc.stdout.read()
    assert "demo.nurse / demo-helseprat-2026" in banner
    assert not (tmp_path / "var" / "redis.url").exists()  # private Redis stopped and cleaned up
