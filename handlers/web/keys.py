"""Typed aiohttp application keys shared by the routes and the composition root."""

from aiohttp import web
from slack_bolt.async_app import AsyncApp

from bot.service import ShareTrail

SERVICES = web.AppKey("services", ShareTrail)
BOLT = web.AppKey("bolt", AsyncApp)
