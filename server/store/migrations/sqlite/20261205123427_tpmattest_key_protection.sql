-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Add column "tpm_challenge" to table: "orders"
ALTER TABLE `orders` ADD COLUMN `tpm_challenge` blob NULL;
-- Add column "tpm_challenge_expires_at" to table: "orders"
ALTER TABLE `orders` ADD COLUMN `tpm_challenge_expires_at` datetime NULL;
-- Create "new_cards" table
CREATE TABLE `new_cards` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `serial` text NOT NULL, `kind` text NOT NULL DEFAULT ('VIRTUAL'), `state` text NOT NULL DEFAULT ('REGISTERED'), `state_changed_at` datetime NULL, `valid_from` datetime NOT NULL, `valid_until` datetime NOT NULL, `properties` json NOT NULL, `device` json NULL, `management_key` blob NOT NULL, `puk` blob NOT NULL, `puk_unconfirmed` blob NULL, `pin_state` json NULL, `proof_challenge` blob NULL, `proof_challenge_expires_at` datetime NULL, `key_protection` text NOT NULL DEFAULT ('SOFTWARE'), `seen_at` datetime NULL, `replaced_by_id` text NULL, `order_id` text NULL, `owner_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `cards_cards_replaces` FOREIGN KEY (`replaced_by_id`) REFERENCES `cards` (`id`) ON DELETE SET NULL, CONSTRAINT `cards_orders_card` FOREIGN KEY (`order_id`) REFERENCES `orders` (`id`) ON DELETE SET NULL, CONSTRAINT `cards_users_cards` FOREIGN KEY (`owner_id`) REFERENCES `users` (`id`) ON DELETE NO ACTION);
-- Copy rows from old table "cards" to new temporary table "new_cards"
INSERT INTO `new_cards` (`id`, `created_at`, `updated_at`, `serial`, `kind`, `state`, `state_changed_at`, `valid_from`, `valid_until`, `properties`, `device`, `management_key`, `puk`, `puk_unconfirmed`, `pin_state`, `proof_challenge`, `proof_challenge_expires_at`, `seen_at`, `replaced_by_id`, `order_id`, `owner_id`) SELECT `id`, `created_at`, `updated_at`, `serial`, `kind`, `state`, `state_changed_at`, `valid_from`, `valid_until`, `properties`, `device`, `management_key`, `puk`, `puk_unconfirmed`, `pin_state`, `proof_challenge`, `proof_challenge_expires_at`, `seen_at`, `replaced_by_id`, `order_id`, `owner_id` FROM `cards`;
-- Drop "cards" table after copying rows
DROP TABLE `cards`;
-- Rename temporary table "new_cards" to "cards"
ALTER TABLE `new_cards` RENAME TO `cards`;
-- Create index "cards_serial_key" to table: "cards"
CREATE UNIQUE INDEX `cards_serial_key` ON `cards` (`serial`);
-- Create index "cards_replaced_by_id_key" to table: "cards"
CREATE UNIQUE INDEX `cards_replaced_by_id_key` ON `cards` (`replaced_by_id`);
-- Create index "cards_order_id_key" to table: "cards"
CREATE UNIQUE INDEX `cards_order_id_key` ON `cards` (`order_id`);
-- Create index "card_owner_id" to table: "cards"
CREATE INDEX `card_owner_id` ON `cards` (`owner_id`);
-- Create index "card_updated_at" to table: "cards"
CREATE INDEX `card_updated_at` ON `cards` (`updated_at`);
-- Create index "card_state_valid_until" to table: "cards"
CREATE INDEX `card_state_valid_until` ON `cards` (`state`, `valid_until`);
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
