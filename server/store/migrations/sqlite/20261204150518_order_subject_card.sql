-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Create "new_orders" table
CREATE TABLE `new_orders` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `process` text NOT NULL DEFAULT ('get-virtual-smart-card'), `state` text NOT NULL DEFAULT ('STARTED'), `steps` json NOT NULL, `token_hash` blob NULL, `token_expires_at` datetime NULL, `token_used_at` datetime NULL, `bridge_session_hash` blob NULL, `bridge_session_expires_at` datetime NULL, `options` json NULL, `option_script_version` text NULL, `verification_code` text NOT NULL DEFAULT (''), `failure_reason` text NULL, `expires_at` datetime NOT NULL, `finished_at` datetime NULL, `version` integer NOT NULL DEFAULT (0), `subject_card_id` text NULL, `user_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `orders_cards_subject_orders` FOREIGN KEY (`subject_card_id`) REFERENCES `cards` (`id`) ON DELETE SET NULL, CONSTRAINT `orders_users_orders` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE NO ACTION);
-- Copy rows from old table "orders" to new temporary table "new_orders"
INSERT INTO `new_orders` (`id`, `created_at`, `updated_at`, `process`, `state`, `steps`, `token_hash`, `token_expires_at`, `token_used_at`, `bridge_session_hash`, `bridge_session_expires_at`, `options`, `option_script_version`, `verification_code`, `failure_reason`, `expires_at`, `finished_at`, `version`, `user_id`) SELECT `id`, `created_at`, `updated_at`, `process`, `state`, `steps`, `token_hash`, `token_expires_at`, `token_used_at`, `bridge_session_hash`, `bridge_session_expires_at`, `options`, `option_script_version`, `verification_code`, `failure_reason`, `expires_at`, `finished_at`, `version`, `user_id` FROM `orders`;
-- Drop "orders" table after copying rows
DROP TABLE `orders`;
-- Rename temporary table "new_orders" to "orders"
ALTER TABLE `new_orders` RENAME TO `orders`;
-- Create index "order_state_expires_at" to table: "orders"
CREATE INDEX `order_state_expires_at` ON `orders` (`state`, `expires_at`);
-- Create index "order_state_finished_at" to table: "orders"
CREATE INDEX `order_state_finished_at` ON `orders` (`state`, `finished_at`);
-- Create index "order_token_hash" to table: "orders"
CREATE INDEX `order_token_hash` ON `orders` (`token_hash`);
-- Create index "order_bridge_session_hash" to table: "orders"
CREATE INDEX `order_bridge_session_hash` ON `orders` (`bridge_session_hash`);
-- Create index "order_user_id_created_at" to table: "orders"
CREATE INDEX `order_user_id_created_at` ON `orders` (`user_id`, `created_at`);
-- Create index "order_created_at" to table: "orders"
CREATE INDEX `order_created_at` ON `orders` (`created_at`);
-- Create index "order_subject_card_id" to table: "orders"
CREATE INDEX `order_subject_card_id` ON `orders` (`subject_card_id`);
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
