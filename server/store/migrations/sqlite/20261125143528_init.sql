-- Create "audit_events" table
CREATE TABLE `audit_events` (`id` text NOT NULL, `at` datetime NOT NULL, `actor` text NOT NULL, `actor_kind` text NOT NULL, `action` text NOT NULL, `object_type` text NOT NULL, `object_id` text NOT NULL, `remote_addr` text NOT NULL DEFAULT (''), `details` json NULL, PRIMARY KEY (`id`));
-- Create index "auditevent_object_type_object_id" to table: "audit_events"
CREATE INDEX `auditevent_object_type_object_id` ON `audit_events` (`object_type`, `object_id`);
-- Create index "auditevent_at" to table: "audit_events"
CREATE INDEX `auditevent_at` ON `audit_events` (`at`);
-- Create "ca_records" table
CREATE TABLE `ca_records` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `serial` text NOT NULL, `reference` text NOT NULL DEFAULT (''), `template` text NOT NULL, `subject` text NOT NULL, `not_before` datetime NOT NULL, `not_after` datetime NOT NULL, `state` text NOT NULL DEFAULT ('PENDING'), `der` blob NULL, `revoked_at` datetime NULL, `revocation_reason` integer NULL, PRIMARY KEY (`id`));
-- Create index "ca_records_serial_key" to table: "ca_records"
CREATE UNIQUE INDEX `ca_records_serial_key` ON `ca_records` (`serial`);
-- Create index "carecord_state" to table: "ca_records"
CREATE INDEX `carecord_state` ON `ca_records` (`state`);
-- Create index "carecord_reference" to table: "ca_records"
CREATE INDEX `carecord_reference` ON `ca_records` (`reference`);
-- Create "cards" table
CREATE TABLE `cards` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `serial` text NOT NULL, `kind` text NOT NULL DEFAULT ('VIRTUAL'), `state` text NOT NULL DEFAULT ('REGISTERED'), `valid_from` datetime NOT NULL, `valid_until` datetime NOT NULL, `properties` json NOT NULL, `device` json NULL, `management_key` blob NOT NULL, `puk` blob NOT NULL, `order_id` text NULL, `owner_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `cards_orders_card` FOREIGN KEY (`order_id`) REFERENCES `orders` (`id`) ON DELETE SET NULL, CONSTRAINT `cards_users_cards` FOREIGN KEY (`owner_id`) REFERENCES `users` (`id`) ON DELETE NO ACTION);
-- Create index "cards_serial_key" to table: "cards"
CREATE UNIQUE INDEX `cards_serial_key` ON `cards` (`serial`);
-- Create index "cards_order_id_key" to table: "cards"
CREATE UNIQUE INDEX `cards_order_id_key` ON `cards` (`order_id`);
-- Create "certificates" table
CREATE TABLE `certificates` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `serial` text NOT NULL, `slot` text NOT NULL, `template` text NOT NULL, `key_algorithm` text NOT NULL, `subject` text NOT NULL, `sans` json NOT NULL, `issuer` text NOT NULL, `not_before` datetime NOT NULL, `not_after` datetime NOT NULL, `state` text NOT NULL DEFAULT ('VALID'), `revocation_reason` text NULL, `revoked_at` datetime NULL, `der` blob NOT NULL, `attestation` blob NULL, `attestation_verified` bool NOT NULL DEFAULT (false), `card_id` text NULL, `order_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `certificates_cards_certificates` FOREIGN KEY (`card_id`) REFERENCES `cards` (`id`) ON DELETE SET NULL, CONSTRAINT `certificates_orders_certificates` FOREIGN KEY (`order_id`) REFERENCES `orders` (`id`) ON DELETE NO ACTION);
-- Create index "certificates_serial_key" to table: "certificates"
CREATE UNIQUE INDEX `certificates_serial_key` ON `certificates` (`serial`);
-- Create index "certificate_order_id_slot" to table: "certificates"
CREATE UNIQUE INDEX `certificate_order_id_slot` ON `certificates` (`order_id`, `slot`);
-- Create "option_scripts" table
CREATE TABLE `option_scripts` (`id` text NOT NULL, `name` text NOT NULL, `version` integer NOT NULL, `source` text NOT NULL, `author` text NOT NULL, `comment` text NOT NULL DEFAULT (''), `created_at` datetime NOT NULL, PRIMARY KEY (`id`));
-- Create index "optionscript_name_version" to table: "option_scripts"
CREATE UNIQUE INDEX `optionscript_name_version` ON `option_scripts` (`name`, `version`);
-- Create "orders" table
CREATE TABLE `orders` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `process` text NOT NULL DEFAULT ('get-virtual-smart-card'), `state` text NOT NULL DEFAULT ('STARTED'), `steps` json NOT NULL, `token_hash` blob NULL, `token_expires_at` datetime NULL, `token_used_at` datetime NULL, `bridge_session_hash` blob NULL, `bridge_session_expires_at` datetime NULL, `options` json NULL, `option_script_version` text NULL, `verification_code` text NOT NULL DEFAULT (''), `failure_reason` text NULL, `expires_at` datetime NOT NULL, `finished_at` datetime NULL, `version` integer NOT NULL DEFAULT (0), `user_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `orders_users_orders` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE NO ACTION);
-- Create index "order_state_expires_at" to table: "orders"
CREATE INDEX `order_state_expires_at` ON `orders` (`state`, `expires_at`);
-- Create index "order_token_hash" to table: "orders"
CREATE INDEX `order_token_hash` ON `orders` (`token_hash`);
-- Create index "order_bridge_session_hash" to table: "orders"
CREATE INDEX `order_bridge_session_hash` ON `orders` (`bridge_session_hash`);
-- Create "sessions" table
CREATE TABLE `sessions` (`id` text NOT NULL, `token_hash` text NOT NULL, `data` blob NOT NULL, `expiry` datetime NOT NULL, PRIMARY KEY (`id`));
-- Create index "sessions_token_hash_key" to table: "sessions"
CREATE UNIQUE INDEX `sessions_token_hash_key` ON `sessions` (`token_hash`);
-- Create index "session_expiry" to table: "sessions"
CREATE INDEX `session_expiry` ON `sessions` (`expiry`);
-- Create "users" table
CREATE TABLE `users` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `oidc_issuer` text NOT NULL, `oidc_subject` text NOT NULL, `username` text NOT NULL, `display_name` text NOT NULL DEFAULT (''), `email` text NOT NULL DEFAULT (''), `state` text NOT NULL DEFAULT ('REGISTERED'), `roles` json NOT NULL, `attributes` json NULL, `last_login_at` datetime NULL, PRIMARY KEY (`id`));
-- Create index "user_oidc_issuer_oidc_subject" to table: "users"
CREATE UNIQUE INDEX `user_oidc_issuer_oidc_subject` ON `users` (`oidc_issuer`, `oidc_subject`);
