"""What of a document goes to the platform, and how, per Mews generation.

The outbox holds one ``document`` row per document (``payload``) until it is delivered;
the row is then deleted and the database wiped (agent.runtime.store), so the document
lives on disk only while the platform has not taken it.

Sent: the document's type, number, expiry and issuing country (alpha-2, when it has
one), and on the customer the nationality (alpha-2, when it has one) and birth date.
Never sent: names (the booking has them), sex, optional/personal-number fields.

- today's generation: ``customers/update`` (fields left out stay as they are) with
  ``NationalityCode`` and ``BirthDate``; then ``identityDocuments/update`` of the
  customer's document of that type, or ``identityDocuments/add``.
- the seed generation: ``customers/getAll`` then ``customers/update`` with every field
  the platform holds (the seed clears what is left out) plus ``NationalityCode``,
  ``BirthDateUtc`` and ``Passport`` (the seed's customer has no other document field).
"""

from __future__ import annotations

from typing import Any

from agent.documents.mrz import IdentityDocument
from agent.mews.errors import NotFound

__all__ = ["payload", "deliver"]


def payload(doc: IdentityDocument, customer_id: str) -> dict:
    """The outbox row for ``doc`` on ``customer_id`` (only what the platform is sent)."""
    out: dict[str, Any] = {"CustomerId": customer_id, "Type": doc.type, "Number": doc.number,
                           "ExpirationDate": doc.expiry.isoformat(), "BirthDate": doc.birth_date.isoformat()}
    if doc.issuing_country:
        out["IssuingCountryCode"] = doc.issuing_country
    if doc.nationality:
        out["NationalityCode"] = doc.nationality
    return out


def deliver(client, row: dict) -> None:
    """Send one document row; Mews errors propagate (the outbox retries or dead-letters)."""
    if getattr(client, "current", False):
        _today(client, row)
    else:
        _seed(client, row)


def _today(client, row: dict) -> None:
    cid = row["CustomerId"]
    update = {"CustomerId": cid, "BirthDate": row.get("BirthDate")}
    if row.get("NationalityCode"):
        update["NationalityCode"] = row["NationalityCode"]
    client.call("customers/update", {k: v for k, v in update.items() if v})
    found = client.call("identityDocuments/getAll", {"CustomerIds": [cid], "Types": [row["Type"]],
                                                     "Limitation": {"Count": 10}})
    docs = [d for d in (found.get("IdentityDocuments") or []) if isinstance(d, dict) and d.get("Id")
            and d.get("Type") in (None, row["Type"])]
    if docs:
        client.call("identityDocuments/update", {"IdentityDocuments": [{
            "Id": docs[0]["Id"], "Number": {"Value": row["Number"]},
            "ExpirationDate": {"Value": row["ExpirationDate"]}}]})
        return
    doc = {"CustomerId": cid, "Type": row["Type"], "Number": row["Number"], "ExpirationDate": row["ExpirationDate"]}
    if row.get("IssuingCountryCode"):
        doc["IssuingCountryCode"] = row["IssuingCountryCode"]
    client.call("identityDocuments/add", {"IdentityDocuments": [doc]})


def _seed(client, row: dict) -> None:
    customers = client.get_customers([row["CustomerId"]])
    if not customers:
        raise NotFound("customers/getAll: the document's customer does not exist", status=404)
    changes: dict[str, Any] = {"BirthDateUtc": f"{row['BirthDate']}T00:00:00Z",
                               "Passport": {"Number": row["Number"], "Expiration": row["ExpirationDate"]}}
    if row.get("NationalityCode"):
        changes["NationalityCode"] = row["NationalityCode"]
    client.update_customer_fields(customers[0], changes)
