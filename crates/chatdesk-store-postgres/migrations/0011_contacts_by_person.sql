-- A contact belongs to the person: each row also names its session's tenant and owner, so a
-- session without a contact of its own finds its owner's newest one by index.
ALTER TABLE session_contacts ADD COLUMN business_id TEXT;
ALTER TABLE session_contacts ADD COLUMN owner TEXT;
UPDATE session_contacts c SET business_id = s.business_id, owner = s.owner
    FROM sessions s WHERE s.id = c.session_id;
CREATE INDEX session_contacts_by_person ON session_contacts (business_id, owner, updated_at);
