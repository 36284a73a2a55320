"""The assembled registry of personal data: every capability's holdings, the account
first, and the tables that hold none. The export, "Your data" and erasure run from it."""

from __future__ import annotations

from collections.abc import Mapping

from smartscheduling.accounts.personal_data import HOLDINGS as ACCOUNTS
from smartscheduling.audit.personal_data import HOLDINGS as AUDIT
from smartscheduling.complaints.personal_data import HOLDINGS as COMPLAINTS
from smartscheduling.consent.personal_data import HOLDINGS as CONSENT
from smartscheduling.mail.personal_data import HOLDINGS as MAIL
from smartscheduling.personal_data import Registry
from smartscheduling.policies.personal_data import HOLDINGS as POLICIES
from smartscheduling.scheduling.personal_data import HOLDINGS as SCHEDULING
from smartscheduling.staff.personal_data import HOLDINGS as STAFF

#: Tables that are no holding, each with the reason. Every table is either a holding or
#: listed here: a new table must be decided about (the registry test enforces it).
NOT_PERSONAL: Mapping[str, str] = {
    "alembic_version": "the database schema's revision",
    "store_item": (
        "sessions (a user id under a digest key, gone within 12 hours and deleted at closure) and other "
        "short-lived caches: nothing kept, nothing to export"
    ),
    "page_view_count": "page views per day and page, counted without any trace of who viewed them",
    "throttle_counter": "attempt counters keyed by a keyed digest, never an address or name; gone within the hour",
    "policy_campaign": (
        "the progress of a policy-change mailing: counts and a position in the list of accounts; "
        "the e-mails themselves are in the outbox"
    ),
    "processor": "the companies that process data for us, published in the processor register",
    "business": "the business's own name, contact details and booking rules (no client, no staff member)",
    "business_day": "the days the business opens or closes against its usual calendar, with a note for staff",
    "offering": "the services the business offers: names, durations, prices; who performs them is in offering_staff",
    "complaint_number": "the last privacy-complaint reference number given in each year",
}

REGISTRY = Registry(
    holdings=(*ACCOUNTS, *CONSENT, *AUDIT, *MAIL, *POLICIES, *SCHEDULING, *STAFF, *COMPLAINTS),
    not_personal=NOT_PERSONAL,
)
