"""The access token: one gettoken for many concurrent calls, shared by replicas through the
database, renewed once when WeCom refuses it (40014) however many calls saw the refusal."""

from __future__ import annotations

import asyncio

import aiohttp
from aiohttp.test_utils import TestServer

from handlers.wecom.api import WeComApi, WeComError
from sandbox.wecom_api import WeComStandIn
from store.db import Database
from tests.wecom.conftest import AGENT_ID, CORP_ID, EMPLOYEE, SECRET


def replica(http: aiohttp.ClientSession, server: TestServer, db: Database, **kw: str) -> WeComApi:
    return WeComApi(
        http=http,
        base_url=str(server.make_url("/cgi-bin/")),
        corp_id=CORP_ID,
        secret=kw.get("secret", SECRET),
        agent_id=str(AGENT_ID),
        db=db,
    )


async def test_one_token_for_two_replicas_and_one_renewal(
    db: Database, wecom_server: tuple[WeComStandIn, TestServer]
) -> None:
    wecom, server = wecom_server
    async with aiohttp.ClientSession() as http:
        first, second = replica(http, server, db), replica(http, server, db)
        await asyncio.gather(*(first.user(EMPLOYEE) for _ in range(10)))
        await asyncio.gather(*(second.user(EMPLOYEE) for _ in range(10)))
        assert wecom.gettoken_calls == 1  # the second replica read it from the database

        wecom.revoke_tokens()  # 40014 for every call under way
        await asyncio.gather(*(first.user(EMPLOYEE) for _ in range(10)))
        assert wecom.gettoken_calls == 2
        await second.user(EMPLOYEE)  # refused once, then the renewed token from the database
        assert wecom.gettoken_calls == 2

        wecom.expire_tokens()  # 42001
        await second.user(EMPLOYEE)
        assert wecom.gettoken_calls == 3

        try:
            await replica(http, server, db, secret="wrong").user("nobody")
        except WeComError as exc:
            assert exc.code == 60111  # the shared token is fresh: no gettoken with a bad secret
        wecom.revoke_tokens()
        try:
            await replica(http, server, db, secret="wrong").user(EMPLOYEE)
        except WeComError as exc:
            assert (exc.code, exc.retryable) == (40001, False)
        else:
            raise AssertionError("a wrong secret must not get a token")
