"""`canone demo`: demo accounts, people and states, all made through the services.

Every account gets a primary admin, an admin without the billing permission and a user;
one support agent signs in to the console. The states the portal and the console show
(a usage banner, a past-due account, a pending reduction, open requests) are reached the
way they happen in life: the seeding runs on a clock of its own that starts weeks ago and
moves forward, so the past-due account really missed a renewal and every retry.
Nothing touches the stored test clock or the database except through the services.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from canone.billing.configuration import Configuration
from canone.billing.parties import Address, BillingDetails
from canone.billing.periods import nth_period
from canone.billing.pricing import describe_plan
from canone.services import (
    accounts,
    billing_details,
    quotes,
    renewal,
    requests,
    signups,
    usage,
)
from canone.services.access import STAFF, SYSTEM_ACTOR, Actor
from canone.services.clock import ManualClock
from canone.services.context import (
    RETRY_AFTER_DAYS,
    Services,
    local_date,
    local_midnight,
    new_id,
)
from canone.services.errors import existing
from canone.services.ports import Card
from canone.services.records import ADMIN, USER, Staff, User
from canone.services.vies import Vies

PASSWORD = "canone-demo"
STAFF_EMAIL = "support@canone.example"
STAFF_NAME = "Sofia Support"
GOOD_CARD = "4242424242424242"
DECLINING_CARD = "4000000000000002"


@dataclass(frozen=True)
class DemoAccount:
    slug: str  # the people's email domain: owner@<slug>.example
    name: str
    locale: str
    timezone: str
    config: Configuration
    days_ago: int  # when it signed up, before now
    story: str  # what it shows, printed with its logins
    billing: BillingDetails | None = None  # given at sign-up (§8)
    card_country: str | None = None  # as the card network reports the card's issuer

    @property
    def currency(self) -> str:
        return self.config.currency

    def email(self, who: str) -> str:
        return f"{who}@{self.slug}.example"


def _config(product: str, tier: str, contacts: int | None, seats: int, currency: str,
            interval: str = "month", addons: tuple[str, ...] = ()) -> Configuration:
    return Configuration(product, tier, interval, currency, contacts, seats, addons)


# Billing details of each tax case of SPEC §8. The ids are made up with real checksums.
ITALIAN_CONSUMER = BillingDetails(
    "consumer", "Lucia Bellavista", Address("Via dei Neri 12", "50122", "Firenze", "FI", "IT"),
    tax_code="BLLLCU82C54D612L")
ITALIAN_BUSINESS = BillingDetails(
    "business", "Officina Verde S.r.l.",
    Address("Via Tortona 27", "20144", "Milano", "MI", "IT"),
    vat_id="IT05182730159", tax_code="05182730159", sdi_code="KRX5Q7A")
ITALIAN_PROFESSIONAL = BillingDetails(  # no SDI code: files go to its PEC
    "business", "Studio Dentistico Alpina S.r.l.",
    Address("Via Druso 8", "38122", "Trento", "TN", "IT"),
    vat_id="IT03917850228", pec="studioalpina@pec.it")
GERMAN_BUSINESS = BillingDetails(  # reverse charge once VIES confirms the VAT id
    "business", "Lumen Analytics GmbH", Address("Torstraße 109", "10119", "Berlin", None, "DE"),
    vat_id="DE814937267")
FRENCH_CONSUMER = BillingDetails(  # OSS: French VAT when the seller is registered
    "consumer", "Camille Laurent", Address("12 rue des Capucins", "69001", "Lyon", None, "FR"))
US_BUSINESS = BillingDetails(  # outside the scope of EU VAT
    "business", "Northwind Outfitters Inc.",
    Address("350 Fifth Avenue", "10118", "New York", "NY", "US"), vat_id="94-3172856")
# The demo seller files e-invoices, so every account gives its details at sign-up (§8).
US_SALES = BillingDetails(
    "business", "Pinnacle Sales Co.",
    Address("233 South Wacker Drive", "60606", "Chicago", "IL", "US"), vat_id="36-4712853")
US_TRAVEL = BillingDetails(  # a business without a tax id on file
    "business", "Blue Harbor Travel LLC",
    Address("600 Harbor Drive", "92101", "San Diego", "CA", "US"))

ACCOUNTS = (
    DemoAccount("bellavista", "Trattoria Bellavista", "it", "Europe/Rome",
                _config("marketing", "starter", 1000, 3, "EUR"), 12,
                "marketing starter", ITALIAN_CONSUMER, "IT"),
    DemoAccount("northwind", "Northwind Outfitters", "en", "America/New_York",
                _config("marketing", "plus", 2500, 3, "USD", addons=("sms",)), 20,
                "marketing plus with SMS", US_BUSINESS, "US"),
    DemoAccount("lumen", "Lumen Analytics", "en", "Europe/London",
                _config("marketing", "pro", 10000, 3, "USD", "year"), 90,
                "marketing pro, yearly", GERMAN_BUSINESS, "GB"),
    DemoAccount("pinnacle", "Pinnacle Sales Co.", "en", "America/Chicago",
                _config("sales", "pro", None, 3, "USD"), 8,
                "sales only", US_SALES, "US"),
    DemoAccount("officinaverde", "Officina Verde", "it", "Europe/Rome",
                _config("bundle", "plus", 5000, 3, "EUR"), 15,
                "bundle, with a request support is handling", ITALIAN_BUSINESS, "IT"),
    DemoAccount("blueharbor", "Blue Harbor Travel", "en", "America/Los_Angeles",
                _config("marketing", "plus", 5000, 3, "USD"), 18,
                "near its contact limit (92 % used: banner)", US_TRAVEL, "US"),
    DemoAccount("copperleaf", "Copperleaf Studio", "en", "Europe/Dublin",
                _config("marketing", "starter", 2500, 3, "USD"), 40,
                "past due: its renewal card was declined (restricted)", FRENCH_CONSUMER, "FR"),
    DemoAccount("alpina", "Studio Dentistico Alpina", "it", "Europe/Rome",
                _config("marketing", "pro", 10000, 3, "EUR"), 10,
                "pending reduction and an open change request", ITALIAN_PROFESSIONAL, "IT"),
)

BUNDLE, NEAR_LIMIT, PAST_DUE, REDUCING = ACCOUNTS[4], ACCOUNTS[5], ACCOUNTS[6], ACCOUNTS[7]

PEOPLE = (  # (mailbox, name, role, billing permission)
    ("owner", "Primary Admin", "primary_admin", True),
    ("admin", "Admin (no billing)", ADMIN, False),
    ("user", "User", USER, False),
)


@dataclass
class Seeded:
    created: bool  # False when the database already had the demo
    accounts: list[DemoAccount] = field(default_factory=lambda: list(ACCOUNTS))


def already_seeded(svc: Services) -> bool:
    with svc.database.transaction() as store:
        return (store.people.staff_by_email(STAFF_EMAIL) is not None
                or store.people.user_by_email(ACCOUNTS[0].email("owner")) is not None)


def seed(services: Services, vies: Vies) -> Seeded:
    """Seed the demo once; a database that has it already is left as it is. `vies` answers
    for the demo's made-up VAT ids (bootstrap.demo_vies)."""
    if already_seeded(services):
        return Seeded(created=False)
    now = services.now()
    # The seeding's own clock: it starts in the past and only moves forward.
    clock = ManualClock(now - timedelta(days=max(a.days_ago for a in ACCOUNTS)))
    svc = replace(services, clock=clock, vies=vies)
    owners: dict[str, User] = {}
    for instant, step, demo in _timeline(now):
        clock.move_forward_to(instant)
        if step == "open":
            owners[demo.slug] = _open_account(svc, demo)
        elif step == "declining card":
            _swap_to_declining_card(svc, owners[demo.slug])
        else:  # a billing run: the renewal, then each retry of the declined invoice
            renewal.run(svc, until=instant)
    clock.move_forward_to(now)
    _near_limit(svc, owners[NEAR_LIMIT.slug])
    _reduce_and_ask(svc, owners[REDUCING.slug])
    _ask_for_product_change(svc, owners[BUNDLE.slug])
    _add_support_agent(svc)
    return Seeded(created=True)


