"""The customer portal: sign-in and the Billing & Upgrade page (server-rendered HTML)."""

from fastapi import APIRouter

from canone.web.portal import (
    billing,
    changes,
    details,
    requests,
    session,
    settings,
    stripe_page,
)

router = APIRouter()
for module in (session, billing, changes, details, requests, settings, stripe_page):
    router.include_router(module.router)
