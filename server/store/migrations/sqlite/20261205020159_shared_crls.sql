-- Create "ca_crls" table
CREATE TABLE `ca_crls` (`id` text NOT NULL, `scope` integer NOT NULL, `changes` integer NOT NULL DEFAULT (0), `signed_changes` integer NOT NULL DEFAULT (-1), `number` text NOT NULL DEFAULT (''), `der` blob NULL, `this_update` datetime NULL, `next_update` datetime NULL, `holder` text NOT NULL DEFAULT (''), `lease_until` datetime NULL, PRIMARY KEY (`id`));
-- Create index "ca_crls_scope_key" to table: "ca_crls"
CREATE UNIQUE INDEX `ca_crls_scope_key` ON `ca_crls` (`scope`);
