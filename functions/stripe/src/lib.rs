// Generated once by `cargo xtask new` from templates/stripe. This file is yours: hookline never overwrites it.
//! Stripe webhook handlers for `stripe`: one function per event type, routed by `type`.
//!
//! The ingest function has already verified the `Stripe-Signature`; `delivery.body()` holds the
//! exact bytes Stripe sent. Stripe delivers at least once and not always in order; hookline runs
//! the handler at most once to completion per `event.id` (`delivery.dedup_id()`)
//! (README, "Exactly-once effects"). Return an error to have the
//! message retried; after the queue's `max_receive_count` it moves to the dead-letter queue.

use std::collections::HashMap;

use hookline::{BoxError, Delivery};
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// A Stripe event: the envelope around the object that changed.
#[derive(Debug, Deserialize)]
pub struct Event {
    /// `evt_...`: the same on every retry of this event.
    pub id: String,
    /// The event type, e.g. `invoice.paid`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Unix seconds when the event happened.
    pub created: i64,
    /// Live or test mode.
    pub livemode: bool,
    /// The API version the object is rendered in.
    #[serde(default)]
    pub api_version: Option<String>,
    /// The object, and the changed attributes' old values for `*.updated` events.
    pub data: EventData,
}

/// `data` of an event.
#[derive(Debug, Deserialize)]
pub struct EventData {
    /// The object as of the event.
    pub object: serde_json::Value,
    /// Previous values of changed attributes (`*.updated` events).
    #[serde(default)]
    pub previous_attributes: Option<serde_json::Value>,
}

impl Event {
    /// The event's object as `T`.
    pub fn object<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        T::deserialize(&self.data.object)
    }
}

/// A PaymentIntent (the fields handlers commonly need; the raw body keeps everything).
#[derive(Debug, Deserialize)]
pub struct PaymentIntent {
    /// `pi_...`.
    pub id: String,
    /// Amount intended, in the currency's smallest unit.
    pub amount: i64,
    /// Amount received.
    #[serde(default)]
    pub amount_received: i64,
    /// ISO currency code, lowercase.
    pub currency: String,
    /// `cus_...`, if any.
    pub customer: Option<String>,
    /// `succeeded`, `requires_payment_method`, ...
    pub status: String,
    /// Why the last attempt failed.
    #[serde(default)]
    pub last_payment_error: Option<PaymentError>,
    /// Your metadata, e.g. an order id.
    #[serde(default)]
    pub metadata: HashMap<String, String>,
}

/// Why a payment attempt failed.
#[derive(Debug, Deserialize)]
pub struct PaymentError {
    /// e.g. `card_declined`.
    pub code: Option<String>,
    /// e.g. `insufficient_funds`.
    #[serde(default)]
    pub decline_code: Option<String>,
    /// A message for the customer.
    pub message: Option<String>,
}

/// A Checkout Session.
#[derive(Debug, Deserialize)]
pub struct CheckoutSession {
    /// `cs_...`.
    pub id: String,
    /// `payment`, `subscription` or `setup`.
    pub mode: String,
    /// `paid`, `unpaid` or `no_payment_required`.
    pub payment_status: String,
    /// Total in the smallest currency unit.
    pub amount_total: Option<i64>,
    /// ISO currency code.
    pub currency: Option<String>,
    /// `cus_...`, if any.
    pub customer: Option<String>,
    /// Your reference passed when creating the session.
    pub client_reference_id: Option<String>,
    /// Who paid.
    #[serde(default)]
    pub customer_details: Option<CustomerDetails>,
    /// `pi_...` in payment mode.
    #[serde(default)]
    pub payment_intent: Option<String>,
    /// `sub_...` in subscription mode.
    #[serde(default)]
    pub subscription: Option<String>,
}

/// The customer's details collected by Checkout.
#[derive(Debug, Deserialize)]
pub struct CustomerDetails {
    /// Email address.
    pub email: Option<String>,
    /// Name.
    pub name: Option<String>,
}

/// An Invoice.
#[derive(Debug, Deserialize)]
pub struct Invoice {
    /// `in_...`.
    pub id: String,
    /// `cus_...`.
    pub customer: Option<String>,
    /// The customer's email at finalization.
    pub customer_email: Option<String>,
    /// Invoice number shown to the customer.
    pub number: Option<String>,
    /// Amount due.
    pub amount_due: i64,
    /// Amount paid.
    pub amount_paid: i64,
    /// ISO currency code.
    pub currency: String,
    /// `draft`, `open`, `paid`, `uncollectible`, `void`.
    pub status: Option<String>,
    /// How many payment attempts were made.
    #[serde(default)]
    pub attempt_count: u32,
    /// The customer-facing invoice page.
    pub hosted_invoice_url: Option<String>,
}

