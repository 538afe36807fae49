"""FatturaPA electronic invoices: the builder, the totals check SDI makes, the folder outbox
an SDI intermediary collects from, and a fixed table of exchange rates."""
