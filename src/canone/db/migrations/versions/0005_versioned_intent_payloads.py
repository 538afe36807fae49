"""Payment intent payloads and results in their versioned shapes (`"v": 1`, named fields:
see services/payloads.py), and the sign-up's password hash out of the payload, in a column
of its own that the settlement reads and then clears.

Every stored intent is rewritten, settled or not, so that the code reads version 1 alone: a
pending one left by an earlier version settles as it would have, and a settled one answers
its replays as before. The hash of a sign-up that
is no longer pending is dropped (the account's user has it, or none was created). The
conversion is written out here, not imported: a migration must keep doing what it did.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"

INTENTS = sa.table("payment_intents", sa.column("key", sa.String), sa.column("purpose", sa.String),
                   sa.column("status", sa.String), sa.column("payload", sa.Text),
                   sa.column("result", sa.Text), sa.column("password_hash", sa.Text))


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False,
                                                  separators=(",", ":"))


def _result(status: str, old: dict[str, Any] | None) -> dict[str, Any] | None:
    """A settled intent's result: what it made when paid, why not when failed."""
    if old is None or old.get("v") == 1:
        return old
    if status == "failed":
        return {"v": 1, "message": old.get("message") or "",
                "decline_code": old.get("decline_code") or "declined"}
    return {"v": 1, "invoice_id": old.get("invoice_id"), "account_id": old.get("account_id"),
            "subscription": old.get("subscription"), "credited": bool(old.get("credited"))}


def _change(old: dict[str, Any]) -> dict[str, Any]:
    return {"v": 1, "account_id": old["a"], "subscription_version": old["v"], "day": old["d"],
            "immediate": old["i"], "target": old["t"], "due": old["due"], "nonce": old["n"]}


def _signup(old: dict[str, Any]) -> dict[str, Any]:
    token, brand, last4, exp_month, exp_year = old["card"]
    start, end = old["period"]
    kept = {k: v for k, v in old.items() if k not in ("password_hash", "card", "period")}
    return {"v": 1, **kept, "period": {"start": start, "end": end},
            "card": {"token": token, "brand": brand, "last4": last4, "exp_month": exp_month,
                     "exp_year": exp_year},
            "billing_details": old.get("billing_details"),
            "payment_customer": old.get("payment_customer")}


def upgrade() -> None:
    with op.batch_alter_table("payment_intents") as batch:
        batch.add_column(sa.Column("password_hash", sa.Text(), nullable=True))
    connection = op.get_bind()
    for key, purpose, status, text, result in connection.execute(
            sa.select(INTENTS.c.key, INTENTS.c.purpose, INTENTS.c.status, INTENTS.c.payload,
                      INTENTS.c.result)):
        old = json.loads(text)
        if old.get("v") == 1 and "a" not in old:  # already versioned (a change's "v" was
            continue                             # its subscription's version, with "a")
        if purpose == "change":
            new, password_hash = _change(old), None
        elif purpose == "signup":
            new = _signup(old)
            password_hash = old.get("password_hash") if status == "pending" else None
        else:
            new, password_hash = {"v": 1, **old}, None
        connection.execute(sa.update(INTENTS).where(INTENTS.c.key == key).values(
            payload=_json(new), password_hash=password_hash,
            result=_json(_result(status, None if result is None else json.loads(result)))))


def _old_change(new: dict[str, Any]) -> dict[str, Any]:
    return {"a": new["account_id"], "v": new["subscription_version"], "d": new["day"],
            "i": new["immediate"], "t": new["target"], "due": new["due"], "n": new["nonce"]}


def _old_signup(new: dict[str, Any], password_hash: str | None) -> dict[str, Any]:
    card, period = new["card"], new["period"]
    kept = {k: v for k, v in new.items() if k not in ("v", "card", "period")}
    return {**kept, "password_hash": password_hash or "",
            "period": [period["start"], period["end"]],
            "card": [card["token"], card["brand"], card["last4"], card["exp_month"],
                     card["exp_year"]]}


def downgrade() -> None:
    connection = op.get_bind()
    for key, purpose, text, password_hash, result in connection.execute(
            sa.select(INTENTS.c.key, INTENTS.c.purpose, INTENTS.c.payload,
                      INTENTS.c.password_hash, INTENTS.c.result)):
        new = json.loads(text)
        if purpose == "change":
            old = _old_change(new)
        elif purpose == "signup":
            old = _old_signup(new, password_hash)
        else:
            old = {k: v for k, v in new.items() if k != "v"}
        earlier = None if result is None else {
            k: v for k, v in json.loads(result).items() if k != "v"}
        connection.execute(sa.update(INTENTS).where(INTENTS.c.key == key).values(
            payload=_json(old), result=_json(earlier)))
    with op.batch_alter_table("payment_intents") as batch:
        batch.drop_column("password_hash")
