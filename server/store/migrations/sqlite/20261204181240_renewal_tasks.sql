-- Create index "card_state_valid_until" to table: "cards"
CREATE INDEX `card_state_valid_until` ON `cards` (`state`, `valid_until`);
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
