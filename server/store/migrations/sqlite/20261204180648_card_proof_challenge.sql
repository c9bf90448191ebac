-- Add column "proof_challenge" to table: "cards"
ALTER TABLE `cards` ADD COLUMN `proof_challenge` blob NULL;
-- Add column "proof_challenge_expires_at" to table: "cards"
ALTER TABLE `cards` ADD COLUMN `proof_challenge_expires_at` datetime NULL;
-- Add column "seen_at" to table: "cards"
ALTER TABLE `cards` ADD COLUMN `seen_at` datetime NULL;