/// A Subscription.
#[derive(Debug, Deserialize)]
pub struct Subscription {
    /// `sub_...`.
    pub id: String,
    /// `cus_...`.
    pub customer: String,
    /// `active`, `past_due`, `canceled`, `trialing`, ...
    pub status: String,
    /// Whether it ends at the end of the period.
    #[serde(default)]
    pub cancel_at_period_end: bool,
    /// What is subscribed to.
    pub items: List<SubscriptionItem>,
}

/// A Stripe list object.
#[derive(Debug, Deserialize)]
pub struct List<T> {
    /// The entries.
    pub data: Vec<T>,
}

/// One price of a subscription.
#[derive(Debug, Deserialize)]
pub struct SubscriptionItem {
    /// `si_...`.
    pub id: String,
    /// How many.
    pub quantity: Option<u64>,
    /// The price.
    pub price: Price,
}

/// A Price.
#[derive(Debug, Deserialize)]
pub struct Price {
    /// `price_...`.
    pub id: String,
    /// Per unit, in the smallest currency unit.
    pub unit_amount: Option<i64>,
    /// ISO currency code.
    pub currency: String,
}

/// A Charge.
#[derive(Debug, Deserialize)]
pub struct Charge {
    /// `ch_...`.
    pub id: String,
    /// Amount charged.
    pub amount: i64,
    /// Amount refunded so far.
    pub amount_refunded: i64,
    /// ISO currency code.
    pub currency: String,
    /// Fully refunded.
    pub refunded: bool,
    /// `pi_...`, if any.
    pub payment_intent: Option<String>,
}

/// Which handler took a delivery (what the tests check).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handled {
    /// `payment_intent.succeeded`.
    PaymentSucceeded,
    /// `payment_intent.payment_failed`.
    PaymentFailed,
    /// `checkout.session.completed`.
    CheckoutCompleted,
    /// `invoice.paid`.
    InvoicePaid,
    /// `invoice.payment_failed`.
    InvoicePaymentFailed,
    /// `customer.subscription.created`, `.updated`, `.deleted`.
    SubscriptionChanged,
    /// `charge.refunded`.
    ChargeRefunded,
    /// Any other type: logged and acknowledged.
    Unhandled,
}

/// The processor's entry point (see `src/bin/process.rs`).
pub async fn handle(delivery: Delivery) -> Result<(), BoxError> {
    dispatch(&delivery).await.map(|_| ())
}

/// Routes a delivery to the handler of its event type.
pub async fn dispatch(delivery: &Delivery) -> Result<Handled, BoxError> {
    let event: Event = delivery.json()?;
    match event.kind.as_str() {
        "payment_intent.succeeded" => payment_intent_succeeded(&event, event.object()?).await,
        "payment_intent.payment_failed" => payment_intent_failed(&event, event.object()?).await,
        "checkout.session.completed" => checkout_session_completed(&event, event.object()?).await,
        "invoice.paid" => invoice_paid(&event, event.object()?).await,
        "invoice.payment_failed" => invoice_payment_failed(&event, event.object()?).await,
        "customer.subscription.created"
        | "customer.subscription.updated"
        | "customer.subscription.deleted" => subscription_changed(&event, event.object()?).await,
        "charge.refunded" => charge_refunded(&event, event.object()?).await,
        _ => unhandled(&event).await,
    }
}

async fn payment_intent_succeeded(
    event: &Event,
    intent: PaymentIntent,
) -> Result<Handled, BoxError> {
    tracing::info!(event_id = %event.id, payment_intent = %intent.id, amount = intent.amount_received, currency = %intent.currency, order = ?intent.metadata.get("order_id"), "payment succeeded");
    // Your code: fulfil the order, once per event.id.
    Ok(Handled::PaymentSucceeded)
}

async fn payment_intent_failed(event: &Event, intent: PaymentIntent) -> Result<Handled, BoxError> {
    let reason = intent
        .last_payment_error
        .as_ref()
        .and_then(|e| e.decline_code.as_deref().or(e.code.as_deref()));
    tracing::warn!(event_id = %event.id, payment_intent = %intent.id, status = %intent.status, reason = ?reason, "payment failed");
    // Your code: tell the customer, retry with another payment method.
    Ok(Handled::PaymentFailed)
}

async fn checkout_session_completed(
    event: &Event,
    session: CheckoutSession,
) -> Result<Handled, BoxError> {
    let email = session
        .customer_details
        .as_ref()
        .and_then(|d| d.email.as_deref());
    tracing::info!(event_id = %event.id, session = %session.id, mode = %session.mode, payment_status = %session.payment_status, amount = ?session.amount_total, email = ?email, reference = ?session.client_reference_id, "checkout completed");
    // Your code: provision what was bought (check payment_status == "paid" first).
    Ok(Handled::CheckoutCompleted)
}

async fn invoice_paid(event: &Event, invoice: Invoice) -> Result<Handled, BoxError> {
    tracing::info!(event_id = %event.id, invoice = %invoice.id, number = ?invoice.number, amount_paid = invoice.amount_paid, currency = %invoice.currency, "invoice paid");
    // Your code: extend access for the billing period.
    Ok(Handled::InvoicePaid)
}

