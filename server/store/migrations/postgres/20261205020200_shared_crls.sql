-- Create "ca_crls" table
CREATE TABLE "ca_crls" ("id" character varying NOT NULL, "scope" bigint NOT NULL, "changes" bigint NOT NULL DEFAULT 0, "signed_changes" bigint NOT NULL DEFAULT -1, "number" character varying NOT NULL DEFAULT '', "der" bytea NULL, "this_update" timestamptz NULL, "next_update" timestamptz NULL, "holder" character varying NOT NULL DEFAULT '', "lease_until" timestamptz NULL, PRIMARY KEY ("id"));
-- Create index "ca_crls_scope_key" to table: "ca_crls"
CREATE UNIQUE INDEX "ca_crls_scope_key" ON "ca_crls" ("scope");
