-- Modify "sessions" table
ALTER TABLE "sessions" ADD COLUMN "user_id" character varying NOT NULL DEFAULT '';
-- Create index "session_user_id" to table: "sessions"
CREATE INDEX "session_user_id" ON "sessions" ("user_id");