def _timeline(now: datetime) -> list[tuple[datetime, str, DemoAccount]]:
    """Sign-ups, and the past-due account's card swap, renewal and retries, in time order."""
    steps = [(now - timedelta(days=demo.days_ago), "open", demo) for demo in ACCOUNTS]
    signed = now - timedelta(days=PAST_DUE.days_ago)
    period = nth_period(local_date(signed, PAST_DUE.timezone), PAST_DUE.config.interval, 0)
    renews = local_midnight(period.end, PAST_DUE.timezone) + timedelta(hours=1)
    steps.append((renews - timedelta(days=2), "declining card", PAST_DUE))
    for days in (0, *RETRY_AFTER_DAYS):
        steps.append((renews + timedelta(days=days), "billing run", PAST_DUE))
    if max(instant for instant, *_ in steps) >= now:
        raise RuntimeError("the demo's past-due account must sign up further back")
    return sorted(steps, key=lambda step: step[0])


def _open_account(svc: Services, demo: DemoAccount) -> User:
    """Sign up with a good card, then add the admin without billing and the user."""
    signed = signups.sign_up(svc, signups.SignUp(
        name=demo.name, timezone=demo.timezone, locale=demo.locale, currency=demo.currency,
        admin_email=demo.email("owner"), admin_name=f"{demo.name} {PEOPLE[0][1]}",
        admin_password=PASSWORD, config=demo.config,
        card=Card(GOOD_CARD, 12, svc.now().year + 3, "123"), billing_details=demo.billing))
    billing_details.note_card_country(svc, signed.account.id, demo.card_country)
    with svc.database.transaction() as store:
        owner = existing(store.people.user_by_email(demo.email("owner")), "the demo's owner")
    for mailbox, title, role, billing in PEOPLE[1:]:
        accounts.add_user(svc, Actor.of_user(owner), signed.account.id, demo.email(mailbox),
                          f"{demo.name} {title}", PASSWORD, role=role, billing=billing)
    return owner


