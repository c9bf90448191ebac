-- Drop index "auditevent_object_type_object_id" from table: "audit_events"
DROP INDEX "auditevent_object_type_object_id";
-- Modify "audit_events" table
ALTER TABLE "audit_events" ADD COLUMN "actor_id" character varying NOT NULL DEFAULT '';
-- Create index "auditevent_action_at" to table: "audit_events"
CREATE INDEX "auditevent_action_at" ON "audit_events" ("action", "at");
-- Create index "auditevent_actor_id_at" to table: "audit_events"
CREATE INDEX "auditevent_actor_id_at" ON "audit_events" ("actor_id", "at");
-- Create index "auditevent_object_type_object_id_at" to table: "audit_events"
CREATE INDEX "auditevent_object_type_object_id_at" ON "audit_events" ("object_type", "object_id", "at");
-- Events written before actor_id named a person's actor "username (usr_…)": split it.
UPDATE "audit_events" SET "actor_id" = substring("actor" from ' \((usr_[0-9a-z]+)\)$'),
  "actor" = regexp_replace("actor", ' \(usr_[0-9a-z]+\)$', '')
  WHERE "actor_kind" = 'user' AND "actor" ~ ' \(usr_[0-9a-z]+\)$';
