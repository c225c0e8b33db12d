-- A contact belongs to the person: each row also names its session's tenant and owner, so a
-- session without a contact of its own finds its owner's newest one by index.
ALTER TABLE session_contacts ADD COLUMN business_id TEXT;
ALTER TABLE session_contacts ADD COLUMN owner TEXT;
UPDATE session_contacts SET
    business_id = (SELECT business_id FROM sessions WHERE sessions.id = session_contacts.session_id),
    owner = (SELECT owner FROM sessions WHERE sessions.id = session_contacts.session_id);
CREATE INDEX session_contacts_by_person ON session_contacts (business_id, owner, updated_at);
