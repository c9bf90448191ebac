-- Create "audit_events" table
CREATE TABLE "audit_events" ("id" character varying NOT NULL, "at" timestamptz NOT NULL, "actor" character varying NOT NULL, "actor_kind" character varying NOT NULL, "action" character varying NOT NULL, "object_type" character varying NOT NULL, "object_id" character varying NOT NULL, "remote_addr" character varying NOT NULL DEFAULT '', "details" jsonb NULL, PRIMARY KEY ("id"));
-- Create index "auditevent_at" to table: "audit_events"
CREATE INDEX "auditevent_at" ON "audit_events" ("at");
-- Create index "auditevent_object_type_object_id" to table: "audit_events"
CREATE INDEX "auditevent_object_type_object_id" ON "audit_events" ("object_type", "object_id");
-- Create "ca_records" table
CREATE TABLE "ca_records" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "serial" character varying NOT NULL, "reference" character varying NOT NULL DEFAULT '', "template" character varying NOT NULL, "subject" character varying NOT NULL, "not_before" timestamptz NOT NULL, "not_after" timestamptz NOT NULL, "state" character varying NOT NULL DEFAULT 'PENDING', "der" bytea NULL, "revoked_at" timestamptz NULL, "revocation_reason" bigint NULL, PRIMARY KEY ("id"));
-- Create index "ca_records_serial_key" to table: "ca_records"
CREATE UNIQUE INDEX "ca_records_serial_key" ON "ca_records" ("serial");
-- Create index "carecord_reference" to table: "ca_records"
CREATE INDEX "carecord_reference" ON "ca_records" ("reference");
-- Create index "carecord_state" to table: "ca_records"
CREATE INDEX "carecord_state" ON "ca_records" ("state");
-- Create "option_scripts" table
CREATE TABLE "option_scripts" ("id" character varying NOT NULL, "name" character varying NOT NULL, "version" bigint NOT NULL, "source" text NOT NULL, "author" character varying NOT NULL, "comment" character varying NOT NULL DEFAULT '', "created_at" timestamptz NOT NULL, PRIMARY KEY ("id"));
-- Create index "optionscript_name_version" to table: "option_scripts"
CREATE UNIQUE INDEX "optionscript_name_version" ON "option_scripts" ("name", "version");
-- Create "sessions" table
CREATE TABLE "sessions" ("id" character varying NOT NULL, "token_hash" character varying NOT NULL, "data" bytea NOT NULL, "expiry" timestamptz NOT NULL, PRIMARY KEY ("id"));
-- Create index "session_expiry" to table: "sessions"
CREATE INDEX "session_expiry" ON "sessions" ("expiry");
-- Create index "sessions_token_hash_key" to table: "sessions"
CREATE UNIQUE INDEX "sessions_token_hash_key" ON "sessions" ("token_hash");
-- Create "users" table
CREATE TABLE "users" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "oidc_issuer" character varying NOT NULL, "oidc_subject" character varying NOT NULL, "username" character varying NOT NULL, "display_name" character varying NOT NULL DEFAULT '', "email" character varying NOT NULL DEFAULT '', "state" character varying NOT NULL DEFAULT 'REGISTERED', "roles" jsonb NOT NULL, "attributes" jsonb NULL, "last_login_at" timestamptz NULL, PRIMARY KEY ("id"));
-- Create index "user_oidc_issuer_oidc_subject" to table: "users"
CREATE UNIQUE INDEX "user_oidc_issuer_oidc_subject" ON "users" ("oidc_issuer", "oidc_subject");
-- Create "orders" table
CREATE TABLE "orders" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "process" character varying NOT NULL DEFAULT 'get-virtual-smart-card', "state" character varying NOT NULL DEFAULT 'STARTED', "steps" jsonb NOT NULL, "token_hash" bytea NULL, "token_expires_at" timestamptz NULL, "token_used_at" timestamptz NULL, "bridge_session_hash" bytea NULL, "bridge_session_expires_at" timestamptz NULL, "options" jsonb NULL, "option_script_version" character varying NULL, "verification_code" character varying NOT NULL DEFAULT '', "failure_reason" character varying NULL, "expires_at" timestamptz NOT NULL, "finished_at" timestamptz NULL, "version" bigint NOT NULL DEFAULT 0, "user_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "orders_users_orders" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION);
-- Create index "order_bridge_session_hash" to table: "orders"
CREATE INDEX "order_bridge_session_hash" ON "orders" ("bridge_session_hash");
-- Create index "order_state_expires_at" to table: "orders"
CREATE INDEX "order_state_expires_at" ON "orders" ("state", "expires_at");
-- Create index "order_token_hash" to table: "orders"
CREATE INDEX "order_token_hash" ON "orders" ("token_hash");
-- Create "cards" table
CREATE TABLE "cards" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "serial" character varying NOT NULL, "kind" character varying NOT NULL DEFAULT 'VIRTUAL', "state" character varying NOT NULL DEFAULT 'REGISTERED', "valid_from" timestamptz NOT NULL, "valid_until" timestamptz NOT NULL, "properties" jsonb NOT NULL, "device" jsonb NULL, "management_key" bytea NOT NULL, "puk" bytea NOT NULL, "order_id" character varying NULL, "owner_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "cards_orders_card" FOREIGN KEY ("order_id") REFERENCES "orders" ("id") ON UPDATE NO ACTION ON DELETE SET NULL, CONSTRAINT "cards_users_cards" FOREIGN KEY ("owner_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION);
-- Create index "cards_order_id_key" to table: "cards"
CREATE UNIQUE INDEX "cards_order_id_key" ON "cards" ("order_id");
-- Create index "cards_serial_key" to table: "cards"
CREATE UNIQUE INDEX "cards_serial_key" ON "cards" ("serial");
-- Create "certificates" table
CREATE TABLE "certificates" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "serial" character varying NOT NULL, "slot" character varying NOT NULL, "template" character varying NOT NULL, "key_algorithm" character varying NOT NULL, "subject" character varying NOT NULL, "sans" jsonb NOT NULL, "issuer" character varying NOT NULL, "not_before" timestamptz NOT NULL, "not_after" timestamptz NOT NULL, "state" character varying NOT NULL DEFAULT 'VALID', "revocation_reason" character varying NULL, "revoked_at" timestamptz NULL, "der" bytea NOT NULL, "attestation" bytea NULL, "attestation_verified" boolean NOT NULL DEFAULT false, "card_id" character varying NULL, "order_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "certificates_cards_certificates" FOREIGN KEY ("card_id") REFERENCES "cards" ("id") ON UPDATE NO ACTION ON DELETE SET NULL, CONSTRAINT "certificates_orders_certificates" FOREIGN KEY ("order_id") REFERENCES "orders" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION);
-- Create index "certificate_order_id_slot" to table: "certificates"
CREATE UNIQUE INDEX "certificate_order_id_slot" ON "certificates" ("order_id", "slot");
-- Create index "certificates_serial_key" to table: "certificates"
CREATE UNIQUE INDEX "certificates_serial_key" ON "certificates" ("serial");
