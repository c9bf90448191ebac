-- Create index "user_display_name_prefix" to table: "users"
CREATE INDEX "user_display_name_prefix" ON "users" ("display_name" text_pattern_ops);
-- Create index "user_email_prefix" to table: "users"
CREATE INDEX "user_email_prefix" ON "users" ("email" text_pattern_ops);
-- Create index "user_username_prefix" to table: "users"
CREATE INDEX "user_username_prefix" ON "users" ("username" text_pattern_ops);
