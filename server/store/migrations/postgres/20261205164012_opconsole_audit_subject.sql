-- Modify "audit_events" table
ALTER TABLE "audit_events" ADD COLUMN "subject_id" character varying NOT NULL DEFAULT '';
-- Create index "auditevent_subject_id_at" to table: "audit_events"
CREATE INDEX "auditevent_subject_id_at" ON "audit_events" ("subject_id", "at");
-- Events written before subject_id: the person each is about, as audit.Write names them
-- now (a User itself; the owner of a card, an order, a certificate's order; the owner a
-- purge recorded for a card that is gone). Events about no one keep ''.
UPDATE "audit_events" SET "subject_id" = "object_id" WHERE "object_type" = 'User';
UPDATE "audit_events" SET "subject_id" = COALESCE((SELECT "owner_id" FROM "cards" WHERE "cards"."id" = "audit_events"."object_id"),
  (SELECT "p"."details"->>'owner' FROM "audit_events" AS "p" WHERE "p"."action" = 'card.purge' AND "p"."object_type" = 'Card' AND "p"."object_id" = "audit_events"."object_id" LIMIT 1), '')
  WHERE "object_type" = 'Card';
UPDATE "audit_events" SET "subject_id" = COALESCE((SELECT "user_id" FROM "orders" WHERE "orders"."id" = "audit_events"."object_id"), '')
  WHERE "object_type" = 'Order';
UPDATE "audit_events" SET "subject_id" = COALESCE((SELECT "orders"."user_id" FROM "certificates" JOIN "orders" ON "orders"."id" = "certificates"."order_id"
  WHERE "certificates"."id" = "audit_events"."object_id"), '')
  WHERE "object_type" = 'Certificate';
