-- Modify "cards" table
ALTER TABLE "cards" ADD COLUMN "proof_challenge" bytea NULL, ADD COLUMN "proof_challenge_expires_at" timestamptz NULL, ADD COLUMN "seen_at" timestamptz NULL;