async fn invoice_payment_failed(event: &Event, invoice: Invoice) -> Result<Handled, BoxError> {
    tracing::warn!(event_id = %event.id, invoice = %invoice.id, amount_due = invoice.amount_due, attempts = invoice.attempt_count, "invoice payment failed");
    // Your code: dunning — email the customer the hosted_invoice_url.
    Ok(Handled::InvoicePaymentFailed)
}

async fn subscription_changed(
    event: &Event,
    subscription: Subscription,
) -> Result<Handled, BoxError> {
    let prices: Vec<&str> = subscription
        .items
        .data
        .iter()
        .map(|item| item.price.id.as_str())
        .collect();
    tracing::info!(event_id = %event.id, kind = %event.kind, subscription = %subscription.id, customer = %subscription.customer, status = %subscription.status, cancel_at_period_end = subscription.cancel_at_period_end, prices = ?prices, "subscription changed");
    // Your code: mirror the subscription's status and prices into your database.
    Ok(Handled::SubscriptionChanged)
}

async fn charge_refunded(event: &Event, charge: Charge) -> Result<Handled, BoxError> {
    tracing::info!(event_id = %event.id, charge = %charge.id, refunded = charge.amount_refunded, of = charge.amount, currency = %charge.currency, full = charge.refunded, "charge refunded");
    // Your code: reverse what the payment granted.
    Ok(Handled::ChargeRefunded)
}

async fn unhandled(event: &Event) -> Result<Handled, BoxError> {
    tracing::info!(event_id = %event.id, kind = %event.kind, "event type not handled; acknowledged");
    Ok(Handled::Unhandled)
}

#[cfg(test)]
mod tests {
    use hookline::{Delivery, Envelope};

    use super::*;

    fn delivery(body: &[u8]) -> Delivery {
        Delivery::new(
            Envelope::new("stripe", body.to_vec()).with_header("content-type", "application/json"),
        )
    }

    async fn handled(body: &[u8]) -> Handled {
        dispatch(&delivery(body)).await.unwrap()
    }

    #[tokio::test]
    async fn payments_are_routed() {
        assert_eq!(
            handled(include_bytes!("../fixtures/payment_intent.succeeded.json")).await,
            Handled::PaymentSucceeded
        );
        assert_eq!(
            handled(include_bytes!(
                "../fixtures/payment_intent.payment_failed.json"
            ))
            .await,
            Handled::PaymentFailed
        );
        assert_eq!(
            handled(include_bytes!("../fixtures/charge.refunded.json")).await,
            Handled::ChargeRefunded
        );
    }

    #[tokio::test]
    async fn checkout_and_invoices_are_routed() {
        assert_eq!(
            handled(include_bytes!(
                "../fixtures/checkout.session.completed.json"
            ))
            .await,
            Handled::CheckoutCompleted
        );
        assert_eq!(
            handled(include_bytes!("../fixtures/invoice.paid.json")).await,
            Handled::InvoicePaid
        );
        assert_eq!(
            handled(include_bytes!("../fixtures/invoice.payment_failed.json")).await,
            Handled::InvoicePaymentFailed
        );
    }

    #[tokio::test]
    async fn subscription_changes_are_routed() {
        for body in [
            &include_bytes!("../fixtures/customer.subscription.created.json")[..],
            &include_bytes!("../fixtures/customer.subscription.updated.json")[..],
            &include_bytes!("../fixtures/customer.subscription.deleted.json")[..],
        ] {
            assert_eq!(handled(body).await, Handled::SubscriptionChanged);
        }
    }

    #[tokio::test]
    async fn sample_objects_parse_into_their_types() {
        let event: Event =
            serde_json::from_slice(include_bytes!("../fixtures/payment_intent.succeeded.json"))
                .unwrap();
        let intent: PaymentIntent = event.object().unwrap();
        assert!(intent.id.starts_with("pi_") && intent.amount > 0 && intent.status == "succeeded");
        let event: Event = serde_json::from_slice(include_bytes!(
            "../fixtures/customer.subscription.updated.json"
        ))
        .unwrap();
        assert!(event.data.previous_attributes.is_some());
        let subscription: Subscription = event.object().unwrap();
        assert!(!subscription.items.data.is_empty());
    }

    #[tokio::test]
    async fn other_event_types_are_acknowledged() {
        let body = br#"{"id":"evt_1","object":"event","type":"customer.created","created":1764400000,"livemode":false,"data":{"object":{"id":"cus_1"}}}"#;
        assert_eq!(handled(body).await, Handled::Unhandled);
    }

    #[tokio::test]
    async fn a_body_that_is_not_a_stripe_event_fails_so_it_is_retried() {
        assert!(dispatch(&delivery(b"{\"hello\":1}")).await.is_err());
        let wrong_object = br#"{"id":"evt_1","type":"invoice.paid","created":1,"livemode":false,"data":{"object":{"id":"in_1"}}}"#;
        assert!(dispatch(&delivery(wrong_object)).await.is_err());
    }
}
