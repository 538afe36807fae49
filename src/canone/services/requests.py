"""Change requests ("Request account change"): created by customers, handled by support
(SPEC §5). Every status change is written to the request's history and emailed."""

from __future__ import annotations

from canone.billing.adjustments import applied_now
from canone.billing.codec import config_to_json
from canone.billing.configuration import Configuration, validate
from canone.billing.errors import InvalidField
from canone.billing.money import to_minor
from canone.billing.pricing import CUSTOM, price
from canone.services import quotes, subscriptions
from canone.services.access import (
    EMAIL,
    Actor,
    load_account,
    primary_admin_of,
    require_billing,
    require_staff,
)
from canone.services.context import Services, new_id, notify, record_change, today
from canone.services.errors import InvalidTransition, NotFound, existing
from canone.services.records import ChangeRequest, RequestEvent
from canone.services.store import Store

OPEN, IN_PROGRESS, COMPLETED, DECLINED, WITHDRAWN = (
    "open", "in_progress", "completed", "declined", "withdrawn")
MOVES = {
    OPEN: {IN_PROGRESS, COMPLETED, DECLINED, WITHDRAWN},
    IN_PROGRESS: {COMPLETED, DECLINED, WITHDRAWN},
}
PERIOD_END, NOW = "period_end", "now"


def create(svc: Services, actor: Actor, account_id: str, desired: Configuration | None,
           reason: str, message: str, source: str = "portal") -> ChangeRequest:
    if desired is not None:
        try:
            desired = validate(svc.catalog, desired)
        except InvalidField as exc:
            raise exc.under("desired") from None
    if len(reason) > 200:
        raise InvalidField("reason", "at most 200 characters")
    if not message.strip() and desired is None:
        raise InvalidField("message", "say what you would like to change")
    with svc.database.transaction() as store:
        account = load_account(store, actor, account_id)
        if actor.kind != EMAIL:
            require_billing(store, actor, account_id, "request an account change")
        now = svc.now()
        requester = _requester_email(store, actor, account_id)
        request = ChangeRequest(
            id=new_id("req"), account_id=account.id, requester_email=requester, desired=desired,
            reason=reason.strip(), message=message.strip(), status=OPEN, source=source,
            verified=actor.kind != EMAIL, effective=None, created_at=now, updated_at=now,
            history=(RequestEvent(now, actor.name, None, OPEN, message.strip()),))
        store.requests.add(request)
        _announce(svc, store, request, "request.created", "request_received")
        return request


def _requester_email(store: Store, actor: Actor, account_id: str) -> str:
    """Who is told about the request: the person who made it, or the sender of the email it
    came in; for an API key (the host application's or an operator's), which has no mailbox,
    the account's primary admin."""
    if actor.user is not None:
        return actor.user.email
    if actor.kind == EMAIL:
        return actor.name.partition(":")[2]
    admin = primary_admin_of(store, account_id)
    if admin is None:
        raise NotFound(f"account {account_id} has no primary admin to tell about the request")
    return admin.email


def transition(svc: Services, actor: Actor, request_id: str, to: str,
               effective: str = PERIOD_END, message: str = "") -> ChangeRequest:
    if effective not in (PERIOD_END, NOW):
        raise InvalidField("effective", "allowed: period_end, now")
    with svc.database.transaction() as store:
        request = store.requests.get(request_id, lock=True)
        if request is None:
            raise NotFound(f"no change request {request_id}")
        load_account(store, actor, request.account_id)
        if to == WITHDRAWN:
            require_billing(store, actor, request.account_id, "withdraw a request")
        else:
            require_staff(actor, "handle change requests")
        if to not in MOVES.get(request.status, set()):
            raise InvalidTransition(f"a request that is {request.status} cannot become {to}")
        verified = request.verified or to == IN_PROGRESS  # support confirmed the sender
        if to == COMPLETED and request.desired is not None:
            if not verified:
                raise InvalidTransition("This request came by email: take it (in_progress) "
                                        "to confirm the sender before applying it.")
            _apply(svc, store, actor, request, effective)
        now = svc.now()
        moved = request.but(
            status=to, verified=verified, updated_at=now,
            effective=effective if to == COMPLETED and request.desired else request.effective,
            history=(*request.history, RequestEvent(now, actor.name, request.status, to, message)))
        store.requests.save(moved)
        _announce(svc, store, moved, "request.updated", "request_status")
        return moved


def _apply(svc: Services, store: Store, actor: Actor, request: ChangeRequest,
           effective: str) -> None:
    desired = request.desired
    if desired is None:
        raise InvalidTransition("The request names no desired plan: there is nothing to apply.")
    if price(svc.catalog, desired).status == CUSTOM:
        raise InvalidTransition("The desired configuration has a custom price; agree it with "
                                "sales and set the plan up in the catalog first.")
    account = existing(store.accounts.get(request.account_id, lock=True), "account")
    sub = subscriptions.current(svc, store, account, lock=True)
    users = quotes.active_users(store, account.id)
    if desired.seats < users:  # support may not leave fewer seats than active users
        raise InvalidTransition(f"The desired configuration has {desired.seats} user seats "
                                f"but the account has {users} active users: deactivate "
                                "users first, or keep enough seats.")
    if effective == PERIOD_END:
        subscriptions.set_pending(svc, store, account, sub, desired, actor.name)
        return
    day = today(svc, account)
    change = applied_now(svc.catalog, sub.config, desired, sub.anchor, day)
    new = subscriptions.apply_change(svc, store, account, sub, change, "request_applied",
                                     actor.name)
    if change.credit > 0:
        subscriptions.credit(svc, store, account, to_minor(change.credit),
                             f"Unused time credited by change request {request.id}", None)
    elif change.due_now > 0:
        # Collected like any open invoice (billing run, or at once after a card update).
        # It covers the day to the end of the (possibly new, on an interval change) period.
        subscriptions.issue_invoice(svc, store, account, new, "request", change.lines,
                                    day, new.period_end, paid=False)


def _announce(svc: Services, store: Store, request: ChangeRequest, event: str,
              email: str) -> None:
    data = {"request_id": request.id, "status": request.status, "reason": request.reason,
            "desired": config_to_json(request.desired) if request.desired else None,
            "message": request.history[-1].message if request.history else ""}
    record_change(svc, store, account_id=request.account_id,
                  actor=request.history[-1].actor if request.history else "system",
                  action=event, before=None, after=data, event=event)
    account = existing(store.accounts.get(request.account_id), "account")
    notify(svc, store, account, request.requester_email, email, data)


def requests_of(svc: Services, actor: Actor, account_id: str) -> list[ChangeRequest]:
    with svc.database.read() as store:
        load_account(store, actor, account_id)
        require_billing(store, actor, account_id, "see change requests")
        return store.requests.of_account(account_id)


def get(svc: Services, actor: Actor, request_id: str) -> ChangeRequest:
    with svc.database.read() as store:
        request = store.requests.get(request_id)
        if request is None:
            raise NotFound(f"no change request {request_id}")
        load_account(store, actor, request.account_id)
        if not actor.is_staff:
            require_billing(store, actor, request.account_id, "see change requests")
        return request


def queue(svc: Services, actor: Actor, status: str | None, limit: int = 50,
          after: str | None = None) -> list[ChangeRequest]:
    require_staff(actor, "see the request queue")
    with svc.database.read() as store:
        return store.requests.queue(status, limit, after)
