-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Create "new_cards" table
CREATE TABLE `new_cards` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `serial` text NOT NULL, `kind` text NOT NULL DEFAULT ('VIRTUAL'), `state` text NOT NULL DEFAULT ('REGISTERED'), `valid_from` datetime NOT NULL, `valid_until` datetime NOT NULL, `properties` json NOT NULL, `device` json NULL, `management_key` blob NOT NULL, `puk` blob NOT NULL, `puk_unconfirmed` blob NULL, `pin_state` json NULL, `proof_challenge` blob NULL, `proof_challenge_expires_at` datetime NULL, `seen_at` datetime NULL, `replaced_by_id` text NULL, `order_id` text NULL, `owner_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `cards_cards_replaces` FOREIGN KEY (`replaced_by_id`) REFERENCES `cards` (`id`) ON DELETE SET NULL, CONSTRAINT `cards_orders_card` FOREIGN KEY (`order_id`) REFERENCES `orders` (`id`) ON DELETE SET NULL, CONSTRAINT `cards_users_cards` FOREIGN KEY (`owner_id`) REFERENCES `users` (`id`) ON DELETE NO ACTION);
-- Copy rows from old table "cards" to new temporary table "new_cards"
INSERT INTO `new_cards` (`id`, `created_at`, `updated_at`, `serial`, `kind`, `state`, `valid_from`, `valid_until`, `properties`, `device`, `management_key`, `puk`, `puk_unconfirmed`, `pin_state`, `order_id`, `owner_id`) SELECT `id`, `created_at`, `updated_at`, `serial`, `kind`, `state`, `valid_from`, `valid_until`, `properties`, `device`, `management_key`, `puk`, `puk_unconfirmed`, `pin_state`, `order_id`, `owner_id` FROM `cards`;
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
-- Create index "order_user_id_running" to table: "orders"
CREATE UNIQUE INDEX `order_user_id_running` ON `orders` (`user_id`) WHERE finished_at IS NULL;
-- Create "job_leases" table
CREATE TABLE `job_leases` (`id` text NOT NULL, `name` text NOT NULL, `next_run_at` datetime NOT NULL, `holder` text NOT NULL DEFAULT (''), PRIMARY KEY (`id`));
-- Create index "job_leases_name_key" to table: "job_leases"
CREATE UNIQUE INDEX `job_leases_name_key` ON `job_leases` (`name`);
-- Create "notices" table
CREATE TABLE `notices` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `task_id` text NOT NULL, `days` integer NOT NULL, `state` text NOT NULL DEFAULT ('PENDING'), `attempts` integer NOT NULL DEFAULT (0), `next_attempt_at` datetime NOT NULL, `sent_at` datetime NULL, `last_error` text NOT NULL DEFAULT (''), PRIMARY KEY (`id`));
-- Create index "notice_task_id_days" to table: "notices"
CREATE UNIQUE INDEX `notice_task_id_days` ON `notices` (`task_id`, `days`);
-- Create index "notice_state_next_attempt_at" to table: "notices"
CREATE INDEX `notice_state_next_attempt_at` ON `notices` (`state`, `next_attempt_at`);
-- Create "tasks" table
CREATE TABLE `tasks` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `kind` text NOT NULL, `state` text NOT NULL DEFAULT ('OPEN'), `close_reason` text NULL, `closed_at` datetime NULL, `owner_id` text NOT NULL, `card_id` text NOT NULL, `card_serial` text NOT NULL, `expires_at` datetime NOT NULL, PRIMARY KEY (`id`));
-- Create index "task_card_id_expires_at" to table: "tasks"
CREATE UNIQUE INDEX `task_card_id_expires_at` ON `tasks` (`card_id`, `expires_at`);
-- Create index "task_owner_id_state" to table: "tasks"
CREATE INDEX `task_owner_id_state` ON `tasks` (`owner_id`, `state`);
-- Create index "task_state" to table: "tasks"
CREATE INDEX `task_state` ON `tasks` (`state`);
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
