"""The operations each platform generation speaks, with their required fields (the CLI checks them)."""

from __future__ import annotations

SIGN_IN = "app/signIn"
# The seed documents' operations -> their own required fields (tokens and Client are added by the client).
SEED_OPERATIONS: dict[str, tuple[str, ...]] = {
    SIGN_IN: (),
    "spaces/getAll": (),
    "resources/getAll": (),  # newer platforms name spaces resources
    "reservations/getAll": ("StartUtc", "EndUtc"),
    "reservations/getAll/2023-06-06": ("Limitation",),
    "customers/getAll": ("Limitation",),
    "reservations/start": ("ReservationId",),
    "reservations/process": ("ReservationId",),
    "reservations/cancel": ("ReservationId", "ChargeCancellationFee", "Notes"),
    "customers/getBalance": ("CustomerId",),
    "customers/getOpenItems": ("CustomerIds",),
    "customers/update": ("CustomerId", "LastName"),
    "payments/addCreditCard": ("CustomerId", "Amount", "CreditCard"),
    "tasks/add": ("Name", "DeadlineUtc"),
    "commands/getAllActive": (),
    "commands/update": ("CommandId", "State"),
}
# Today's published Connector API: the operations the agent uses, with their required fields.
CURRENT_OPERATIONS: dict[str, tuple[str, ...]] = {
    "services/getAll": ("Limitation",),
    "resources/getAll": ("Extent", "Limitation"),
    "resourceCategories/getAll": ("ServiceIds", "Limitation"),
    "resourceCategoryAssignments/getAll": ("ResourceCategoryIds", "Limitation"),
    "reservations/getAll/2023-06-06": ("Limitation",),
    "reservations/start": ("ReservationId",),
    "reservations/process": ("ReservationId",),
    "reservations/cancel": ("ReservationIds",),
    "customers/getAll": ("Extent", "Limitation"),
    "customers/update": ("CustomerId",),
    "orderItems/getAll": ("Limitation",),
    "payments/getAll": ("Limitation",),
    "payments/addExternal": ("AccountId", "Amount"),
    "payments/addCreditCard": ("CustomerId", "Amount", "CreditCard"),  # deprecated 2026-07-29
    "identityDocuments/getAll": ("CustomerIds", "Limitation"),
    "identityDocuments/add": ("IdentityDocuments",),
    "identityDocuments/update": ("IdentityDocuments",),
    "tasks/add": ("Name", "DeadlineUtc"),
    "commands/getAllActive": (),
    "commands/getAllByIds": ("CommandIds",),
    "commands/update": ("CommandId", "State"),
}
# In no published file today (the README says which replaced them).
RETIRED = {SIGN_IN: "sign-in is a seed-generation feature: today a hotel hands out a ClientToken and an AccessToken",
           "spaces/getAll": "retired in 2020: use resources/getAll",
           "customers/getBalance": "retired in 2016: use orderItems/getAll and payments/getAll",
           "reservations/getAll": "ver 2017-04-12, discontinued on production 2025-05-10: use "
                                  "reservations/getAll/2023-06-06"}
OPERATIONS = SEED_OPERATIONS  # kept for callers of the seed table


def operations(generation: str) -> dict[str, tuple[str, ...]]:
    """The operations a generation speaks (``current`` or ``seed``) -> their required fields."""
    return CURRENT_OPERATIONS if generation == "current" else SEED_OPERATIONS
