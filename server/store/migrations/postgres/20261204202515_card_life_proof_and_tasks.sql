-- Modify "cards" table
ALTER TABLE "cards" ADD COLUMN "proof_challenge" bytea NULL, ADD COLUMN "proof_challenge_expires_at" timestamptz NULL, ADD COLUMN "seen_at" timestamptz NULL, ADD COLUMN "replaced_by_id" character varying NULL, ADD CONSTRAINT "cards_cards_replaces" FOREIGN KEY ("replaced_by_id") REFERENCES "cards" ("id") ON UPDATE NO ACTION ON DELETE SET NULL;
-- Create index "card_state_valid_until" to table: "cards"
CREATE INDEX "card_state_valid_until" ON "cards" ("state", "valid_until");
-- Create index "cards_replaced_by_id_key" to table: "cards"
CREATE UNIQUE INDEX "cards_replaced_by_id_key" ON "cards" ("replaced_by_id");
-- Create index "order_user_id_running" to table: "orders"
CREATE UNIQUE INDEX "order_user_id_running" ON "orders" ("user_id") WHERE (finished_at IS NULL);
-- Create "job_leases" table
CREATE TABLE "job_leases" ("id" character varying NOT NULL, "name" character varying NOT NULL, "next_run_at" timestamptz NOT NULL, "holder" character varying NOT NULL DEFAULT '', PRIMARY KEY ("id"));
-- Create index "job_leases_name_key" to table: "job_leases"
CREATE UNIQUE INDEX "job_leases_name_key" ON "job_leases" ("name");
-- Create "notices" table
CREATE TABLE "notices" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "task_id" character varying NOT NULL, "days" bigint NOT NULL, "state" character varying NOT NULL DEFAULT 'PENDING', "attempts" bigint NOT NULL DEFAULT 0, "next_attempt_at" timestamptz NOT NULL, "sent_at" timestamptz NULL, "last_error" character varying NOT NULL DEFAULT '', PRIMARY KEY ("id"));
-- Create index "notice_state_next_attempt_at" to table: "notices"
CREATE INDEX "notice_state_next_attempt_at" ON "notices" ("state", "next_attempt_at");
-- Create index "notice_task_id_days" to table: "notices"
CREATE UNIQUE INDEX "notice_task_id_days" ON "notices" ("task_id", "days");
-- Create "tasks" table
CREATE TABLE "tasks" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "kind" character varying NOT NULL, "state" character varying NOT NULL DEFAULT 'OPEN', "close_reason" character varying NULL, "closed_at" timestamptz NULL, "owner_id" character varying NOT NULL, "card_id" character varying NOT NULL, "card_serial" character varying NOT NULL, "expires_at" timestamptz NOT NULL, PRIMARY KEY ("id"));
-- Create index "task_card_id_expires_at" to table: "tasks"
CREATE UNIQUE INDEX "task_card_id_expires_at" ON "tasks" ("card_id", "expires_at");
-- Create index "task_owner_id_state" to table: "tasks"
CREATE INDEX "task_owner_id_state" ON "tasks" ("owner_id", "state");
-- Create index "task_state" to table: "tasks"
CREATE INDEX "task_state" ON "tasks" ("state");
