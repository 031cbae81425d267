"""The one catalog of ServiceTitan facts: endpoints, methods, scopes, query parameters and request bodies.

Everything else reads it: the connection matrix checks (``readiness.access.matrix``), the client
(``readiness.servicetitan.client``), the simulator (``readiness.sandbox.simulator``), the protocol
(``readiness.sandbox.protocol``), the product's envelopes (``readiness.sync.handoff``) and the data
boundaries. ``KNOWN_ENDPOINTS`` is every published endpoint the matrix may name; ``OPERATIONS`` are the
calls the product makes (each one of ``KNOWN_ENDPOINTS``, its scope looked up there); their request and
response bodies are ServiceTitan's published schemas, shipped as package data (``readiness.servicetitan.openapi``).

The endpoint list is a small excerpt, taken once from ServiceTitan's published OpenAPI documents and their scope reference
(scopes.tsv) for the resources this product could ever touch; the suite never needs those documents at
run time. ``source`` says where the endpoint is published: ``openapi`` (in the module's OpenAPI document)
or ``scopes.tsv`` (only in the generated scope reference, e.g. marketing-ads posts newer than the
published marketing-ads document). To admit a new endpoint, copy its row from the published documents.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any, NamedTuple

from openapi_schema_validator import OAS30WriteValidator, oas30_format_checker

from readiness.servicetitan import openapi

# (method, path as called, scope, source)
KNOWN_ENDPOINTS: tuple[tuple[str, str, str, str], ...] = (
    ('GET', '/accounting/v2/tenant/{tenant}/export/invoices', 'tn.acc.invoices:r', 'openapi'),
    ('GET', '/accounting/v2/tenant/{tenant}/export/payments', 'tn.acc.payments:r', 'openapi'),
    ('GET', '/accounting/v2/tenant/{tenant}/invoices', 'tn.acc.invoices:r', 'openapi'),
    ('POST', '/accounting/v2/tenant/{tenant}/invoices', 'tn.acc.invoices:w', 'openapi'),
    ('GET', '/accounting/v2/tenant/{tenant}/invoices/custom-fields', 'tn.acc.invoices:r', 'openapi'),
    ('PATCH', '/accounting/v2/tenant/{tenant}/invoices/custom-fields', 'tn.acc.invoices:w', 'openapi'),
    ('POST', '/accounting/v2/tenant/{tenant}/invoices/markasexported', 'tn.acc.invoices:w', 'openapi'),
    ('PATCH', '/accounting/v2/tenant/{tenant}/invoices/{id}', 'tn.acc.invoices:w', 'openapi'),
    ('PATCH', '/accounting/v2/tenant/{tenant}/invoices/{invoiceId}/items', 'tn.acc.invoices:w', 'openapi'),
    ('DELETE', '/accounting/v2/tenant/{tenant}/invoices/{invoiceId}/items/{itemId}', 'tn.acc.invoices:w', 'openapi'),
    ('GET', '/accounting/v2/tenant/{tenant}/invoices/{invoiceId}/tasks', 'tn.acc.invoices:r', 'scopes.tsv'),
    ('POST', '/accounting/v2/tenant/{tenant}/invoices/{invoiceId}/tasks', 'tn.acc.invoices:w', 'scopes.tsv'),
    ('PATCH', '/accounting/v2/tenant/{tenant}/invoices/{invoiceId}/tasks/{taskId}', 'tn.acc.invoices:w', 'scopes.tsv'),
    ('GET', '/accounting/v2/tenant/{tenant}/payments', 'tn.acc.payments:r', 'openapi'),
    ('GET', '/accounting/v2/tenant/{tenant}/payments/custom-fields', 'tn.acc.payments:r', 'openapi'),
    ('PATCH', '/accounting/v2/tenant/{tenant}/payments/custom-fields', 'tn.acc.payments:w', 'openapi'),
    ('POST', '/accounting/v2/tenant/{tenant}/payments/status', 'tn.acc.payments:w', 'openapi'),
    ('PATCH', '/accounting/v2/tenant/{tenant}/payments/{id}', 'tn.acc.payments:w', 'openapi'),
    ('GET', '/crm/v2/tenant/{tenant}/booking-provider/{booking_provider}/bookings', 'tn.crm.bookings:r', 'openapi'),
    ('POST', '/crm/v2/tenant/{tenant}/booking-provider/{booking_provider}/bookings', 'tn.crm.bookings:w', 'openapi'),
    ('GET', '/crm/v2/tenant/{tenant}/booking-provider/{booking_provider}/bookings/{id}', 'tn.crm.bookings:r', 'openapi'),
    ('PATCH', '/crm/v2/tenant/{tenant}/booking-provider/{booking_provider}/bookings/{id}', 'tn.crm.bookings:w', 'openapi'),
    ('GET', '/crm/v2/tenant/{tenant}/booking-provider/{booking_provider}/bookings/{id}/contacts', 'tn.crm.bookings:r', 'openapi'),
    ('POST', '/crm/v2/tenant/{tenant}/booking-provider/{booking_provider}/bookings/{id}/contacts', 'tn.crm.bookings:w', 'openapi'),
    ('DELETE', '/crm/v2/tenant/{tenant}/booking-provider/{booking_provider}/bookings/{id}/contacts/{contactId}', 'tn.crm.bookings:w', 'openapi'),
    ('PATCH', '/crm/v2/tenant/{tenant}/booking-provider/{booking_provider}/bookings/{id}/contacts/{contactId}', 'tn.crm.bookings:w', 'openapi'),
    ('POST', '/crm/v2/tenant/{tenant}/booking-provider/{booking_provider}/bookings/{id}/dismiss', 'tn.crm.bookings:w', 'scopes.tsv'),
    ('GET', '/crm/v2/tenant/{tenant}/bookings', 'tn.crm.bookings:r', 'openapi'),
    ('GET', '/crm/v2/tenant/{tenant}/bookings/{id}', 'tn.crm.bookings:r', 'openapi'),
    ('GET', '/crm/v2/tenant/{tenant}/bookings/{id}/contacts', 'tn.crm.bookings:r', 'openapi'),
    ('GET', '/crm/v2/tenant/{tenant}/customers', 'tn.crm.customers:r', 'openapi'),
    ('POST', '/crm/v2/tenant/{tenant}/customers', 'tn.crm.customers:w', 'openapi'),
    ('GET', '/crm/v2/tenant/{tenant}/customers/contacts', 'tn.crm.customers:r', 'openapi'),
    ('GET', '/crm/v2/tenant/{tenant}/customers/custom-fields', 'tn.crm.customers:r', 'openapi'),
    ('GET', '/crm/v2/tenant/{tenant}/customers/{id}', 'tn.crm.customers:r', 'openapi'),
    ('PATCH', '/crm/v2/tenant/{tenant}/customers/{id}', 'tn.crm.customers:w', 'openapi'),
    ('GET', '/crm/v2/tenant/{tenant}/customers/{id}/contacts', 'tn.crm.customers:r', 'openapi'),
    ('POST', '/crm/v2/tenant/{tenant}/customers/{id}/contacts', 'tn.crm.customers:w', 'openapi'),
    ('DELETE', '/crm/v2/tenant/{tenant}/customers/{id}/contacts/{contactId}', 'tn.crm.customers:w', 'openapi'),
    ('PATCH', '/crm/v2/tenant/{tenant}/customers/{id}/contacts/{contactId}', 'tn.crm.customers:w', 'openapi'),
    ('GET', '/crm/v2/tenant/{tenant}/customers/{id}/notes', 'tn.crm.customers:r', 'openapi'),
    ('POST', '/crm/v2/tenant/{tenant}/customers/{id}/notes', 'tn.crm.customers:w', 'openapi'),
    ('DELETE', '/crm/v2/tenant/{tenant}/customers/{id}/notes/{noteId}', 'tn.crm.customers:w', 'openapi'),
    ('DELETE', '/crm/v2/tenant/{tenant}/customers/{id}/tags/{tagTypeId}', 'tn.crm.customers:w', 'openapi'),
    ('POST', '/crm/v2/tenant/{tenant}/customers/{id}/tags/{tagTypeId}', 'tn.crm.customers:w', 'openapi'),
    ('GET', '/crm/v2/tenant/{tenant}/export/bookings', 'tn.crm.bookings:r', 'openapi'),
    ('GET', '/crm/v2/tenant/{tenant}/export/customers', 'tn.crm.customers:r', 'openapi'),
    ('GET', '/crm/v2/tenant/{tenant}/export/customers/contacts', 'tn.crm.customers:r', 'openapi'),
    ('GET', '/crm/v2/tenant/{tenant}/export/leads', 'tn.crm.leads:r', 'openapi'),
    ('GET', '/crm/v2/tenant/{tenant}/export/locations', 'tn.crm.locations:r', 'openapi'),
    ('GET', '/crm/v2/tenant/{tenant}/export/locations/contacts', 'tn.crm.locations:r', 'openapi'),
    ('GET', '/crm/v2/tenant/{tenant}/leads', 'tn.crm.leads:r', 'openapi'),
    ('POST', '/crm/v2/tenant/{tenant}/leads', 'tn.crm.leads:w', 'openapi'),
    ('POST', '/crm/v2/tenant/{tenant}/leads/form', 'tn.crm.leads:w', 'openapi'),
    ('GET', '/crm/v2/tenant/{tenant}/leads/{id}', 'tn.crm.leads:r', 'openapi'),
    ('PATCH', '/crm/v2/tenant/{tenant}/leads/{id}', 'tn.crm.leads:w', 'openapi'),
    ('POST', '/crm/v2/tenant/{tenant}/leads/{id}/dismiss', 'tn.crm.leads:w', 'openapi'),
    ('POST', '/crm/v2/tenant/{tenant}/leads/{id}/follow-up', 'tn.crm.leads:w', 'openapi'),
    ('GET', '/crm/v2/tenant/{tenant}/leads/{id}/notes', 'tn.crm.leads:r', 'openapi'),
    ('POST', '/crm/v2/tenant/{tenant}/leads/{id}/notes', 'tn.crm.leads:w', 'openapi'),
    ('GET', '/crm/v2/tenant/{tenant}/locations', 'tn.crm.locations:r', 'openapi'),
    ('POST', '/crm/v2/tenant/{tenant}/locations', 'tn.crm.locations:w', 'openapi'),
    ('GET', '/crm/v2/tenant/{tenant}/locations/contacts', 'tn.crm.locations:r', 'openapi'),
    ('GET', '/crm/v2/tenant/{tenant}/locations/custom-fields', 'tn.crm.locations:r', 'openapi'),
    ('GET', '/crm/v2/tenant/{tenant}/locations/{id}', 'tn.crm.locations:r', 'openapi'),
    ('PATCH', '/crm/v2/tenant/{tenant}/locations/{id}', 'tn.crm.locations:w', 'openapi'),
    ('GET', '/crm/v2/tenant/{tenant}/locations/{id}/contacts', 'tn.crm.locations:r', 'openapi'),
    ('POST', '/crm/v2/tenant/{tenant}/locations/{id}/contacts', 'tn.crm.locations:w', 'openapi'),
    ('DELETE', '/crm/v2/tenant/{tenant}/locations/{id}/contacts/{contactId}', 'tn.crm.locations:w', 'openapi'),
    ('PATCH', '/crm/v2/tenant/{tenant}/locations/{id}/contacts/{contactId}', 'tn.crm.locations:w', 'openapi'),
    ('GET', '/crm/v2/tenant/{tenant}/locations/{id}/notes', 'tn.crm.locations:r', 'openapi'),
    ('POST', '/crm/v2/tenant/{tenant}/locations/{id}/notes', 'tn.crm.locations:w', 'openapi'),
    ('DELETE', '/crm/v2/tenant/{tenant}/locations/{id}/notes/{noteId}', 'tn.crm.locations:w', 'openapi'),
    ('GET', '/crm/v2/tenant/{tenant}/locations/{id}/preferredtechnician', 'tn.crm.locations:r', 'scopes.tsv'),
    ('POST', '/crm/v2/tenant/{tenant}/locations/{id}/preferredtechnician/{preferredTechnicianId}', 'tn.crm.locations:w', 'scopes.tsv'),
    ('DELETE', '/crm/v2/tenant/{tenant}/locations/{id}/tags/{tagTypeId}', 'tn.crm.locations:w', 'openapi'),
    ('POST', '/crm/v2/tenant/{tenant}/locations/{id}/tags/{tagTypeId}', 'tn.crm.locations:w', 'openapi'),
    ('GET', '/dispatch/v2/tenant/{tenant}/zones', 'tn.dis.zones:r', 'openapi'),
    ('POST', '/dispatch/v2/tenant/{tenant}/zones', 'tn.dis.zones:w', 'scopes.tsv'),
    ('GET', '/dispatch/v2/tenant/{tenant}/zones/{id}', 'tn.dis.zones:r', 'openapi'),
    ('DELETE', '/dispatch/v2/tenant/{tenant}/zones/{zoneId}', 'tn.dis.zones:w', 'scopes.tsv'),
    ('PATCH', '/dispatch/v2/tenant/{tenant}/zones/{zoneId}', 'tn.dis.zones:w', 'scopes.tsv'),
    ('GET', '/jpm/v2/tenant/{tenant}/appointments', 'tn.jpm.appointments:r', 'openapi'),
    ('POST', '/jpm/v2/tenant/{tenant}/appointments', 'tn.jpm.appointments:w', 'openapi'),
    ('DELETE', '/jpm/v2/tenant/{tenant}/appointments/{id}', 'tn.jpm.appointments:w', 'openapi'),
    ('GET', '/jpm/v2/tenant/{tenant}/appointments/{id}', 'tn.jpm.appointments:r', 'openapi'),
    ('DELETE', '/jpm/v2/tenant/{tenant}/appointments/{id}/confirmation', 'tn.jpm.appointments:w', 'openapi'),
    ('PUT', '/jpm/v2/tenant/{tenant}/appointments/{id}/confirmation', 'tn.jpm.appointments:w', 'openapi'),
    ('DELETE', '/jpm/v2/tenant/{tenant}/appointments/{id}/hold', 'tn.jpm.appointments:w', 'openapi'),
    ('PUT', '/jpm/v2/tenant/{tenant}/appointments/{id}/hold', 'tn.jpm.appointments:w', 'openapi'),
    ('PATCH', '/jpm/v2/tenant/{tenant}/appointments/{id}/reschedule', 'tn.jpm.appointments:w', 'openapi'),
    ('PUT', '/jpm/v2/tenant/{tenant}/appointments/{id}/special-instructions', 'tn.jpm.appointments:w', 'openapi'),
    ('POST', '/jpm/v2/tenant/{tenant}/appointments/{id}/summaries', 'tn.jpm.appointments:w', 'scopes.tsv'),
    ('GET', '/jpm/v2/tenant/{tenant}/export/appointments', 'tn.jpm.appointments:r', 'openapi'),
    ('GET', '/jpm/v2/tenant/{tenant}/export/jobs', 'tn.jpm.jobs:r', 'openapi'),
    ('GET', '/jpm/v2/tenant/{tenant}/job-types', 'tn.jpm.jobtypes:r', 'openapi'),
    ('POST', '/jpm/v2/tenant/{tenant}/job-types', 'tn.jpm.jobtypes:w', 'openapi'),
    ('GET', '/jpm/v2/tenant/{tenant}/job-types/{id}', 'tn.jpm.jobtypes:r', 'openapi'),
    ('PATCH', '/jpm/v2/tenant/{tenant}/job-types/{id}', 'tn.jpm.jobtypes:w', 'openapi'),
    ('GET', '/jpm/v2/tenant/{tenant}/jobs', 'tn.jpm.jobs:r', 'openapi'),
    ('POST', '/jpm/v2/tenant/{tenant}/jobs', 'tn.jpm.jobs:w', 'openapi'),
    ('GET', '/jpm/v2/tenant/{tenant}/jobs/cancel-reasons', 'tn.jpm.jobs:r', 'openapi'),
    ('GET', '/jpm/v2/tenant/{tenant}/jobs/custom-fields', 'tn.jpm.jobs:r', 'openapi'),
    ('GET', '/jpm/v2/tenant/{tenant}/jobs/hold-reasons', 'tn.jpm.jobs:r', 'scopes.tsv'),
    ('GET', '/jpm/v2/tenant/{tenant}/jobs/{id}', 'tn.jpm.jobs:r', 'openapi'),
    ('PATCH', '/jpm/v2/tenant/{tenant}/jobs/{id}', 'tn.jpm.jobs:w', 'openapi'),
    ('GET', '/jpm/v2/tenant/{tenant}/jobs/{id}/booked-log', 'tn.jpm.jobs:r', 'openapi'),
    ('PUT', '/jpm/v2/tenant/{tenant}/jobs/{id}/cancel', 'tn.jpm.jobs:w', 'openapi'),
    ('GET', '/jpm/v2/tenant/{tenant}/jobs/{id}/canceled-log', 'tn.jpm.jobs:r', 'openapi'),
    ('DELETE', '/jpm/v2/tenant/{tenant}/jobs/{id}/equipment', 'tn.jpm.jobs:w', 'scopes.tsv'),
    ('GET', '/jpm/v2/tenant/{tenant}/jobs/{id}/equipment', 'tn.jpm.jobs:r', 'scopes.tsv'),
    ('POST', '/jpm/v2/tenant/{tenant}/jobs/{id}/equipment', 'tn.jpm.jobs:w', 'scopes.tsv'),
    ('DELETE', '/jpm/v2/tenant/{tenant}/jobs/{id}/equipment/{equipmentId}', 'tn.jpm.jobs:w', 'scopes.tsv'),
    ('GET', '/jpm/v2/tenant/{tenant}/jobs/{id}/history', 'tn.jpm.jobs:r', 'openapi'),
    ('GET', '/jpm/v2/tenant/{tenant}/jobs/{id}/notes', 'tn.jpm.jobs:r', 'openapi'),
    ('POST', '/jpm/v2/tenant/{tenant}/jobs/{id}/notes', 'tn.jpm.jobs:w', 'openapi'),
    ('PUT', '/jpm/v2/tenant/{tenant}/jobs/{id}/remove-cancellation', 'tn.jpm.jobs:w', 'openapi'),
    ('GET', '/marketing/v2/tenant/{tenant}/campaigns', 'tn.mrk.campaigns:r', 'openapi'),
    ('POST', '/marketing/v2/tenant/{tenant}/campaigns', 'tn.mrk.campaigns:w', 'openapi'),
    ('GET', '/marketing/v2/tenant/{tenant}/campaigns/{id}', 'tn.mrk.campaigns:r', 'openapi'),
    ('PATCH', '/marketing/v2/tenant/{tenant}/campaigns/{id}', 'tn.mrk.campaigns:w', 'openapi'),
    ('GET', '/marketing/v2/tenant/{tenant}/campaigns/{id}/costs', 'tn.mrk.campaigns:r', 'openapi'),
    ('GET', '/marketing/v2/tenant/{tenant}/categories', 'tn.mrk.categories:r', 'openapi'),
    ('POST', '/marketing/v2/tenant/{tenant}/categories', 'tn.mrk.categories:w', 'openapi'),
    ('GET', '/marketing/v2/tenant/{tenant}/categories/{id}', 'tn.mrk.categories:r', 'openapi'),
    ('PATCH', '/marketing/v2/tenant/{tenant}/categories/{id}', 'tn.mrk.categories:w', 'openapi'),
    ('GET', '/marketingads/v2/tenant/{tenant}/attributed-leads', 'tn.mads.attributedleads:r', 'scopes.tsv'),
    ('GET', '/marketingads/v2/tenant/{tenant}/capacity-warnings', 'tn.mads.capacitywarnings:r', 'scopes.tsv'),
    ('POST', '/marketingads/v2/tenant/{tenant}/external-call-attributions', 'tn.mads.externalcallattributions:w', 'scopes.tsv'),
    ('POST', '/marketingads/v2/tenant/{tenant}/job-attributions', 'tn.mads.jobattributions:w', 'scopes.tsv'),
    ('GET', '/marketingads/v2/tenant/{tenant}/performance', 'tn.mads.performance:r', 'scopes.tsv'),
    ('POST', '/marketingads/v2/tenant/{tenant}/web-booking-attributions', 'tn.mads.webbookingattributions:w', 'openapi'),
    ('POST', '/marketingads/v2/tenant/{tenant}/web-lead-form-attributions', 'tn.mads.webleadformattributions:w', 'scopes.tsv'),
    ('GET', '/memberships/v2/tenant/{tenant}/export/membership-status-changes', 'tn.mem.memberships:r', 'openapi'),
    ('GET', '/memberships/v2/tenant/{tenant}/export/membership-types', 'tn.mem.membershiptypes:r', 'openapi'),
    ('GET', '/memberships/v2/tenant/{tenant}/export/memberships', 'tn.mem.memberships:r', 'openapi'),
    ('GET', '/memberships/v2/tenant/{tenant}/membership-types', 'tn.mem.membershiptypes:r', 'openapi'),
    ('GET', '/memberships/v2/tenant/{tenant}/membership-types/{id}', 'tn.mem.membershiptypes:r', 'openapi'),
    ('GET', '/memberships/v2/tenant/{tenant}/membership-types/{id}/discounts', 'tn.mem.membershiptypes:r', 'openapi'),
    ('GET', '/memberships/v2/tenant/{tenant}/membership-types/{id}/duration-billing-items', 'tn.mem.membershiptypes:r', 'openapi'),
    ('GET', '/memberships/v2/tenant/{tenant}/membership-types/{id}/recurring-service-items', 'tn.mem.membershiptypes:r', 'openapi'),
    ('GET', '/memberships/v2/tenant/{tenant}/memberships', 'tn.mem.memberships:r', 'openapi'),
    ('GET', '/memberships/v2/tenant/{tenant}/memberships/custom-fields', 'tn.mem.memberships:r', 'openapi'),
    ('POST', '/memberships/v2/tenant/{tenant}/memberships/sale', 'tn.mem.memberships:w', 'openapi'),
    ('GET', '/memberships/v2/tenant/{tenant}/memberships/{id}', 'tn.mem.memberships:r', 'openapi'),
    ('PATCH', '/memberships/v2/tenant/{tenant}/memberships/{id}', 'tn.mem.memberships:w', 'openapi'),
    ('GET', '/memberships/v2/tenant/{tenant}/memberships/{id}/status-changes', 'tn.mem.memberships:r', 'openapi'),
    ('GET', '/pricebook/v2/tenant/{tenant}/categories', 'tn.pb.categories:r', 'openapi'),
    ('POST', '/pricebook/v2/tenant/{tenant}/categories', 'tn.pb.categories:w', 'openapi'),
    ('DELETE', '/pricebook/v2/tenant/{tenant}/categories/{id}', 'tn.pb.categories:w', 'openapi'),
    ('GET', '/pricebook/v2/tenant/{tenant}/categories/{id}', 'tn.pb.categories:r', 'openapi'),
    ('PATCH', '/pricebook/v2/tenant/{tenant}/categories/{id}', 'tn.pb.categories:w', 'openapi'),
    ('GET', '/pricebook/v2/tenant/{tenant}/equipment', 'tn.pb.equipment:r', 'openapi'),
    ('POST', '/pricebook/v2/tenant/{tenant}/equipment', 'tn.pb.equipment:w', 'openapi'),
    ('DELETE', '/pricebook/v2/tenant/{tenant}/equipment/{id}', 'tn.pb.equipment:w', 'openapi'),
    ('GET', '/pricebook/v2/tenant/{tenant}/equipment/{id}', 'tn.pb.equipment:r', 'openapi'),
    ('PATCH', '/pricebook/v2/tenant/{tenant}/equipment/{id}', 'tn.pb.equipment:w', 'openapi'),
    ('GET', '/pricebook/v2/tenant/{tenant}/export/categories', 'tn.pb.categories:r', 'scopes.tsv'),
    ('GET', '/pricebook/v2/tenant/{tenant}/export/equipment', 'tn.pb.equipment:r', 'openapi'),
    ('GET', '/pricebook/v2/tenant/{tenant}/export/materials', 'tn.pb.materials:r', 'openapi'),
    ('GET', '/pricebook/v2/tenant/{tenant}/export/services', 'tn.pb.services:r', 'openapi'),
    ('GET', '/pricebook/v2/tenant/{tenant}/materials', 'tn.pb.materials:r', 'openapi'),
    ('POST', '/pricebook/v2/tenant/{tenant}/materials', 'tn.pb.materials:w', 'openapi'),
    ('GET', '/pricebook/v2/tenant/{tenant}/materials/costtypes', 'tn.pb.materials:r', 'openapi'),
    ('DELETE', '/pricebook/v2/tenant/{tenant}/materials/{id}', 'tn.pb.materials:w', 'openapi'),
    ('GET', '/pricebook/v2/tenant/{tenant}/materials/{id}', 'tn.pb.materials:r', 'openapi'),
    ('PATCH', '/pricebook/v2/tenant/{tenant}/materials/{id}', 'tn.pb.materials:w', 'openapi'),
    ('GET', '/pricebook/v2/tenant/{tenant}/materialsmarkup', 'tn.pb.materials:r', 'openapi'),
    ('POST', '/pricebook/v2/tenant/{tenant}/materialsmarkup', 'tn.pb.materials:w', 'openapi'),
    ('GET', '/pricebook/v2/tenant/{tenant}/materialsmarkup/{id}', 'tn.pb.materials:r', 'openapi'),
    ('PUT', '/pricebook/v2/tenant/{tenant}/materialsmarkup/{id}', 'tn.pb.materials:w', 'openapi'),
    ('GET', '/pricebook/v2/tenant/{tenant}/services', 'tn.pb.services:r', 'openapi'),
    ('POST', '/pricebook/v2/tenant/{tenant}/services', 'tn.pb.services:w', 'openapi'),
    ('DELETE', '/pricebook/v2/tenant/{tenant}/services/{id}', 'tn.pb.services:w', 'openapi'),
    ('GET', '/pricebook/v2/tenant/{tenant}/services/{id}', 'tn.pb.services:r', 'openapi'),
    ('PATCH', '/pricebook/v2/tenant/{tenant}/services/{id}', 'tn.pb.services:w', 'openapi'),
    ('GET', '/settings/v2/tenant/{tenant}/business-units', 'tn.stt.businessunits:r', 'openapi'),
    ('GET', '/settings/v2/tenant/{tenant}/business-units/intacct', 'tn.stt.businessunits:r', 'scopes.tsv'),
    ('GET', '/settings/v2/tenant/{tenant}/business-units/{id}', 'tn.stt.businessunits:r', 'openapi'),
    ('PATCH', '/settings/v2/tenant/{tenant}/business-units/{id}', 'tn.stt.businessunits:w', 'openapi'),
    ('GET', '/settings/v2/tenant/{tenant}/employees', 'tn.stt.employees:r', 'openapi'),
    ('POST', '/settings/v2/tenant/{tenant}/employees', 'tn.stt.employees:w', 'openapi'),
    ('GET', '/settings/v2/tenant/{tenant}/employees/{id}', 'tn.stt.employees:r', 'openapi'),
    ('PATCH', '/settings/v2/tenant/{tenant}/employees/{id}', 'tn.stt.employees:w', 'openapi'),
    ('POST', '/settings/v2/tenant/{tenant}/employees/{id}/account-actions', 'tn.stt.employees:w', 'openapi'),
    ('GET', '/settings/v2/tenant/{tenant}/export/business-units', 'tn.stt.businessunits:r', 'openapi'),
    ('GET', '/settings/v2/tenant/{tenant}/export/employees', 'tn.stt.employees:r', 'openapi'),
    ('GET', '/settings/v2/tenant/{tenant}/export/technicians', 'tn.stt.technicians:r', 'openapi'),
    ('GET', '/settings/v2/tenant/{tenant}/technicians', 'tn.stt.technicians:r', 'openapi'),
    ('POST', '/settings/v2/tenant/{tenant}/technicians', 'tn.stt.technicians:w', 'openapi'),
    ('GET', '/settings/v2/tenant/{tenant}/technicians/{id}', 'tn.stt.technicians:r', 'openapi'),
    ('PATCH', '/settings/v2/tenant/{tenant}/technicians/{id}', 'tn.stt.technicians:w', 'openapi'),
    ('POST', '/settings/v2/tenant/{tenant}/technicians/{id}/account-actions', 'tn.stt.technicians:w', 'openapi'),
)


def scope_of(method: str, path: str) -> str | None:
    """The scope ServiceTitan publishes for an endpoint, or None when the endpoint is not published."""
    return _BY_ENDPOINT.get((method.upper(), path))


_BY_ENDPOINT = {(method, path): scope for method, path, scope, _ in KNOWN_ENDPOINTS}


# A scope as ServiceTitan names it, and a path of the tenant API as published (``{tenant}`` unfilled).
SCOPE_PATTERN = re.compile(r"\btn\.[a-z]+\.[a-z0-9]+:[rw]\b")
TENANT_PATH = re.compile(r"^/(?P<module>[a-z-]+)/v2/tenant/\{tenant\}/(?P<path>.+)$")
# Where a text (a packet, a policy) names a scope or a path of the tenant API.
NAMES_THE_API = re.compile(SCOPE_PATTERN.pattern + r"|/v2/tenant/")


def api_path(module: str, path: str, tenant: int | str) -> str:
    """Where a call of the tenant API goes: ``/<module>/v2/tenant/<tenant>/<path>``."""
    return f"/{module}/v2/tenant/{tenant}/{path.lstrip('/')}"


# -- the calls the product makes ----------------------------------------------------------------------------
# Query parameters ServiceTitan's list endpoints share, and what export feeds take.
LIST_PARAMS = frozenset({"page", "pageSize", "includeTotal", "ids", "createdBefore", "createdOnOrAfter",
                         "modifiedBefore", "modifiedOnOrAfter", "active"})
EXPORT_PARAMS = frozenset({"from", "includeRecentChanges"})
# Lists return only active records unless asked; drift must see inactive ones too.
ALL_RECORDS = {"active": "Any"}
# Purchased module (tenant.yaml, connection matrix module gate) -> module in the URL.
MODULE_URLS = {"marketing-ads": "marketingads"}
# attributed-leads' leadType values, in the order of their integer codes (1-4) in the responses.
LEAD_TYPES = ("Call", "WebBooking", "WebLeadForm", "ManualJob")


@dataclass(frozen=True)
class Operation:
    """One call of ServiceTitan's tenant API: ``path`` is below ``/<module>/v2/tenant/{tenant}/`` with
    ``{name}`` for path parameters; ``body`` names its request body in the request schemas."""

    method: str
    module: str
    path: str
    params: frozenset[str] = frozenset()
    required_params: frozenset[str] = frozenset()

    @property
    def template(self) -> str:
        return api_path(self.module, self.path, "{tenant}")

    @property
    def scope(self) -> str:
        found = scope_of(self.method, self.template)
        if found is None:  # a catalog defect, caught by the catalog's own test
            raise KeyError(f"{self.method} {self.template} is not a published endpoint")
        return found

    @property
    def export(self) -> bool:
        return self.path.startswith("export/")

    def resource(self, **path_parameters: Any) -> str:
        """The path below the tenant with its parameters filled in, as the client sends it."""
        return self.path.format(**path_parameters)


def _list(module: str, path: str, *extra: str) -> Operation:
    return Operation("GET", module, path, LIST_PARAMS | frozenset(extra))


def _export(module: str, path: str) -> Operation:
    return Operation("GET", module, path, EXPORT_PARAMS)


JOB_TYPES = _list("jpm", "job-types", "name", "minDuration", "maxDuration", "priority", "orderBy", "orderByDirection",
                  "externalDataApplicationGuid")
BUSINESS_UNITS = _list("settings", "business-units", "name", "externalDataApplicationGuid")
ZONES = _list("dispatch", "zones", "sort")
CAMPAIGNS = _list("marketing", "campaigns", "name")
PRICEBOOK_SERVICES = _list("pricebook", "services", "sort", "externalDataApplicationGuid", "externalDataKey",
                           "externalDataValues")
MEMBERSHIP_TYPES = _list("memberships", "membership-types", "billingFrequency", "duration", "includeDurationBilling")
EXPORT_JOBS = _export("jpm", "export/jobs")
EXPORT_BOOKINGS = _export("crm", "export/bookings")
EXPORT_INVOICES = _export("accounting", "export/invoices")
EXPORT_PAYMENTS = _export("accounting", "export/payments")
PROVIDER_BOOKINGS = Operation("GET", "crm", "booking-provider/{booking_provider}/bookings",
                              (LIST_PARAMS - {"active"}) | {"externalId", "sort"})
CREATE_BOOKING = Operation("POST", "crm", "booking-provider/{booking_provider}/bookings")
LEADS = Operation("GET", "crm", "leads", (LIST_PARAMS - {"active"}) | {"customerId", "isProspect", "withoutCustomer",
                                                                        "status", "sort", "genPermUrl"})
CREATE_LEAD = Operation("POST", "crm", "leads")
SUBMIT_LEAD_FORM = Operation("POST", "crm", "leads/form")
ATTRIBUTED_LEADS = Operation("GET", "marketingads", "attributed-leads",
                             frozenset({"fromUtc", "toUtc", "leadType", "page", "pageSize", "includeTotal"}),
                             required_params=frozenset({"fromUtc", "toUtc"}))
WEB_BOOKING_ATTRIBUTION = Operation("POST", "marketingads", "web-booking-attributions")
WEB_LEAD_FORM_ATTRIBUTION = Operation("POST", "marketingads", "web-lead-form-attributions")
JOB_ATTRIBUTION = Operation("POST", "marketingads", "job-attributions")
EXTERNAL_CALL_ATTRIBUTION = Operation("POST", "marketingads", "external-call-attributions")

OPERATIONS: tuple[Operation, ...] = (
    JOB_TYPES, BUSINESS_UNITS, ZONES, CAMPAIGNS, PRICEBOOK_SERVICES, MEMBERSHIP_TYPES,
    EXPORT_JOBS, EXPORT_BOOKINGS, EXPORT_INVOICES, EXPORT_PAYMENTS,
    PROVIDER_BOOKINGS, CREATE_BOOKING, LEADS, CREATE_LEAD, SUBMIT_LEAD_FORM,
    ATTRIBUTED_LEADS, WEB_BOOKING_ATTRIBUTION, WEB_LEAD_FORM_ATTRIBUTION, JOB_ATTRIBUTION, EXTERNAL_CALL_ATTRIBUTION,
)
class AttributionPost(NamedTuple):
    """What one attribution post attributes, and where attributed-leads reports it."""

    id_field: str | None  # the attributed entity's id in the post's body
    lead_type: str  # attributed-leads' leadType for it
    listed_as: tuple[str, str] | None  # (object, field) of an attributed-leads row holding that id


ATTRIBUTIONS: dict[Operation, AttributionPost] = {
    WEB_BOOKING_ATTRIBUTION: AttributionPost("bookingId", "WebBooking", ("booking", "id")),
    WEB_LEAD_FORM_ATTRIBUTION: AttributionPost("leadId", "WebLeadForm", ("leadForm", "leadNumber")),
    JOB_ATTRIBUTION: AttributionPost("jobId", "ManualJob", ("job", "id")),
    EXTERNAL_CALL_ATTRIBUTION: AttributionPost(None, "Call", None),
}


def lead_type_of(row: dict) -> str | None:
    """The leadType name of an attributed-leads row (the API answers with its integer code)."""
    code = row.get("leadType")
    return LEAD_TYPES[code - 1] if isinstance(code, int) and 1 <= code <= len(LEAD_TYPES) else None


def operation(method: str, module: str, path: str) -> Operation | None:
    return _BY_CALL.get((method.upper(), module, path))


def called(method: str, path: str) -> Operation | None:
    """The catalog operation a called path (``/jpm/v2/tenant/900000202/job-types``) stands for, if any."""
    return next((op for op, pattern in _CALLED if op.method == method.upper() and pattern.match(path)), None)


def split_path(template: str) -> tuple[str, str] | None:
    """``/jpm/v2/tenant/{tenant}/job-types`` -> ``("jpm", "job-types")``; None for anything else."""
    found = TENANT_PATH.match(template)
    return (found["module"], found["path"]) if found else None


def list_resource(source: str) -> Operation:
    """The operation that reads ``<module>/<path>`` (a fixture export path), e.g. ``jpm/job-types``."""
    module, path = source.split("/", 1)
    found = operation("GET", module, path)
    if found is None:
        raise KeyError(f"{source} is not a call the product makes")
    return found


def scopes_for_modules(modules) -> set[str]:
    """The scopes of every operation in the given purchased modules."""
    urls = {MODULE_URLS.get(m, m) for m in modules}
    return {op.scope for op in OPERATIONS if op.module in urls}


_BY_CALL = {(op.method, op.module, op.path): op for op in OPERATIONS}
_CALLED = [(op, re.compile("^" + re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(op.template)) + "$")) for op in OPERATIONS]


# -- request and response bodies ----------------------------------------------------------------------------
# The bodies are ServiceTitan's published schemas, shipped as package data and read through
# readiness.servicetitan.openapi; bodies are judged with the library the intake uses (openapi-schema-validator).


def request_schema(operation: Operation) -> dict:
    """The published schema of an operation's request body (self-contained, OpenAPI 3.0)."""
    return openapi.schema_for(operation.template, operation.method, None)


