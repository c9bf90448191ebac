-- Modify "cards" table
ALTER TABLE "cards" ADD COLUMN "puk_unconfirmed" bytea NULL, ADD COLUMN "pin_state" jsonb NULL;
