"""Imports every capability's models so the metadata (and Alembic) sees all tables."""

from smartscheduling.accounts.models import AccountToken, User
from smartscheduling.audit.models import AuditEvent
from smartscheduling.complaints.models import Complaint, ComplaintEvent, ComplaintNumber
from smartscheduling.consent.models import ConsentRecord, PageViewCount
from smartscheduling.mail.models import OutboxMessage
from smartscheduling.policies.models import PolicyAcknowledgement, PolicyCampaign, PolicyVersion
from smartscheduling.processors.models import Processor
from smartscheduling.scheduling.models import (
    Appointment,
    Business,
    BusinessDay,
    Offering,
    OfferingStaff,
    StaffException,
    StaffProfile,
    WorkingHours,
)
from smartscheduling.security.models import StoreItem, ThrottleCounter
from smartscheduling.staff.models import ClientNote

__all__ = (
    "AccountToken",
    "Appointment",
    "AuditEvent",
    "Business",
    "BusinessDay",
    "ClientNote",
    "Complaint",
    "ComplaintEvent",
    "ComplaintNumber",
    "ConsentRecord",
    "Offering",
    "OfferingStaff",
    "OutboxMessage",
    "PageViewCount",
    "PolicyAcknowledgement",
    "PolicyCampaign",
    "PolicyVersion",
    "Processor",
    "StaffException",
    "StaffProfile",
    "StoreItem",
    "ThrottleCounter",
    "User",
    "WorkingHours",
)
