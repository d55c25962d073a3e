"""Typed aiohttp application keys shared by the routes and the composition root."""

from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.service import ShareTrail
from handlers.slack.signing import RequestSigning

SERVICES = web.AppKey("services", ShareTrail)
BOLT = web.AppKey("bolt", AsyncApp)
# The bot's Web API client (the console publishes and reads the workspace through it).
SLACK_CLIENT = web.AppKey("slack_client", AsyncWebClient)
# None only when no signing secret is configured (Socket Mode, where Slack signs nothing).
SIGNATURES: web.AppKey[RequestSigning | None] = web.AppKey("signatures")
