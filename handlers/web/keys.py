"""Typed aiohttp application keys shared by the routes and the composition root."""

from aiohttp import web
from slack_bolt.async_app import AsyncApp

from bot.service import ShareTrail
from handlers.slack.signing import RequestSigning

SERVICES = web.AppKey("services", ShareTrail)
BOLT = web.AppKey("bolt", AsyncApp)
# None only when no signing secret is configured (Socket Mode, where Slack signs nothing).
SIGNATURES: web.AppKey[RequestSigning | None] = web.AppKey("signatures")
