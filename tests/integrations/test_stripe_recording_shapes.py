"""The recorded Stripe responses (SPEC §9) checked against Stripe's own types (issue #12):
every field of every response body and of every event's data.object is one the installed SDK
(the version uv.lock pins) declares for that object, every enum-like value one of its
Literals, every error body what the SDK's errors read (tests/stripe_shapes.py)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import stripe

from canone.integrations.payments.stripe import pinned_api_version
from stripe_replay import RECORDINGS
from stripe_shapes import shape_errors

RECORDED = sorted(RECORDINGS.rglob("*.json"))  # the webhook bodies of events/ too
# placeholders standing for an enum value, with each value the replaying tests put there
# (tests/services/test_provider_disputes.py replays the dispute with both payment methods)
ENUM_PLACEHOLDERS = {"{method_type}": ("card", "sepa_debit")}


def readings(path: Path) -> list[dict[str, Any]]:
    """The recording's response bodies and event, once per value of its enum placeholders."""
    texts = [path.read_text("utf-8")]
    for placeholder, values in ENUM_PLACEHOLDERS.items():
        texts = [text.replace(placeholder, value) if placeholder in text else text
                 for text in texts for value in values]
    found = []
    for recording in {text: json.loads(text) for text in texts}.values():
        found += [exchange["response"]["body"] for exchange in recording.get("exchanges", [])]
        found += [recording["event"]] if "event" in recording else []
    return found


def recorded(name: str) -> dict[str, Any]:
    return copy.deepcopy(readings(RECORDINGS / name)[0])


@pytest.mark.parametrize("path", RECORDED, ids=[path.name for path in RECORDED])
def test_each_recorded_body_has_only_what_stripes_sdk_declares(path: Path) -> None:
    checked = readings(path)
    assert checked, path.name
    assert [error for body in checked for error in shape_errors(body, path.name)] == []


def nested(value: Any, where: str = "body") -> list[tuple[str, dict[str, Any]]]:
    if isinstance(value, list):
        return [found for index, item in enumerate(value)
                for found in nested(item, f"{where}[{index}]")]
    if not isinstance(value, dict):
        return []
    return [(where, value)] + [found for key, item in value.items()
                               for found in nested(item, f"{where}.{key}")]


def test_the_check_reaches_every_object_of_every_recording_but_free_form_metadata() -> None:
    reached, free_form = 0, []
    checked = [body for path in RECORDED for body in readings(path)]
    for body in checked:
        for where, inner in nested(body):
            inner["not_stripes"] = 0
            if any(".not_stripes: not a field of" in error for error in shape_errors(body)):
                reached += 1
            else:
                free_form.append(where.rsplit(".", 1)[-1])
            del inner["not_stripes"]
    assert reached > len(checked)  # the bodies, and the objects nested in them
    assert set(free_form) == {"metadata"}  # Stripe's own free-form key/value map


def test_every_recording_says_its_shapes_are_checked_against_the_sdk() -> None:
    assert len(RECORDED) == 8
    for path in RECORDED:
        source = json.loads(path.read_text("utf-8"))["source"]
        assert "tests/integrations/test_stripe_recording_shapes.py" in source, path.name


def test_the_sdk_judging_is_the_api_version_canone_speaks_and_the_sources_name() -> None:
    assert pinned_api_version() == stripe.api_version
    assert recorded("events/charge.dispute.created.json")["api_version"] == stripe.api_version
    for path in RECORDED:
        assert stripe.api_version in json.loads(path.read_text("utf-8"))["source"], path.name


def test_a_field_stripe_does_not_declare_is_named() -> None:
    intent = recorded("sepa_processing_then_failed.json")
    intent["failure_message"] = "no such field on a PaymentIntent"
    assert shape_errors(intent) == ["body.failure_message: not a field of PaymentIntent"]


def test_a_status_out_of_the_sdks_literals_is_named() -> None:
    # Dispute.status is a Literal in the SDK (Refund.status and Dispute.reason are plain str)
    dispute = recorded("dispute_retrieved.json")
    dispute["status"] = "open"
    (error,) = shape_errors(dispute)
    assert error.startswith("body.status: 'open' is not one of ('appeal_needs_response',")
    assert "'needs_response'" in error and "'won'" in error


def test_nested_objects_are_checked_through_their_sdk_classes() -> None:
    body = recorded("offsession_authentication_required.json")
    body["error"]["payment_intent"]["last_payment_error"]["decline_reason"] = "x"
    body["error"]["payment_intent"]["status"] = "declined"
    errors = shape_errors(body)
    assert "body.error.payment_intent.last_payment_error.decline_reason: not a field of" \
           " PaymentIntent.LastPaymentError" in errors
    assert any(error.startswith("body.error.payment_intent.status: 'declined' is not one of")
               for error in errors)
    assert len(errors) == 2


def test_an_error_body_is_held_to_what_the_sdks_errors_read() -> None:
    body = recorded("saved_card_insufficient_funds.json")
    body["error"]["reason"] = "insufficient_funds"
    body["error"]["payment_intent"]["amount"] = "48.00"
    body["request_id"] = "req_1"
    assert sorted(shape_errors(body)) == [
        "body.error.payment_intent.amount: '48.00' is not a int",
        "body.error.reason: not a field of ErrorObject",
        "body.request_id: not a field of an error response"]


def test_an_events_object_is_checked_as_the_object_it_names() -> None:
    event = recorded("events/charge.dispute.created.json")
    event["data"]["object"]["state"] = "open"
    event["data"]["object"]["status"] = "open"
    errors = shape_errors(event)
    assert errors[0].startswith("body.data.object.status: 'open' is not one of (")
    assert errors[1] == "body.data.object.state: not a field of Dispute"
    assert len(errors) == 2


def test_a_search_result_holds_its_items_to_their_own_class() -> None:
    found = recorded("search_by_intent_key.json")
    found["data"][0]["charges"] = []
    found["total"] = 1
    assert shape_errors(found) == ["body.data[0].charges: not a field of PaymentIntent",
                                   "body.total: not a field of SearchResultObject"]


def test_a_placeholder_left_in_an_enum_field_fails() -> None:
    text = (RECORDINGS / "dispute_retrieved.json").read_text("utf-8")
    method = json.loads(text)["exchanges"][2]["response"]["body"]
    (error,) = shape_errors(method)
    assert error.startswith("body.type: '{method_type}' is not one of (")


def test_an_object_name_the_sdk_does_not_know_is_named() -> None:
    refund = recorded("refund_pending_then_failed.json")
    refund["object"] = "refund_request"
    refund["amount"] = 18.0
    assert shape_errors(refund) == ["body.object: 'refund_request' names no Stripe object"]
    refund["object"] = "refund"
    assert shape_errors(refund) == ["body.amount: 18.0 is not a int"]
