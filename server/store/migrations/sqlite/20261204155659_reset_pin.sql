-- Add column "puk_unconfirmed" to table: "cards"
ALTER TABLE `cards` ADD COLUMN `puk_unconfirmed` blob NULL;
-- Add column "pin_state" to table: "cards"
ALTER TABLE `cards` ADD COLUMN `pin_state` json NULL;
