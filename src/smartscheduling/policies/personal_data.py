"""What the policy documents hold about a person (see ``smartscheduling.personal_data``):
which versions a person accepted or acknowledged, and which a staff member drafted or
published."""

from __future__ import annotations

from smartscheduling.personal_data import INTERNAL, YOUR_ACCOUNT_ID, Erasure, Holding
from smartscheduling.policies.models import PolicyAcknowledgement, PolicyVersion

THE_DOCUMENT = "the policy's own text and details, public once published"

HOLDINGS = (
    Holding(
        key="policy_acknowledgements",
        title="Policies you accepted",
        purpose="To prove which version of the privacy policy and notices you accepted, and when.",
        model=PolicyAcknowledgement,
        owners=("user_id",),
        shown=("document", "version", "context", "acknowledged_at"),
        withheld={"id": INTERNAL, "user_id": YOUR_ACCOUNT_ID, "sa_orm_sentinel": INTERNAL},
        erasure=Erasure.DELETE,
        order_by="acknowledged_at",
    ),
    Holding(
        key="policy_versions",
        title="Policy versions you drafted or published (staff)",
        purpose="To show who is accountable for each published version of our policies.",
        model=PolicyVersion,
        owners=("created_by_id", "published_by_id"),
        shown=("kind", "number", "created_at", "published_at"),
        withheld={
            "id": INTERNAL,
            "created_by_id": "your account's id, as the version's author",
            "published_by_id": "your account's id, as the version's publisher",
            "text": THE_DOCUMENT,
            "summary": THE_DOCUMENT,
            "significant": THE_DOCUMENT,
            "effective_on": THE_DOCUMENT,
            "updated_at": INTERNAL,
            "sa_orm_sentinel": INTERNAL,
        },
        erasure=Erasure.ANONYMIZE,
        kept_because="Published policies and their history stay public; only the link to you is removed.",
        order_by="created_at",
    ),
)
