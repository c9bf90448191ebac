-- Modify "cards" table
ALTER TABLE "cards" ADD COLUMN "key_protection" character varying NOT NULL DEFAULT 'SOFTWARE';
-- Modify "orders" table
ALTER TABLE "orders" ADD COLUMN "tpm_challenge" bytea NULL, ADD COLUMN "tpm_challenge_expires_at" timestamptz NULL;