def row_schema(operation: Operation) -> dict:
    """The published schema of one record of a list operation's answer (its ``data`` items)."""
    return openapi.schema_for(operation.template, operation.method, 200)["properties"]["data"]["items"]


def _object(schema: dict) -> dict:
    """A property's own schema where the published document wraps it (``oneOf``/``allOf`` of one schema)."""
    for keyword in ("oneOf", "allOf"):
        if len(schema.get(keyword, ())) == 1:
            return _object(schema[keyword][0])
    return schema


def request_fields(operation: Operation) -> tuple[str, ...]:
    """The top-level fields of an operation's request body, in the published order."""
    return tuple(request_schema(operation)["properties"])


def required_fields(operation: Operation) -> tuple[str, ...]:
    return tuple(request_schema(operation).get("required", ()))


def subfields(operation: Operation, field: str) -> tuple[str, ...]:
    """The fields of an object field of a request body, e.g. ``webSessionData`` of an attribution post."""
    return tuple(_object(request_schema(operation)["properties"][field]).get("properties", ()))


def blank(schema: dict) -> Any:
    """A value with every required field of ``schema`` present and empty ("", None, the first enum value)."""
    schema = _object(schema)
    if schema.get("type") == "object":
        return {key: blank(schema["properties"][key]) for key in schema.get("required", ())}
    if "enum" in schema:
        return schema["enum"][0]
    return "" if schema.get("type") == "string" and not schema.get("nullable") else None


