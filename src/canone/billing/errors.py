"""The billing core's errors.

    BillingError
    ├── InvalidField      a value is wrong; names the field and says what is allowed
    ├── CatalogError      a catalog file has problems; lists every one with its location
    └── DataFileError     a VAT rates or seller file has problems; lists them the same way

The services add their own subclasses of BillingError; the web and CLI layers map the tree
once to problem details and exit codes.
"""

from __future__ import annotations


class BillingError(Exception):
    """Base of every error the billing rules raise."""


class InvalidField(BillingError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

    def under(self, prefix: str) -> InvalidField:
        """The same error with its field named inside `prefix` (e.g. `target.seats`)."""
        return InvalidField(f"{prefix}.{self.field}" if prefix else self.field, self.message)


class CatalogError(BillingError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class DataFileError(BillingError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems
