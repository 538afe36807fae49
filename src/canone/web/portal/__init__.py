"""The customer portal: sign-in and the Billing & Upgrade page (server-rendered HTML)."""

from fastapi import APIRouter

from canone.web.portal import session

router = APIRouter()
for module in (session,):
    router.include_router(module.router)
