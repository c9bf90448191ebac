-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Create "new_audit_events" table
CREATE TABLE `new_audit_events` (`id` text NOT NULL, `at` datetime NOT NULL, `actor` text NOT NULL, `actor_id` text NOT NULL DEFAULT (''), `actor_kind` text NOT NULL, `action` text NOT NULL, `object_type` text NOT NULL, `object_id` text NOT NULL, `remote_addr` text NOT NULL DEFAULT (''), `details` json NULL, PRIMARY KEY (`id`));
-- Copy rows from old table "audit_events" to new temporary table "new_audit_events"
INSERT INTO `new_audit_events` (`id`, `at`, `actor`, `actor_kind`, `action`, `object_type`, `object_id`, `remote_addr`, `details`) SELECT `id`, `at`, `actor`, `actor_kind`, `action`, `object_type`, `object_id`, `remote_addr`, `details` FROM `audit_events`;
-- Drop "audit_events" table after copying rows
DROP TABLE `audit_events`;
-- Rename temporary table "new_audit_events" to "audit_events"
ALTER TABLE `new_audit_events` RENAME TO `audit_events`;
-- Create index "auditevent_object_type_object_id_at" to table: "audit_events"
CREATE INDEX `auditevent_object_type_object_id_at` ON `audit_events` (`object_type`, `object_id`, `at`);
-- Create index "auditevent_at" to table: "audit_events"
CREATE INDEX `auditevent_at` ON `audit_events` (`at`);
-- Create index "auditevent_actor_id_at" to table: "audit_events"
CREATE INDEX `auditevent_actor_id_at` ON `audit_events` (`actor_id`, `at`);
-- Create index "auditevent_action_at" to table: "audit_events"
CREATE INDEX `auditevent_action_at` ON `audit_events` (`action`, `at`);
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
-- Events written before actor_id named a person's actor "username (usr_…)": split it.
UPDATE `audit_events` SET `actor_id` = substr(`actor`, instr(`actor`, ' (usr_') + 2, length(`actor`) - instr(`actor`, ' (usr_') - 2),
  `actor` = substr(`actor`, 1, instr(`actor`, ' (usr_') - 1)
  WHERE `actor_kind` = 'user' AND `actor` LIKE '% (usr_%)';