def _swap_to_declining_card(svc: Services, owner: User) -> None:
    """The card on file starts declining: the renewal and its retries on days 3, 5 and 7
    fail, and the account becomes past due (restricted)."""
    accounts.update_card(svc, Actor.of_user(owner), owner.account_id,
                         Card(DECLINING_CARD, 12, svc.now().year + 3, "123"))


def _near_limit(svc: Services, owner: User) -> None:
    """The host product reports 92 % of the contact limit in use."""
    with svc.database.transaction() as store:
        sub = existing(store.subscriptions.of_account(owner.account_id), "subscription")
    limit = existing(sub.config.contacts, "the demo plan's contact limit")
    usage.report(svc, SYSTEM_ACTOR, owner.account_id, limit * 92 // 100, 3)


def _reduce_and_ask(svc: Services, owner: User) -> None:
    """Fewer contacts from the next period (self-serve), and a request for a lower tier."""
    actor = Actor.of_user(owner)
    with svc.database.transaction() as store:
        sub = existing(store.subscriptions.of_account(owner.account_id), "subscription")
    quote = quotes.preview(svc, actor, owner.account_id, sub.config.with_(contacts=5000))
    quotes.confirm(svc, actor, owner.account_id, existing(quote.token, "the quote's token"))
    requests.create(
        svc, actor, owner.account_id, sub.config.with_(tier="plus", contacts=5000),
        "Costi", "Non usiamo più le automazioni avanzate: vorremmo passare al piano Plus "
        "dal prossimo periodo.")


def _ask_for_product_change(svc: Services, owner: User) -> None:
    """A request to leave the bundle for marketing alone, taken by the support agent."""
    actor = Actor.of_user(owner)
    with svc.database.transaction() as store:
        sub = existing(store.subscriptions.of_account(owner.account_id), "subscription")
    request = requests.create(
        svc, actor, owner.account_id, sub.config.with_(product="marketing"),
        "Non usiamo il CRM", "Vorremmo tenere solo Marketing Plus.")
    requests.transition(svc, Actor(STAFF, f"staff:{STAFF_EMAIL}"), request.id,
                        requests.IN_PROGRESS, message="Ci penso io.")


def _add_support_agent(svc: Services) -> None:
    with svc.database.transaction() as store:
        store.people.add_staff(Staff(new_id("stf"), STAFF_EMAIL, STAFF_NAME,
                                     accounts.hash_password(PASSWORD)))


def logins(services: Services, url: str) -> str:
    """The address and the demo logins, as `canone demo` prints them."""
    out = [f"Open {url}/ and sign in; every demo password is {PASSWORD!r}.", "",
           f"Support console: {url}/console  —  {STAFF_EMAIL} ({STAFF_NAME})", ""]
    width = max(len(a.name) for a in ACCOUNTS)
    for demo in ACCOUNTS:
        out.append(f"{demo.name:<{width}}  {describe_plan(services.catalog, demo.config)}"
                   f"  ({demo.story}; {demo.locale})")
        out.append(" " * (width + 2) + "  ".join(
            f"{demo.email(mailbox)}" for mailbox, *_ in PEOPLE))
    out += ["", "On each account: owner@ is the primary admin, admin@ an admin without the "
            "billing permission, user@ a user."]
    return "\n".join(out)