@cache
def _request_validator(operation: Operation) -> OAS30WriteValidator:
    return OAS30WriteValidator(request_schema(operation), format_checker=oas30_format_checker)


def body_errors(operation: Operation, body: Any) -> dict[str, list[str]]:
    """Where ``body`` breaks the published request schema, by field path (``body`` for the whole), as an RFC 7807
    ``errors`` member: a wrapped object field (``webSessionData``) is judged field by field."""
    errors: dict[str, list[str]] = {}

    def add(error) -> None:
        where = ".".join(str(p) for p in error.absolute_path)  # absolute: a wrapped field's errors name it too
        if error.validator in ("oneOf", "allOf") and error.context:
            for inner in error.context:
                add(inner)
        elif error.validator == "additionalProperties":
            for extra in sorted(set(error.instance) - set(error.schema.get("properties", {}))):
                errors.setdefault(f"{where}.{extra}" if where else extra, []).append("is not a field of this request")
        elif error.validator == "required":
            missing = error.message.split("'")[1]
            errors.setdefault(f"{where}.{missing}" if where else missing, []).append("is required")
        else:
            errors.setdefault(where or "body", []).append(f"breaks the {error.validator} rule {error.validator_value!r}")

    for error in sorted(_request_validator(operation).iter_errors(body), key=lambda e: list(map(str, e.absolute_path))):
        add(error)
    return errors
