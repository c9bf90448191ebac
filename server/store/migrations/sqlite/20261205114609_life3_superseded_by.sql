-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Create "new_certificates" table
CREATE TABLE `new_certificates` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `serial` text NOT NULL, `slot` text NOT NULL, `template` text NOT NULL, `key_algorithm` text NOT NULL, `subject` text NOT NULL, `sans` json NOT NULL, `issuer` text NOT NULL, `not_before` datetime NOT NULL, `not_after` datetime NOT NULL, `state` text NOT NULL DEFAULT ('VALID'), `revocation_reason` text NULL, `revoked_at` datetime NULL, `der` blob NOT NULL, `attestation` blob NULL, `attestation_verified` bool NOT NULL DEFAULT (false), `card_id` text NULL, `superseded_by_id` text NULL, `order_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `certificates_cards_certificates` FOREIGN KEY (`card_id`) REFERENCES `cards` (`id`) ON DELETE SET NULL, CONSTRAINT `certificates_certificates_supersedes` FOREIGN KEY (`superseded_by_id`) REFERENCES `certificates` (`id`) ON DELETE SET NULL, CONSTRAINT `certificates_orders_certificates` FOREIGN KEY (`order_id`) REFERENCES `orders` (`id`) ON DELETE NO ACTION);
-- Copy rows from old table "certificates" to new temporary table "new_certificates"
INSERT INTO `new_certificates` (`id`, `created_at`, `updated_at`, `serial`, `slot`, `template`, `key_algorithm`, `subject`, `sans`, `issuer`, `not_before`, `not_after`, `state`, `revocation_reason`, `revoked_at`, `der`, `attestation`, `attestation_verified`, `card_id`, `order_id`) SELECT `id`, `created_at`, `updated_at`, `serial`, `slot`, `template`, `key_algorithm`, `subject`, `sans`, `issuer`, `not_before`, `not_after`, `state`, `revocation_reason`, `revoked_at`, `der`, `attestation`, `attestation_verified`, `card_id`, `order_id` FROM `certificates`;
-- Drop "certificates" table after copying rows
DROP TABLE `certificates`;
-- Rename temporary table "new_certificates" to "certificates"
ALTER TABLE `new_certificates` RENAME TO `certificates`;
-- Create index "certificates_serial_key" to table: "certificates"
CREATE UNIQUE INDEX `certificates_serial_key` ON `certificates` (`serial`);
-- Create index "certificate_order_id_slot" to table: "certificates"
CREATE UNIQUE INDEX `certificate_order_id_slot` ON `certificates` (`order_id`, `slot`);
-- Create index "certificate_card_id" to table: "certificates"
CREATE INDEX `certificate_card_id` ON `certificates` (`card_id`);
-- Add column "state_changed_at" to table: "cards"
ALTER TABLE `cards` ADD COLUMN `state_changed_at` datetime NULL;
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
