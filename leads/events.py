"""The domain events of the leads app: their names and what their `data` carries.

Every event is an `Event` row (`leadnexus.core.events.publish`) with the acting user, the
organization, the subject (`subject_type="leads.lead"` and the lead's id, unless noted)
and the time; a lead's timeline reads them. Other apps subscribe in their
`AppConfig.ready()`:

    from leadnexus.core.events import subscribe
    from leads.events import LEAD_MERGED

    @subscribe(LEAD_MERGED)
    def activities_follow_merge(event): ...

Lead records
- `leads.lead.created`         {source, assigned_to}
- `leads.lead.updated`         {fields: [names], changes: {key field: [before, after]}}
- `leads.lead.status_changed`  {from, to}
- `leads.lead.assigned`        {from: user id|null, to: user id|null}
- `leads.lead.deleted` · `leads.lead.restored` · `leads.lead.purged` (no actor: the purge job)
- `leads.lead.converted`       {contact: id, contact_created: bool, opportunity: id|null}
                               (the CRM's conversion; a status_changed to converted comes with it)

Merge (`leads.services.merge.lead_merge`): two events in one transaction.
- `leads.lead.merged` on the survivor:
      {other_id: the lead merged into it,
       fields: {field: "this"|"other"} for every mergeable field (the survivor's choice),
       changes: {field: [before, after]} for the fields whose value changed,
       notes_combined: bool}
  Subscribers move what they attach to `other_id` over to the event's subject (the
  survivor): activities, opportunities, purchases. The other lead stays, soft-deleted,
  with `merged_into` = the survivor, so a handler that runs late still finds both.
- `leads.lead.merged_into` on the other lead: {into: the survivor's id}

Scoring (`leads.scoring.leads_score`), only when the score moved; no actor:
- `leads.lead.scored`          {from, to}

Imports (subject: the `leads.importjob`)
- `leads.import.uploaded` · `leads.import.mapping_changed` · `leads.import.confirmed`
- `leads.import.completed` (the counts) · `leads.import.failed`

Assignment rules and capture forms (subject: the rule, the form or the submission)
- `leads.assignment_rule.created|updated|deleted`
- `leads.capture_form.created|updated|deleted`
- `leads.submission.received` · `leads.submission.reached_out`
"""

LEAD_CREATED = "leads.lead.created"
LEAD_UPDATED = "leads.lead.updated"
LEAD_STATUS_CHANGED = "leads.lead.status_changed"
LEAD_ASSIGNED = "leads.lead.assigned"
LEAD_DELETED = "leads.lead.deleted"
LEAD_RESTORED = "leads.lead.restored"
LEAD_PURGED = "leads.lead.purged"
LEAD_MERGED = "leads.lead.merged"
LEAD_MERGED_INTO = "leads.lead.merged_into"
LEAD_SCORED = "leads.lead.scored"
IMPORT_UPLOADED = "leads.import.uploaded"
IMPORT_MAPPING_CHANGED = "leads.import.mapping_changed"
IMPORT_CONFIRMED = "leads.import.confirmed"
IMPORT_COMPLETED = "leads.import.completed"
IMPORT_FAILED = "leads.import.failed"
ASSIGNMENT_RULE_CREATED = "leads.assignment_rule.created"
ASSIGNMENT_RULE_UPDATED = "leads.assignment_rule.updated"
ASSIGNMENT_RULE_DELETED = "leads.assignment_rule.deleted"
CAPTURE_FORM_CREATED = "leads.capture_form.created"
CAPTURE_FORM_UPDATED = "leads.capture_form.updated"
CAPTURE_FORM_DELETED = "leads.capture_form.deleted"
SUBMISSION_RECEIVED = "leads.submission.received"
SUBMISSION_REACHED_OUT = "leads.submission.reached_out"
