"""The payment gateways (SPEC §9), behind the one port `canone.services.ports.PaymentGateway`:

sandbox   SandboxGateway: the sandbox card network, the embedded default (demos and tests)
stripe    StripeGateway: Stripe through the official SDK (`CANONE_PAYMENTS=stripe`); imported
          from `canone.integrations.payments.stripe` only when chosen, as the SDK is large
"""

from canone.integrations.payments.sandbox import ChargeRecord, SandboxGateway
from canone.integrations.payments.sandbox_cards import card_brand, luhn_valid

__all__ = ["ChargeRecord", "SandboxGateway", "card_brand", "luhn_valid"]
