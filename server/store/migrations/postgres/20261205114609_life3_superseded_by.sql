-- Modify "cards" table
ALTER TABLE "cards" ADD COLUMN "state_changed_at" timestamptz NULL;
-- Modify "certificates" table
ALTER TABLE "certificates" ADD COLUMN "superseded_by_id" character varying NULL, ADD CONSTRAINT "certificates_certificates_supersedes" FOREIGN KEY ("superseded_by_id") REFERENCES "certificates" ("id") ON UPDATE NO ACTION ON DELETE SET NULL;
