"""Adapters that implement the ports of `canone.services.ports` against the outside world:

payments      SandboxGateway: the sandbox card network (PaymentGateway)
mail          SmtpMailer, ConsoleMailer, RecordingMailer, mailer_from_url (Mailer)
inbound_mail  InboundMailHandler, serve_inbound: email from a primary admin → a request
invoice_pdf   PdfInvoiceRenderer (InvoiceRenderer)
webhooks      sign, verify, HttpWebhookSender, next_attempt_delay
outbox        deliver_notifications, deliver_webhooks, Worker: the `canone worker` passes
email_templates  render_email: each notification kind in English and Italian
email_payments   the payment emails' builders (failed, to authenticate, change declined)
email_words   Format, EmailContext: formatting, names and the closing lines emails share
inbound_requests listen: `canone mail listen`, a primary admin's email → a change request
"""
