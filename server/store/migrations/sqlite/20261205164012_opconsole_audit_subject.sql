-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Create "new_audit_events" table
CREATE TABLE `new_audit_events` (`id` text NOT NULL, `at` datetime NOT NULL, `actor` text NOT NULL, `actor_id` text NOT NULL DEFAULT (''), `actor_kind` text NOT NULL, `action` text NOT NULL, `object_type` text NOT NULL, `object_id` text NOT NULL, `remote_addr` text NOT NULL DEFAULT (''), `subject_id` text NOT NULL DEFAULT (''), `details` json NULL, PRIMARY KEY (`id`));
-- Copy rows from old table "audit_events" to new temporary table "new_audit_events"
INSERT INTO `new_audit_events` (`id`, `at`, `actor`, `actor_id`, `actor_kind`, `action`, `object_type`, `object_id`, `remote_addr`, `details`) SELECT `id`, `at`, `actor`, `actor_id`, `actor_kind`, `action`, `object_type`, `object_id`, `remote_addr`, `details` FROM `audit_events`;
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
-- Create index "auditevent_subject_id_at" to table: "audit_events"
CREATE INDEX `auditevent_subject_id_at` ON `audit_events` (`subject_id`, `at`);
-- Create index "auditevent_action_at" to table: "audit_events"
CREATE INDEX `auditevent_action_at` ON `audit_events` (`action`, `at`);
-- Events written before subject_id: the person each is about, as audit.Write names them
-- now (a User itself; the owner of a card, an order, a certificate's order; the owner a
-- purge recorded for a card that is gone). Events about no one keep ''.
UPDATE `audit_events` SET `subject_id` = `object_id` WHERE `object_type` = 'User';
UPDATE `audit_events` SET `subject_id` = COALESCE((SELECT `owner_id` FROM `cards` WHERE `cards`.`id` = `audit_events`.`object_id`),
  (SELECT json_extract(`p`.`details`, '$.owner') FROM `audit_events` AS `p` WHERE `p`.`action` = 'card.purge' AND `p`.`object_type` = 'Card' AND `p`.`object_id` = `audit_events`.`object_id` LIMIT 1), '')
  WHERE `object_type` = 'Card';
UPDATE `audit_events` SET `subject_id` = COALESCE((SELECT `user_id` FROM `orders` WHERE `orders`.`id` = `audit_events`.`object_id`), '')
  WHERE `object_type` = 'Order';
UPDATE `audit_events` SET `subject_id` = COALESCE((SELECT `orders`.`user_id` FROM `certificates` JOIN `orders` ON `orders`.`id` = `certificates`.`order_id`
  WHERE `certificates`.`id` = `audit_events`.`object_id`), '')
  WHERE `object_type` = 'Certificate';
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
