"""An invoice's amount under the minimum charge is carried net (SPEC §9): the next invoice
bills it as a line and taxes it, so its tax is paid once."""

from __future__ import annotations

from datetime import UTC, datetime

from canone.services.invoice_settlement import net
from canone.services.records import Invoice


def invoice(subtotal: int, total: int) -> Invoice:
    return Invoice(id="inv_1", account_id="acc_1", subscription_id="sub_1",
                   number="2026-000001", kind="renewal", currency="EUR",
                   issued_at=datetime(2026, 5, 1, tzinfo=UTC), period_start=None,
                   period_end=None, lines=(), total=total, credit_applied=0, amount_paid=0,
                   status="open", subtotal=subtotal, tax_lines=(),
                   issued_on=datetime(2026, 5, 1, tzinfo=UTC).date())


def test_the_net_part_of_a_taxed_amount_is_carried() -> None:
    assert net(37, invoice(4900, 5978)) == 30  # 0.37 with 22 % VAT is 0.30 net
    assert net(48, invoice(4900, 4900)) == 48  # untaxed: as it is
    assert net(48, invoice(0, 0)) == 48
